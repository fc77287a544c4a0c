"""A plain ActivityPub server: Mastodon's document shapes, and nothing of Mecene.

Mecene must work with servers that have never heard of it. This peer stands in for Mastodon on
loopback, in the tests and in `mecene demo`: it serves WebFinger, actors and notes, checks
signatures with the project's own verifier, and records what its inboxes receive without acting
on it. Its documents are written out here rather than built with `federation.vocab`, so a mistake
there cannot hide in both sides. Started with `software`, it serves a NodeInfo naming it (and
nothing of Mecene); with `refuses_unknown_types`, it answers `400 Invalid activity.` to an
activity it cannot parse, as Fedify does, where Mastodon stores and ignores it.
"""

import html
import itertools
import json
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Self

import aiohttp
from aiohttp import web
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey

from federation.httpsig import (
    RequestView,
    SignatureError,
    dump_public_key,
    generate_private_key,
    load_public_key,
    parse_signature,
    sign_cavage,
    verify_claim,
)
from server.demo.ports import free_port

AS_CONTEXT = "https://www.w3.org/ns/activitystreams"
AS_PUBLIC = f"{AS_CONTEXT}#Public"
AP_JSON = "application/activity+json"
NODEINFO_21 = "http://nodeinfo.diaspora.software/ns/schema/2.1"
#: The ActivityStreams 2.0 activity types: what a server that parses activities into its own classes can read.
ACTIVITY_TYPES = frozenset({
    "Accept", "Add", "Announce", "Arrive", "Block", "Create", "Delete", "Dislike", "Flag", "Follow", "Ignore",
    "Invite", "Join", "Leave", "Like", "Listen", "Move", "Offer", "Question", "Read", "Reject", "Remove",
    "TentativeAccept", "TentativeReject", "Travel", "Undo", "Update", "View",
})
_PERSON_CONTEXT = [AS_CONTEXT, "https://w3id.org/security/v1", {
    "manuallyApprovesFollowers": "as:manuallyApprovesFollowers",
    "toot": "http://joinmastodon.org/ns#",
    "discoverable": "toot:discoverable",
    "indexable": "toot:indexable",
}]
NOTE_CONTEXT = [AS_CONTEXT, {
    "ostatus": "http://ostatus.org#",
    "atomUri": "ostatus:atomUri",
    "inReplyToAtomUri": "ostatus:inReplyToAtomUri",
    "conversation": "ostatus:conversation",
    "sensitive": "as:sensitive",
    "toot": "http://joinmastodon.org/ns#",
}]


@dataclass(frozen=True)
class PeerNote:
    """`id` is the ActivityPub id; `url` is the page Mastodon shows people, a different URL."""

    id: str
    url: str
    author: str
    content: str
    published: datetime


@dataclass(frozen=True)
class Received:
    """One POST to an inbox; `verified`: signed by its actor and taken, else `reason` is the refusal's code."""

    activity: dict[str, Any]
    verified: bool
    inbox: str
    reason: str | None


class _Refused(Exception):
    """A signed request turned down: `code` is what tests assert on, the message goes to the sender."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


class PlainPeer:
    """Create with `await PlainPeer.start()`; close with `await peer.close()` or `async with`."""

    def __init__(self, port: int, authorized_fetch: bool, software: str | None = None,
                 refuses_unknown_types: bool = False) -> None:
        self.port = port
        self.authorized_fetch = authorized_fetch
        self.software = software
        self.refuses_unknown_types = refuses_unknown_types
        self.received: list[Received] = []
        self.signed_fetches: list[str] = []
        #: How many times each account's actor document was served: what a polling peer costs this server.
        self.actor_fetches: Counter[str] = Counter()
        #: Extra fields of an account's actor document by name, e.g. `alsoKnownAs` or PropertyValue `attachment`.
        self.profiles: dict[str, dict[str, Any]] = {}
        #: What the peer's clock reads when signing and checking Dates; a test shares its instance's clock here.
        self.clock: Callable[[], datetime] = lambda: datetime.now(UTC)
        self._keys: dict[str, RSAPrivateKey] = {}
        self._notes: dict[tuple[str, int], PeerNote] = {}
        # Mastodon's snowflake shape: a millisecond timestamp shifted 16 bits, so ids are long and increasing.
        self._ids = itertools.count((time.time_ns() // 1_000_000) << 16)
        self._http = aiohttp.ClientSession()
        app = web.Application()
        app.router.add_get("/.well-known/webfinger", self._webfinger)
        app.router.add_get("/.well-known/nodeinfo", self._nodeinfo_links)
        app.router.add_get("/nodeinfo/2.1", self._nodeinfo)
        app.router.add_get("/users/{name}", self._actor)
        app.router.add_get(r"/users/{name}/statuses/{n:\d+}", self._status)
        app.router.add_get(r"/@{name}/{n:\d+}", self._status_page)
        app.router.add_post("/users/{name}/inbox", self._inbox)
        app.router.add_post("/inbox", self._inbox)
        self._runner = web.AppRunner(app, access_log=None)

    @classmethod
    async def start(cls, authorized_fetch: bool = False, software: str | None = None,
                    refuses_unknown_types: bool = False) -> Self:
        """`authorized_fetch` is Mastodon's secure mode: notes are only served to signed requests.

        `software` is the name its NodeInfo gives (None: no NodeInfo, a server of unknown software);
        `refuses_unknown_types` answers `400 Invalid activity.` to an activity it cannot parse, as Fedify does.
        """
        peer = cls(free_port(), authorized_fetch, software, refuses_unknown_types)
        await peer._runner.setup()
        await web.TCPSite(peer._runner, "127.0.0.1", peer.port).start()
        return peer

    async def close(self) -> None:
        await self._runner.cleanup()
        await self._http.close()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    def actor_uri(self, name: str) -> str:
        return f"{self.base_url}/users/{name}"

    def add_account(self, name: str) -> str:
        """Returns the actor URI."""
        self._keys[name] = generate_private_key()
        return self.actor_uri(name)

    def add_note(self, name: str, content: str) -> PeerNote:
        """`content` is HTML, as Mastodon stores a status once rendered."""
        if name not in self._keys:
            raise KeyError(f"no account {name!r}")
        n = next(self._ids)
        note = PeerNote(f"{self.actor_uri(name)}/statuses/{n}", f"{self.base_url}/@{name}/{n}", self.actor_uri(name),
                        content, datetime.now(UTC).replace(microsecond=0))
        self._notes[name, n] = note
        return note

    def activities(self, kind: str) -> list[dict[str, Any]]:
        """The verified activities of type `kind`, in arrival order."""
        return [r.activity for r in self.received if r.verified and r.activity.get("type") == kind]

    def refused(self, reason: str) -> list[dict[str, Any]]:
        """The activities turned down for `reason` (a signature's code, or `invalid_activity`), in arrival order."""
        return [r.activity for r in self.received if not r.verified and r.reason == reason]

    async def deliver(self, name: str, inbox_url: str, activity: dict[str, Any]) -> int:
        """POST `activity` signed as account `name`, the way Mastodon signs; returns the HTTP status."""
        body = json.dumps(activity).encode()
        headers = sign_cavage(method="POST", url=inbox_url, key_id=f"{self.actor_uri(name)}#main-key",
                              private_key=self._keys[name], now=self.clock(), body=body)
        async with self._http.post(inbox_url, data=body, headers=headers) as resp:
            return resp.status

    async def _webfinger(self, request: web.Request) -> web.Response:
        resource = request.query.get("resource", "")
        name, _, host = resource.removeprefix("acct:").partition("@")
        if not resource.startswith("acct:") or host != self.host or name not in self._keys:
            raise web.HTTPNotFound()
        actor, profile = self.actor_uri(name), f"{self.base_url}/@{name}"
        return web.json_response({
            "subject": resource,
            "aliases": [profile, actor],
            "links": [
                {"rel": "http://webfinger.net/rel/profile-page", "type": "text/html", "href": profile},
                {"rel": "self", "type": AP_JSON, "href": actor},
            ],
        }, content_type="application/jrd+json")

    async def _nodeinfo_links(self, request: web.Request) -> web.Response:
        """Where its NodeInfo is, when it has one: what Mecene reads to learn whether a server speaks Mecene."""
        if self.software is None:
            raise web.HTTPNotFound()
        return web.json_response({"links": [{"rel": NODEINFO_21, "href": f"{self.base_url}/nodeinfo/2.1"}]})

    async def _nodeinfo(self, request: web.Request) -> web.Response:
        """What a fediverse server says of itself: its software, and no `metadata.mecene`."""
        if self.software is None:
            raise web.HTTPNotFound()
        return web.json_response({
            "version": "2.1",
            "software": {"name": self.software, "version": "1.0.0"},
            "protocols": ["activitypub"],
            "services": {"inbound": [], "outbound": []},
            "openRegistrations": False,
            "usage": {"users": {"total": len(self._keys)}, "localPosts": len(self._notes)},
            "metadata": {},
        }, content_type=f'application/json; profile="{NODEINFO_21}#"')

    async def _actor(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        if name not in self._keys:
            raise web.HTTPNotFound()
        self.actor_fetches[name] += 1
        actor = self.actor_uri(name)
        return _activity_json({
            "@context": _PERSON_CONTEXT,
            "id": actor,
            "type": "Person",
            "following": f"{actor}/following",
            "followers": f"{actor}/followers",
            "inbox": f"{actor}/inbox",
            "outbox": f"{actor}/outbox",
            "preferredUsername": name,
            "name": name,
            "summary": "",
            "url": f"{self.base_url}/@{name}",
            "manuallyApprovesFollowers": False,
            "discoverable": True,
            "indexable": True,
            "publicKey": {
                "id": f"{actor}#main-key",
                "owner": actor,
                "publicKeyPem": dump_public_key(self._keys[name].public_key()),
            },
            "tag": [],
            "attachment": [],
            "endpoints": {"sharedInbox": f"{self.base_url}/inbox"},
            **self.profiles.get(name, {}),
        })

    async def _status(self, request: web.Request) -> web.Response:
        """Mastodon sends a browser on the ActivityPub id to the page people read."""
        note = self._note(request)
        if not _wants_activitypub(request):
            raise web.HTTPFound(note.url)
        return await self._serve_note(request, note)

    async def _status_page(self, request: web.Request) -> web.Response:
        """The HTML URL answers ActivityPub clients too, with the document whose id is the other URL."""
        note = self._note(request)
        if _wants_activitypub(request):
            return await self._serve_note(request, note)
        return web.Response(content_type="text/html", text=(
            '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            f'<link href="{html.escape(note.id)}" rel="alternate" type="{AP_JSON}">'
            f"</head><body>{note.content}</body></html>"))

    def _note(self, request: web.Request) -> PeerNote:
        note = self._notes.get((request.match_info["name"], int(request.match_info["n"])))
        if note is None:
            raise web.HTTPNotFound()
        return note

    async def _serve_note(self, request: web.Request, note: PeerNote) -> web.Response:
        if self.authorized_fetch:
            try:
                _, key_id = await self._authenticate(request, b"")
            except _Refused as exc:
                return _refusal(exc)
            self.signed_fetches.append(key_id)
        return _activity_json({
            "@context": NOTE_CONTEXT,
            "id": note.id,
            "type": "Note",
            "summary": None,
            "inReplyTo": None,
            "published": note.published.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "url": note.url,
            "attributedTo": note.author,
            "to": [AS_PUBLIC],
            "cc": [f"{note.author}/followers"],
            "sensitive": False,
            "atomUri": note.id,
            "inReplyToAtomUri": None,
            "content": note.content,
            "attachment": [],
            "tag": [],
        })

    async def _inbox(self, request: web.Request) -> web.Response:
        """Store whatever arrives; the activity's actor must be the signing key's owner."""
        name = request.match_info.get("name")
        if name is not None and name not in self._keys:
            raise web.HTTPNotFound()
        body = await request.read()
        activity = _json_object(body)
        try:
            owner, _ = await self._authenticate(request, body)
            if activity.get("actor") != owner:
                raise _Refused("actor_mismatch", "The signer and the actor do not match.")
        except _Refused as exc:
            self.received.append(Received(activity, False, request.path, exc.code))
            return _refusal(exc)
        if self.refuses_unknown_types and not _parsable(activity):
            self.received.append(Received(activity, False, request.path, "invalid_activity"))
            return web.Response(status=400, text="Invalid activity.")
        self.received.append(Received(activity, True, request.path, None))
        return web.Response(status=202)

    async def _authenticate(self, request: web.Request, body: bytes) -> tuple[str, str]:
        """Returns the key's owner and key id; the Digest is checked against `body` by the parser."""
        view = RequestView(method=request.method, scheme="http", authority=request.host,
                           path=request.rel_url.raw_path, query=request.rel_url.raw_query_string,
                           headers=request.headers, body=body)
        try:
            claim = parse_signature(view, now=self.clock())
        except SignatureError as exc:
            raise _Refused(exc.code, exc.safe_message) from exc
        owner, public_key = await self._fetch_key(claim.key_id)
        if not verify_claim(claim, public_key):
            raise _Refused("invalid_signature", "The signature does not verify.")
        return owner, claim.key_id

    async def _fetch_key(self, key_id: str) -> tuple[str, object]:
        """The key must be published in its owner's own document, or anyone could claim any owner."""
        try:
            async with self._http.get(key_id.partition("#")[0], headers={"Accept": AP_JSON}) as resp:
                resp.raise_for_status()
                actor = await resp.json(content_type=None)
            key = actor["publicKey"]
            owner, public_key = key["owner"], load_public_key(key["publicKeyPem"])
        except (aiohttp.ClientError, ValueError, KeyError, TypeError) as exc:
            raise _Refused("key_unavailable", "The signing key could not be fetched.") from exc
        if key.get("id") != key_id or owner != actor.get("id"):
            raise _Refused("key_mismatch", "The key is not published by its owner.")
        return owner, public_key


def _parsable(activity: dict[str, Any]) -> bool:
    """An ActivityStreams activity, and for an `Undo` the activity it embeds: what Fedify's classes can read."""
    if activity.get("type") not in ACTIVITY_TYPES:
        return False
    inner = activity.get("object")
    return activity.get("type") != "Undo" or not isinstance(inner, dict) or inner.get("type") in ACTIVITY_TYPES


def _wants_activitypub(request: web.Request) -> bool:
    accept = request.headers.get("Accept", "")
    return AP_JSON in accept or "application/ld+json" in accept


def _activity_json(document: dict[str, Any]) -> web.Response:
    """Mastodon's exact content type, charset included, which strict clients must still accept."""
    return web.Response(text=json.dumps(document), content_type=AP_JSON, charset="utf-8")


def _refusal(exc: _Refused) -> web.Response:
    return web.json_response({"error": exc.code, "reason": str(exc)}, status=401)


def _json_object(body: bytes) -> dict[str, Any]:
    """Anything but a JSON object is recorded as {}; it then fails the actor check."""
    try:
        document = json.loads(body)
    except ValueError:
        return {}
    return document if isinstance(document, dict) else {}
