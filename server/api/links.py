"""Linking Mastodon accounts: a one-time code to send the bot, the links made, and unlinking."""

from aiohttp import web
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from federation.errors import FederationError
from server.api.auth import current_user
from server.api.bodies import bool_field, int_path, json_object
from server.appkeys import instance_key
from server.bot import boosts, codes, links, replies
from server.errors import ApiError
from server.instance import Instance
from server.models import LinkedAccount


def bot_handle(instance: Instance) -> str:
    return f"@{instance.settings.instance.bot_username}@{instance.urls.host}"


def link(row: LinkedAccount) -> dict[str, object]:
    return {"id": row.id, "actor": row.actor_uri, "linked_at": row.linked_at.isoformat(),
            "auto_flattr_boosts": row.auto_flattr_boosts}


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
            await boosts.stop_following(session, instance.urls, instance.settings.instance.bot_username,
                                        row.actor_uri, inbox=recipient.inbox, now=instance.now())
            await replies.send(session, instance.urls, instance.settings.instance.bot_username, recipient,
                               replies.unlinked_here(f"{user.username}@{instance.urls.host}"), in_reply_to=None,
                               now=instance.now())
    instance.delivery.wakeup.set()
    return web.json_response({**link(row), "unlinked": True})


async def patch_link(request: web.Request) -> web.Response:
    """Turn auto-flattr of the account's boosts on (the bot follows it) or off (the bot unfollows it)."""
    instance = request.app[instance_key]
    user = await current_user(request)
    link_id = int_path(request, "id")
    body = await json_object(request)
    unknown = set(body) - {"auto_flattr_boosts"}
    if unknown:
        raise ApiError(400, "unknown_field", f"Unknown settings: {', '.join(sorted(unknown))}.")
    enabled = bool_field(body, "auto_flattr_boosts")
    async with instance.sessions() as session:
        row = await _owned(session, user.username, link_id)
    if enabled is None:
        return web.json_response(link(row))
    inbox = await _inbox_of(instance, row.actor_uri)
    async with instance.sessions() as session, session.begin():
        row = await _owned(session, user.username, link_id)
        await boosts.set_auto_flattr(session, instance.urls, instance.settings.instance.bot_username, row,
                                     enabled=enabled, inbox=inbox, now=instance.now())
    instance.delivery.wakeup.set()
    return web.json_response(link(row))


async def _owned(session: AsyncSession, username: str, link_id: int) -> LinkedAccount:
    row = await session.scalar(select(LinkedAccount).where(
        LinkedAccount.id == link_id, LinkedAccount.username == username))
    if row is None:
        raise ApiError(404, "not_found", f"You have no linked account {link_id}.")
    return row


async def _inbox_of(instance: Instance, actor_uri: str) -> str:
    """Fetched before the transaction: the account's server may be slow or down."""
    try:
        return (await instance.actors.actor(actor_uri)).inbox
    except FederationError as exc:
        raise ApiError(502, exc.code, f"Could not reach {actor_uri}: {exc.safe_message}") from exc


def routes() -> list[web.RouteDef]:
    return [
        web.post("/api/v1/links/codes", post_code),
        web.get("/api/v1/links", list_links),
        web.patch("/api/v1/links/{id}", patch_link),
        web.delete("/api/v1/links/{id}", delete_link),
    ]
