"""The plain peer looks like Mastodon over real HTTP, and it and Mecene accept each other's signatures.

Started in its Fedify mode, it names its software in NodeInfo and refuses the types it cannot parse.
"""

import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from federation import flattr_vocab
from federation.client import AP_ACCEPT
from federation.errors import FederationError
from federation.httpsig import generate_private_key, sign_cavage
from federation.outbox import new_activity_id, publish
from federation.vocab import activity
from federation_harness import Federation, Node, eventually
from plain_peer import AS_PUBLIC, PlainPeer
from server.accounts import create_user


@pytest.fixture
async def peer() -> AsyncIterator[PlainPeer]:
    async with await PlainPeer.start() as running:
        yield running


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


async def add_user(node: Node, name: str) -> str:
    async with node.live.sessions() as session, session.begin():
        await create_user(session, name, bot_username="flattr", now=node.live.clock())
    return node.live.urls.actor(name)


async def test_webfinger_finds_the_account(peer: PlainPeer, http: aiohttp.ClientSession) -> None:
    actor = peer.add_account("kde")
    url = f"{peer.base_url}/.well-known/webfinger"
    async with http.get(url, params={"resource": f"acct:kde@{peer.host}"}) as resp:
        assert resp.status == 200
        jrd = await resp.json(content_type="application/jrd+json")
    assert jrd["subject"] == f"acct:kde@{peer.host}"
    assert actor in jrd["aliases"]
    [self_link] = [link for link in jrd["links"] if link["rel"] == "self"]
    assert self_link == {"rel": "self", "type": "application/activity+json", "href": actor}
    async with http.get(self_link["href"], headers={"Accept": AP_ACCEPT}) as resp:
        assert resp.headers["Content-Type"] == "application/activity+json; charset=utf-8"
        person = await resp.json(content_type=None)
    assert person["type"] == "Person" and person["id"] == actor and person["inbox"] == f"{actor}/inbox"
    assert person["publicKey"]["id"] == f"{actor}#main-key" and person["publicKey"]["owner"] == actor
    assert person["endpoints"]["sharedInbox"] == f"{peer.base_url}/inbox"
    async with http.get(url, params={"resource": f"acct:nobody@{peer.host}"}) as resp:
        assert resp.status == 404


async def test_activitypub_fetch_returns_the_note(peer: PlainPeer, http: aiohttp.ClientSession) -> None:
    actor = peer.add_account("kde")
    note = peer.add_note("kde", "<p>We need funding</p>")
    async with http.get(note.id, headers={"Accept": AP_ACCEPT}) as resp:
        assert resp.status == 200
        doc = await resp.json(content_type="application/activity+json")
    assert doc["id"] == note.id and doc["type"] == "Note" and doc["url"] == note.url
    assert doc["attributedTo"] == actor and doc["content"] == "<p>We need funding</p>"
    assert doc["to"] == [AS_PUBLIC] and doc["cc"] == [f"{actor}/followers"]
    async with http.get(note.id, headers={"Accept": "text/html"}, allow_redirects=False) as resp:
        assert resp.status == 302 and resp.headers["Location"] == note.url
    async with http.get(f"{note.id}0", headers={"Accept": AP_ACCEPT}) as resp:
        assert resp.status == 404


async def test_html_url_answers_activitypub_with_the_note_id(peer: PlainPeer, http: aiohttp.ClientSession) -> None:
    peer.add_account("kde")
    note = peer.add_note("kde", "<p>Donate</p>")
    async with http.get(note.url, headers={"Accept": "application/activity+json"}) as resp:
        assert resp.status == 200
        doc = await resp.json(content_type="application/activity+json")
    assert doc["id"] == note.id != note.url
    assert doc["type"] == "Note"


async def test_html_url_for_a_browser_links_the_note(peer: PlainPeer, http: aiohttp.ClientSession) -> None:
    peer.add_account("kde")
    note = peer.add_note("kde", "<p>Donate</p>")
    async with http.get(note.url, headers={"Accept": "text/html"}) as resp:
        assert resp.status == 200 and resp.content_type == "text/html"
        page = await resp.text()
    head = page.partition("</head>")[0]
    assert f'<link href="{note.id}" rel="alternate" type="application/activity+json">' in head


async def test_authorized_fetch_needs_a_signature(federation: Federation, http: aiohttp.ClientSession) -> None:
    node = await federation.start("a")
    async with await PlainPeer.start(authorized_fetch=True) as peer:
        peer.add_account("kde")
        note = peer.add_note("kde", "<p>Secure</p>")
        for url in (note.id, note.url):
            async with http.get(url, headers={"Accept": AP_ACCEPT}) as resp:
                assert resp.status == 401
                assert (await resp.json())["error"] == "no_signature"
        assert peer.signed_fetches == []
        doc = await node.live.client.fetch_object(note.id, signer=node.live.keyring.cached("instance"))
        assert doc["id"] == note.id and doc["type"] == "Note"
        assert peer.signed_fetches == [node.live.urls.key_id("instance")]


async def test_mecene_delivery_is_verified(federation: Federation, peer: PlainPeer) -> None:
    node = await federation.start("a")
    alice = await add_user(node, "alice")
    bob = peer.add_account("bob")
    follow = activity(new_activity_id(node.live.urls), "Follow", alice, bob)
    async with node.live.sessions() as session, session.begin():
        await publish(session, sender="alice", activity=follow, inboxes=[f"{bob}/inbox"], now=node.live.clock())
    node.live.delivery.wakeup.set()

    async def delivered() -> bool:
        return bool(peer.received)

    await eventually(delivered, what="delivery to the plain peer")
    [received] = peer.received
    assert received.verified and received.reason is None
    assert received.inbox == "/users/bob/inbox"
    assert received.activity == follow
    assert peer.activities("Follow") == [follow]


async def test_inbox_refuses_what_the_signature_does_not_cover(
        federation: Federation, peer: PlainPeer, http: aiohttp.ClientSession) -> None:
    node = await federation.start("a")
    instance, alice = node.live.urls.actor("instance"), await add_user(node, "alice")
    inbox = f"{peer.base_url}/inbox"
    sign = node.live.keyring.cached("instance")
    body = json.dumps(activity(new_activity_id(node.live.urls), "Like", instance, "https://x.example/1")).encode()
    headers = sign("POST", inbox, body, "application/activity+json")
    tampered = body.replace(b"Like", b"Announce")

    async with http.post(inbox, data=tampered, headers=headers) as resp:
        assert resp.status == 401
        assert (await resp.json())["error"] == "digest_mismatch"
    assert peer.received[-1].verified is False and peer.received[-1].reason == "digest_mismatch"
    assert peer.received[-1].activity["type"] == "Announce"
    assert peer.activities("Announce") == []

    async with http.post(inbox, data=body, headers=headers) as resp:
        assert resp.status == 202
    assert peer.received[-1].verified and peer.activities("Like") == [json.loads(body)]

    foreign = json.dumps(activity(new_activity_id(node.live.urls), "Like", alice, "https://x.example/1")).encode()
    headers = sign("POST", inbox, foreign, "application/activity+json")
    async with http.post(inbox, data=foreign, headers=headers) as resp:
        assert resp.status == 401
    assert peer.received[-1].verified is False and peer.received[-1].reason == "actor_mismatch"

    forged = sign_cavage(method="POST", url=inbox, key_id=node.live.urls.key_id("instance"),
                         private_key=generate_private_key(), now=node.live.clock(), body=body)
    async with http.post(inbox, data=body, headers=forged) as resp:
        assert resp.status == 401
    assert peer.received[-1].verified is False and peer.received[-1].reason == "invalid_signature"

    elsewhere = sign_cavage(method="POST", url=inbox, key_id=f"{instance}#other-key",
                            private_key=generate_private_key(), now=node.live.clock(), body=body)
    async with http.post(inbox, data=body, headers=elsewhere) as resp:
        assert resp.status == 401
    assert peer.received[-1].verified is False and peer.received[-1].reason == "key_mismatch"
    async with http.post(f"{peer.base_url}/users/nobody/inbox", data=body, headers=headers) as resp:
        assert resp.status == 404
    assert len(peer.received) == 5 and len(peer.activities("Like")) == 1


async def test_peer_delivery_is_accepted_by_mecene(federation: Federation, peer: PlainPeer) -> None:
    node = await federation.start("a")
    alice = await add_user(node, "alice")
    bob = peer.add_account("bob")
    follow = {"@context": "https://www.w3.org/ns/activitystreams", "id": f"{peer.base_url}/f1a2b3",
              "type": "Follow", "actor": bob, "object": alice}

    assert await peer.deliver("bob", f"{alice}/inbox", follow) == 202

    async def accepted() -> bool:
        return bool(peer.activities("Accept"))

    await eventually(accepted, what="Mecene's Accept")
    [accept] = peer.activities("Accept")
    assert accept["actor"] == alice
    assert accept["object"]["id"] == follow["id"]


async def test_a_fedify_style_peer_names_its_software_and_refuses_what_it_cannot_parse(
        federation: Federation, peer: PlainPeer, http: aiohttp.ClientSession) -> None:
    node = await federation.start("a")
    with pytest.raises(FederationError):
        await node.live.directory.info(peer.host)
    async with await PlainPeer.start(software="hollo", refuses_unknown_types=True) as strict:
        info = await node.live.directory.info(strict.host)
        assert (info.software, info.mecene, info.instance_actor) == ("hollo", False, None)
        instance, post, now = node.live.urls.actor("instance"), "https://x.example/1", node.live.clock()
        flattr = flattr_vocab.flattr(new_activity_id(node.live.urls), instance, post, post, "2026-11", now)
        like = flattr_vocab.like(new_activity_id(node.live.urls), instance, post, post)
        sent = [document for original in (flattr, like)
                for document in (original, flattr_vocab.undo(new_activity_id(node.live.urls), instance, original))]
        answers = [await _post_signed(node, http, f"{strict.base_url}/inbox", document) for document in sent]
    assert answers == [(400, "Invalid activity.")] * 2 + [(202, "")] * 2
    assert strict.refused("invalid_activity") == sent[:2]
    assert strict.activities("Like") + strict.activities("Undo") == sent[2:]


async def _post_signed(node: Node, http: aiohttp.ClientSession, inbox: str, document: dict[str, Any]
                       ) -> tuple[int, str]:
    """POST `document` signed by the instance actor; the status and the text of the answer."""
    body = json.dumps(document).encode()
    headers = node.live.keyring.cached("instance")("POST", inbox, body, "application/activity+json")
    async with http.post(inbox, data=body, headers=headers) as resp:
        return resp.status, await resp.text()
