"""Things are ActivityPub objects: served at their id, in the creator's outbox, delivered to followers."""

from typing import Any

import aiohttp
from sqlalchemy import select

from api_client import account
from federation.models import Following, InboxItem
from federation_harness import Federation, Node, eventually
from server.social import follow_account

AP = "application/activity+json"
LD = 'application/ld+json; profile="https://www.w3.org/ns/activitystreams"'


async def fetch(url: str, accept: str) -> tuple[int, str, Any]:
    async with aiohttp.ClientSession() as http, http.get(url, headers={"Accept": accept}) as resp:
        body = await resp.json(content_type=None)
        return resp.status, resp.headers.get("Content-Type", ""), body


async def inbox_types(node: Node) -> list[tuple[str, str]]:
    async with node.live.sessions() as session:
        rows = await session.scalars(select(InboxItem.activity).order_by(InboxItem.id))
        return sorted((row["type"], row["object"]["type"]) for row in rows if row["type"] in ("Create", "Delete"))


async def test_a_thing_is_federated_served_and_deleted_with_a_tombstone(federation: Federation) -> None:
    a, b = await federation.start("a"), await federation.start("b")
    bob = await account(a, "bob")
    await account(b, "carol")
    await follow_account(b.live, "carol", f"bob@{a.host}")
    await eventually(lambda: _accepted(b), what="carol follows bob")

    page = (await bob.call("POST", "/api/v1/things", {"url": "https://bob.example/song", "title": "A song",
                                                       "text": "Recorded <live>"})).body
    note = (await bob.call("POST", "/api/v1/things", {"text": "Line one\nLine two"})).body
    await eventually(lambda: _has(b, [("Create", "Note"), ("Create", "Page")]), what="Create delivered to carol")

    status, media_type, document = await fetch(page["object_id"], AP)
    assert (status, media_type) == (200, AP)
    assert document is not None
    assert (document["type"], document["name"], document["url"]) == ("Page", "A song", "https://bob.example/song")
    assert document["attributedTo"] == f"{a.base_url}/users/bob"
    assert document["summary"] == "<p>Recorded &lt;live&gt;</p>"
    status, media_type, document = await fetch(note["object_id"], LD)
    assert (status, media_type) == (200, LD)
    assert document is not None and document["content"] == "<p>Line one</p><p>Line two</p>"

    status, _, outbox = await fetch(f"{a.base_url}/users/bob/outbox", AP)
    assert [item["object"]["id"] for item in outbox["orderedItems"]] == [note["object_id"], page["object_id"]]

    assert (await bob.call("DELETE", f"/api/v1/things/{page['id']}")).status == 200
    status, _, document = await fetch(page["object_id"], AP)
    assert status == 410 and document is not None and document["type"] == "Tombstone"
    await eventually(lambda: _has(b, [("Create", "Note"), ("Create", "Page"), ("Delete", "Tombstone")]),
                     what="Delete delivered to carol")
    assert (await bob.call("DELETE", "/api/v1/things/999")).status == 404


async def _accepted(node: Node) -> bool:
    async with node.live.sessions() as session:
        return bool(await session.scalar(select(Following.accepted)))


async def _has(node: Node, expected: list[tuple[str, str]]) -> bool:
    return await inbox_types(node) == expected


async def test_a_creators_things_come_a_page_at_a_time_deleted_ones_included(federation: Federation) -> None:
    node = await federation.start("a")
    bob, carol = await account(node, "bob"), await account(node, "carol")
    offered = [(await bob.call("POST", "/api/v1/things", {"text": f"Song {n}"})).body["id"] for n in range(7)]
    await carol.call("POST", "/api/v1/things", {"text": "Not bob's"})
    assert (await bob.call("DELETE", f"/api/v1/things/{offered[2]}")).status == 200

    seen, address, pages = [], "/api/v1/things?limit=3", 0
    while address is not None:
        answer = await bob.call("GET", address)
        assert answer.status == 200, answer.body
        seen += [thing["id"] for thing in answer.body["things"]]
        address, pages = answer.body["next"], pages + 1
    assert seen == offered and pages == 3
    whole = (await bob.call("GET", "/api/v1/things")).body
    assert [thing["id"] for thing in whole["things"]] == offered and whole["next"] is None
    assert whole["things"][2]["deleted_at"] is not None
    after = (await bob.call("GET", f"/api/v1/things?after={offered[4]}")).body
    assert [thing["id"] for thing in after["things"]] == offered[5:]

    for name, typed in [("limit", "0"), ("limit", "501"), ("limit", "ten"), ("limit", ""), ("limit", "٣"),
                        ("after", "-1"), ("after", "1.5"), ("after", "9" * 12), ("after", "9" * 5000)]:
        refused = await bob.call("GET", "/api/v1/things", params={name: typed})
        assert (refused.status, refused.body["error"]) == (400, f"invalid_{name}"), (name, typed)
