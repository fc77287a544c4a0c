"""WebFinger, host-meta, NodeInfo: how the fediverse finds this instance and its actors."""

import json
from collections.abc import Callable

from aiohttp import web
from sqlalchemy import select

from federation import wellknown
from federation.intents import flattr_intent_link
from federation.models import LocalActor
from server.accounts import INSTANCE_ACTOR, count_users
from server.appkeys import instance_key
from server.http_errors import json_error
from server.instance import VERSION, Instance
from server.storable import is_storable

JRD = "application/jrd+json"


async def webfinger(request: web.Request) -> web.Response:
    instance = request.app[instance_key]
    resource = request.query.get("resource", "")
    username = _username_for(resource, instance.urls.host, instance.urls.username_of)
    if username is None:
        return json_error(400, "bad_resource", "resource must be acct:name@this-host or an actor URL of this host.")
    if not await _is_local_actor(instance, username):
        return json_error(404, "not_found", f"No account {username!r} here.")
    subject = f"acct:{username}@{instance.urls.host}"
    actor = instance.urls.actor(username)
    document = wellknown.webfinger(subject, actor, actor, [flattr_intent_link(instance.settings.base_url)])
    return web.json_response(document, content_type=JRD, headers={"Access-Control-Allow-Origin": "*"})


async def _is_local_actor(instance: Instance, username: str) -> bool:
    """A name no database can store names no actor: the same 404 as any unknown name, not a database error."""
    if not is_storable(username):
        return False
    async with instance.sessions() as session:
        return await session.scalar(select(LocalActor.id).where(LocalActor.username == username)) is not None


def _username_for(resource: str, host: str, username_of: Callable[[str], str | None]) -> str | None:
    if resource.startswith(("http://", "https://")):
        return username_of(resource)
    parsed = wellknown.parse_acct(resource)
    if parsed is None or parsed[1] != host:
        return None
    name = parsed[0]
    return INSTANCE_ACTOR if name == host.split(":")[0] else name


async def host_meta(request: web.Request) -> web.Response:
    base = request.app[instance_key].settings.base_url
    if "json" in request.headers.get("Accept", "") or request.path.endswith(".json"):
        return web.json_response(wellknown.host_meta_json(base), content_type=JRD)
    return web.Response(text=wellknown.host_meta_xml(base), content_type="application/xrd+xml")


async def nodeinfo_links(request: web.Request) -> web.Response:
    return web.json_response(wellknown.nodeinfo_links(request.app[instance_key].settings.base_url))


async def nodeinfo(request: web.Request) -> web.Response:
    instance = request.app[instance_key]
    async with instance.sessions() as session:
        users = await count_users(session)
    metadata = {
        "nodeName": instance.settings.instance.name,
        "mecene": {"protocol": 1, "currency": instance.settings.instance.currency,
                   "acceptedCurrencies": list(instance.settings.instance.accepted_currencies),
                   "bot": f"acct:{instance.settings.instance.bot_username}@{instance.urls.host}",
                   "instanceActor": instance.urls.actor(INSTANCE_ACTOR)},
    }
    document = wellknown.nodeinfo(version=VERSION, users=users, metadata=metadata,
                                  open_registrations=instance.settings.instance.open_registrations)
    profile = f'application/json; profile="{wellknown.NODEINFO_21_PROFILE}"'
    return web.Response(text=json.dumps(document), headers={"Content-Type": profile})


def routes() -> list[web.RouteDef]:
    return [
        web.get("/.well-known/webfinger", webfinger),
        web.get("/.well-known/host-meta", host_meta),
        web.get("/.well-known/host-meta.json", host_meta),
        web.get("/.well-known/nodeinfo", nodeinfo_links),
        web.get("/nodeinfo/2.1", nodeinfo),
    ]
