"""Actor documents, their collections, and the inboxes (per actor and shared)."""

import re
from urllib.parse import urlsplit

from aiohttp import web
from sqlalchemy import func, select

from federation import inbox
from federation.authenticate import authenticate, require_actor
from federation.errors import FederationError
from federation.httpsig import RequestView
from federation.inbox_writer import InboxUnavailable
from federation.models import Follower, Following, LocalActor, OutboxItem, RemoteActor
from federation.vocab import ActorProfile, actor_document, object_id, ordered_collection
from server.appkeys import instance_key
from server.events import event
from server.http_errors import json_error, json_exception
from server.instance import Instance
from server.storable import is_storable
from server.views.negotiation import activitypub_response, wants_activitypub
from server.web.creator_pages import creator_flattr_url, creator_page

OUTBOX_PAGE = 20
#: The key a refused request named, for the log line: bounded, it is the sender's text.
KEY_ID = re.compile(r'keyId="([^"]{1,300})"')


async def _local_actor(instance: Instance, username: str) -> LocalActor:
    """The actor a path names; a name no database can store is as unknown as any other, not a database error."""
    actor = None
    if is_storable(username):
        async with instance.sessions() as session:
            actor = await session.scalar(select(LocalActor).where(LocalActor.username == username))
    if actor is None:
        raise json_exception(web.HTTPNotFound, "not_found", f"No actor {username} here.")
    return actor


async def actor(request: web.Request) -> web.StreamResponse:
    """The actor document for fediverse servers; a browser asking for HTML gets the creator's page."""
    if not wants_activitypub(request):
        page = await creator_page(request)
        page.headers["Vary"] = "Accept"
        return page
    instance = request.app[instance_key]
    row = await _local_actor(instance, request.match_info["username"])
    payment = creator_flattr_url(instance.urls, row.username) if row.kind == "Person" else None
    profile = ActorProfile(row.username, row.kind, row.display_name, row.public_key_pem, row.also_known_as,
                           payment_page=payment)
    return activitypub_response(request, actor_document(instance.urls, profile))


async def followers(request: web.Request) -> web.Response:
    instance = request.app[instance_key]
    username = (await _local_actor(instance, request.match_info["username"])).username
    async with instance.sessions() as session:
        total = await session.scalar(select(func.count()).where(Follower.local_username == username))
    return activitypub_response(request, ordered_collection(instance.urls.followers(username), int(total or 0)))


async def following(request: web.Request) -> web.Response:
    instance = request.app[instance_key]
    username = (await _local_actor(instance, request.match_info["username"])).username
    async with instance.sessions() as session:
        total = await session.scalar(select(func.count()).where(
            Following.local_username == username, Following.accepted.is_(True)))
    return activitypub_response(request, ordered_collection(instance.urls.following(username), int(total or 0)))


async def outbox(request: web.Request) -> web.Response:
    """The public activities of an actor, newest first (first page only)."""
    instance = request.app[instance_key]
    username = (await _local_actor(instance, request.match_info["username"])).username
    public = (OutboxItem.actor_username == username, OutboxItem.public.is_(True))
    async with instance.sessions() as session:
        total = await session.scalar(select(func.count()).where(*public))
        items = list(await session.scalars(
            select(OutboxItem.activity).where(*public).order_by(OutboxItem.id.desc()).limit(OUTBOX_PAGE)))
    return activitypub_response(request, ordered_collection(instance.urls.outbox(username), int(total or 0), items))


async def post_inbox(request: web.Request) -> web.Response:
    """Verify, store (committed with the other requests of its batch), answer 202: nothing else happens before.

    Each outcome is counted, and each refusal logged as an `inbox_refused` event with its reason.
    """
    instance = request.app[instance_key]
    try:
        response = await _post_inbox(request, instance)
    except FederationError as exc:
        _refused(instance, request, exc.code)
        raise
    except web.HTTPException as exc:
        _refused(instance, request, exc.reason.lower().replace(" ", "_"))
        raise
    if response.status == 202:
        instance.metrics.stored()
    else:
        _refused(instance, request, "domain_blocked" if response.status == 403 else "inbox_unavailable")
    return response


def _refused(instance: Instance, request: web.Request, reason: str) -> None:
    instance.metrics.refused(reason)
    key = KEY_ID.search(request.headers.get("Signature", ""))
    event("inbox_refused", reason=reason, path=request.path, remote=request.remote, key_id=key[1] if key else "")


async def _post_inbox(request: web.Request, instance: Instance) -> web.Response:
    if "username" in request.match_info:
        await _local_actor(instance, request.match_info["username"])
    body = await _read_capped(request, instance.settings.federation.inbox_max_bytes)
    incoming = inbox.parse_activity(body)
    if await instance.blocks.is_blocked(urlsplit(incoming.actor).netloc):
        return json_error(403, "domain_blocked", "This instance does not accept activities from your domain.")
    if await _is_unknown_actor_deleting_itself(instance, incoming):
        return web.json_response({"status": "ignored"}, status=202)
    view = RequestView(method=request.method, scheme=instance.settings.scheme, authority=request.host,
                       path=request.rel_url.raw_path, query=request.rel_url.raw_query_string,
                       headers=request.headers, body=body)
    signer = await authenticate(view, actors=instance.actors, now=instance.clock(), local_host=instance.urls.host)
    require_actor(signer, incoming.actor)
    try:
        await instance.inbox_writer.store(incoming, instance.clock())
    except InboxUnavailable as exc:
        return _unavailable(exc)
    return web.json_response({"status": "accepted"}, status=202)


async def _is_unknown_actor_deleting_itself(instance: Instance, incoming: inbox.Incoming) -> bool:
    """Nothing to forget, and its key is gone with it: Mastodon answers 202 without fetching too."""
    if incoming.kind != "Delete" or object_id(incoming.activity.get("object")) != incoming.actor:
        return False
    async with instance.sessions() as session:
        return await session.scalar(select(RemoteActor.id).where(RemoteActor.uri == incoming.actor)) is None


async def _read_capped(request: web.Request, limit: int) -> bytes:
    """Refuse oversized bodies before reading them whole, declared or streamed."""
    if request.content_length is not None and request.content_length > limit:
        raise _too_large(limit)
    if request.content_length is not None:
        return await request.read()
    chunks, size = [], 0
    async for chunk in request.content.iter_chunked(65536):
        size += len(chunk)
        if size > limit:
            raise _too_large(limit)
        chunks.append(chunk)
    return b"".join(chunks)


def _unavailable(exc: InboxUnavailable) -> web.Response:
    """Not stored, so not accepted: a 503 makes the peer retry later, as it does for a server that is down."""
    response = json_error(503, exc.code, exc.safe_message)
    response.headers["Retry-After"] = "10"
    return response


def _too_large(limit: int) -> web.HTTPException:
    return json_exception(web.HTTPRequestEntityTooLarge, "too_large", f"Inbox bodies are limited to {limit} bytes.",
                          max_size=limit, actual_size=limit + 1)


def routes() -> list[web.RouteDef]:
    return [
        web.get("/users/{username}", actor),
        web.get("/users/{username}/followers", followers),
        web.get("/users/{username}/following", following),
        web.get("/users/{username}/outbox", outbox),
        web.post("/users/{username}/inbox", post_inbox),
        web.post("/inbox", post_inbox),
    ]

