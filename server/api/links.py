"""Linking Mastodon accounts: a one-time code to send the bot, the links made, and unlinking."""

from aiohttp import web

from server import link_settings
from server.api.auth import current_user
from server.api.bodies import bool_field, int_path, json_object
from server.appkeys import instance_key
from server.bot import codes, links
from server.link_settings import bot_handle
from server.models import LinkedAccount
from server.refusal import Kind, Refusal


def link(row: LinkedAccount) -> dict[str, object]:
    return {"id": row.id, "actor": row.actor_uri, "linked_at": row.linked_at.isoformat(),
            "auto_flattr_boosts": row.auto_flattr_boosts}


async def post_code(request: web.Request) -> web.Response:
    instance = request.app[instance_key]
    user = await current_user(request)
    async with instance.sessions() as session, session.begin():
        issued = await codes.issue_for_api(session, user.username, now=instance.clock(),
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
    instance = request.app[instance_key]
    user = await current_user(request)
    row = await link_settings.unlink(instance, user.username, int_path(request, "id"))
    return web.json_response({**link(row), "unlinked": True})


async def patch_link(request: web.Request) -> web.Response:
    """Turn auto-flattr of the account's boosts on (the bot follows it) or off (the bot unfollows it)."""
    instance = request.app[instance_key]
    user = await current_user(request)
    link_id = int_path(request, "id")
    body = await json_object(request)
    unknown = set(body) - {"auto_flattr_boosts"}
    if unknown:
        raise Refusal(Kind.INVALID, "unknown_field", f"Unknown settings: {', '.join(sorted(unknown))}.")
    enabled = bool_field(body, "auto_flattr_boosts")
    if enabled is None:
        return web.json_response(link(await link_settings.owned(instance, user.username, link_id)))
    return web.json_response(link(await link_settings.set_auto_flattr_boosts(instance, user.username, link_id,
                                                                             enabled)))


def routes() -> list[web.RouteDef]:
    return [
        web.post("/api/v1/links/codes", post_code),
        web.get("/api/v1/links", list_links),
        web.patch("/api/v1/links/{id}", patch_link),
        web.delete("/api/v1/links/{id}", delete_link),
    ]
