"""Linking Mastodon accounts: a one-time code to send the bot, the links made, and unlinking."""

from aiohttp import web

from server.api.auth import current_user
from server.api.bodies import int_path
from server.appkeys import instance_key
from server.bot import codes, links, replies
from server.errors import ApiError
from server.instance import Instance
from server.models import LinkedAccount


def bot_handle(instance: Instance) -> str:
    return f"@{instance.settings.instance.bot_username}@{instance.urls.host}"


def link(row: LinkedAccount) -> dict[str, object]:
    return {"id": row.id, "actor": row.actor_uri, "linked_at": row.linked_at.isoformat()}


async def post_code(request: web.Request) -> web.Response:
    instance = request.app[instance_key]
    user = await current_user(request)
    async with instance.sessions() as session, session.begin():
        issued = await codes.issue_for_api(session, user.username, now=instance.now(),
                                           minutes=instance.settings.instance.link_code_minutes,
                                           bot_handle=bot_handle(instance))
    return web.json_response(issued, status=201)


async def list_links(request: web.Request) -> web.Response:
    instance = request.app[instance_key]
    user = await current_user(request)
    async with instance.sessions() as session:
        rows = await links.of_user(session, user.username)
    return web.json_response({"links": [link(row) for row in rows]})


async def delete_link(request: web.Request) -> web.Response:
    """Unlink and tell the account, so its owner is not left mentioning a bot that ignores them."""
    instance = request.app[instance_key]
    user = await current_user(request)
    link_id = int_path(request, "id")
    async with instance.sessions() as session, session.begin():
        row = await links.unlink_for_user(session, username=user.username, link_id=link_id)
        if row is None:
            raise ApiError(404, "not_found", f"You have no linked account {link_id}.")
        recipient = await replies.recipient(session, row.actor_uri)
        if recipient is not None:
            await replies.send(session, instance.urls, instance.settings.instance.bot_username, recipient,
                               replies.unlinked_here(f"{user.username}@{instance.urls.host}"), in_reply_to=None,
                               now=instance.now())
    instance.delivery.wakeup.set()
    return web.json_response({**link(row), "unlinked": True})


def routes() -> list[web.RouteDef]:
    return [
        web.post("/api/v1/links/codes", post_code),
        web.get("/api/v1/links", list_links),
        web.delete("/api/v1/links/{id}", delete_link),
    ]
