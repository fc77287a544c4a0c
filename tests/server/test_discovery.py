"""Another server finds and reads this instance: WebFinger, host-meta, NodeInfo, actors."""

import asyncio

import aiohttp
import pytest
from sqlalchemy import func, select

from federation.client import AP_ACCEPT
from federation.discovery import resolve_acct
from federation.models import RemoteActor
from federation_harness import Federation, Node
from server.accounts import create_user

LD = 'application/ld+json; profile="https://www.w3.org/ns/activitystreams"'


async def add_user(node: Node, name: str) -> None:
    async with node.live.sessions() as session, session.begin():
        await create_user(session, name, bot_username="flattr", now=node.live.clock())


async def get(url: str, accept: str = "application/json") -> tuple[int, str, dict]:
    async with aiohttp.ClientSession() as http, http.get(url, headers={"Accept": accept}) as response:
        return response.status, response.headers.get("Content-Type", ""), await response.json(content_type=None)


async def test_webfinger_names_users_instance_and_bot(federation: Federation) -> None:
    a = await federation.start("a")
    await add_user(a, "alice")
    for account, actor in [("alice", "alice"), ("flattr", "flattr"), ("instance", "instance"),
                           ("127.0.0.1", "instance")]:
        status, media, jrd = await get(f"{a.base_url}/.well-known/webfinger?resource=acct:{account}@{a.host}")
        assert (status, media.split(";")[0]) == (200, "application/jrd+json"), account
        assert jrd["subject"] == f"acct:{actor}@{a.host}"
        assert {"rel": "self", "type": "application/activity+json",
                "href": f"{a.base_url}/users/{actor}"} in jrd["links"]


@pytest.mark.parametrize(("resource", "status"), [
    ("acct:nobody@{host}", 404), ("acct:alice@elsewhere.example", 400), ("", 400), ("alice", 400),
])
async def test_webfinger_bad_resources(federation: Federation, resource: str, status: int) -> None:
    a = await federation.start("a")
    await add_user(a, "alice")
    code, _, body = await get(f"{a.base_url}/.well-known/webfinger?resource={resource.format(host=a.host)}")
    assert code == status
    assert body["error"] and body["reason"]


async def test_actor_documents_by_content_negotiation(federation: Federation) -> None:
    a = await federation.start("a")
    await add_user(a, "alice")
    kinds = {"alice": "Person", "instance": "Application", "flattr": "Service"}
    for name, kind in kinds.items():
        status, media, doc = await get(f"{a.base_url}/users/{name}", AP_ACCEPT)
        assert (status, media, doc["type"]) == (200, "application/activity+json", kind)
        actor = f"{a.base_url}/users/{name}"
        assert doc["id"] == actor and doc["preferredUsername"] == name
        assert doc["publicKey"]["id"] == f"{actor}#main-key" and doc["publicKey"]["owner"] == actor
        assert "BEGIN PUBLIC KEY" in doc["publicKey"]["publicKeyPem"]
        for collection in ("inbox", "outbox", "followers", "following"):
            assert doc[collection] == f"{actor}/{collection}"
        assert doc["endpoints"]["sharedInbox"] == f"{a.base_url}/inbox"
        assert doc["alsoKnownAs"] == []
    status, media, _ = await get(f"{a.base_url}/users/alice", LD)
    assert status == 200 and media.startswith("application/ld+json")
    async with aiohttp.ClientSession() as http, http.get(f"{a.base_url}/users/alice",
                                                         headers={"Accept": "text/html"}) as response:
        assert (response.status, response.content_type) == (200, "text/html")
        varies = {name.strip() for name in response.headers["Vary"].split(",")}
        assert varies == {"Accept", "Accept-Language", "Cookie"} and "<h1>alice</h1>" in await response.text()
    status, _, body = await get(f"{a.base_url}/users/ghost", AP_ACCEPT)
    assert status == 404 and body["error"] == "not_found"


@pytest.mark.parametrize("name, shown", [('a%22b', 'a"b'), ("a%5Cb", "a\\b"), ("a%3Cb%3E", "a<b>")])
async def test_an_unknown_actor_with_quotes_in_its_name_answers_valid_json(federation: Federation, name: str,
                                                                          shown: str) -> None:
    a = await federation.start("a")
    status, media, body = await get(f"{a.base_url}/users/{name}", AP_ACCEPT)
    assert (status, media.split(";")[0]) == (404, "application/json")
    assert body == {"error": "not_found", "reason": f"No actor {shown} here."}


async def test_collections_are_ordered_collections(federation: Federation) -> None:
    a = await federation.start("a")
    await add_user(a, "alice")
    for collection in ("outbox", "followers", "following"):
        status, _, doc = await get(f"{a.base_url}/users/alice/{collection}", AP_ACCEPT)
        assert status == 200 and doc["type"] == "OrderedCollection" and doc["totalItems"] == 0


async def test_nodeinfo_advertises_mecene_and_currency(federation: Federation) -> None:
    a = await federation.start("a", MECENE_INSTANCE_CURRENCY="CHF")
    await add_user(a, "alice")
    await add_user(a, "bob")
    _, _, links = await get(f"{a.base_url}/.well-known/nodeinfo")
    href = links["links"][0]["href"]
    assert links["links"][0]["rel"] == "http://nodeinfo.diaspora.software/ns/schema/2.1"
    status, media, info = await get(href)
    assert status == 200 and "nodeinfo.diaspora.software/ns/schema/2.1" in media
    assert info["version"] == "2.1" and info["software"]["name"] == "mecene"
    assert info["protocols"] == ["activitypub"]
    assert info["usage"]["users"]["total"] == 2
    assert info["metadata"]["mecene"]["currency"] == "CHF"
    assert info["openRegistrations"] is True
    closed = await federation.start("b", MECENE_INSTANCE_OPEN_REGISTRATIONS="false")
    _, _, document = await get(f"{closed.base_url}/nodeinfo/2.1")
    assert document["openRegistrations"] is False


async def test_host_meta_points_at_webfinger(federation: Federation) -> None:
    a = await federation.start("a")
    async with aiohttp.ClientSession() as http, http.get(f"{a.base_url}/.well-known/host-meta") as response:
        text = await response.text()
    assert response.status == 200 and "application/xrd+xml" in response.headers["Content-Type"]
    assert f'template="{a.base_url}/.well-known/webfinger?resource={{uri}}"' in text


async def test_one_instance_discovers_another_by_webfinger_and_signed_fetch(federation: Federation) -> None:
    a, b = await federation.start("a"), await federation.start("b")
    await add_user(b, "bob")
    actor = await resolve_acct(a.live.client, f"bob@{b.host}", scheme="http")
    assert actor == f"{b.base_url}/users/bob"
    remote = await a.live.actors.actor(actor)
    assert remote.inbox == f"{b.base_url}/users/bob/inbox"
    assert remote.shared_inbox == f"{b.base_url}/inbox"


async def test_health(federation: Federation) -> None:
    a = await federation.start("a")
    status, _, body = await get(f"{a.base_url}/health")
    assert status == 200 and body["status"] == "ok"


async def test_concurrent_first_fetches_of_one_key_store_one_actor(federation: Federation) -> None:
    a, b = await federation.start("a"), await federation.start("b")
    await add_user(b, "bob")
    key_id = f"{b.base_url}/users/bob#main-key"
    keys = await asyncio.gather(*(a.live.actors.key_for(key_id) for _ in range(8)))
    assert {key.owner for key in keys} == {f"{b.base_url}/users/bob"}
    async with a.live.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(RemoteActor)) == 1
