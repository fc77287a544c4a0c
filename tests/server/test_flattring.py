"""A donor flattrs across instances and a plain fediverse server; undo travels too.

Real instances and a plain ActivityPub peer on loopback, real signatures,
real databases; the ledger balances everywhere at the end.
"""

from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import func, select

from api_client import Api, account, assert_ledger_balances
from federation_harness import Federation, Node, eventually
from plain_peer import PlainPeer
from server.models import ReceivedFlattr


@pytest.fixture
async def peer() -> AsyncIterator[PlainPeer]:
    async with await PlainPeer.start() as started:
        yield started


async def received_count(node: Node) -> int:
    async with node.live.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(ReceivedFlattr)) or 0)


async def new_thing(api: Api, **fields: str) -> dict[str, Any]:
    answer = await api.call("POST", "/api/v1/things", fields)
    assert answer.status == 201, answer.body
    return answer.body


async def test_flattr_a_thing_on_another_instance_and_undo_it(federation: Federation) -> None:
    a, b = await federation.start("a"), await federation.start("b")
    alice, bob = await account(a, "alice"), await account(b, "bob")
    thing = await new_thing(bob, url="https://bob.example/essay", title="An essay", text="About flattring.")

    first = await alice.call("POST", "/api/v1/flattrs", {"url": thing["object_id"]})
    assert first.status == 201, first.body
    assert first.body["author"] == f"{b.base_url}/users/bob"
    await eventually(lambda: _received(b, 1), what="B records the flattr")
    listed = await bob.call("GET", "/api/v1/received")
    assert [(f["thing"], f["donor"]) for f in listed.body["flattrs"]] == [
        (thing["object_id"], f"{a.base_url}/users/alice")]

    again = await alice.call("POST", "/api/v1/flattrs", {"url": thing["object_id"]})
    assert (again.status, again.body["id"]) == (200, first.body["id"])
    assert (await alice.call("GET", "/api/v1/flattrs")).body["flattrs"][0]["id"] == first.body["id"]

    undone = await alice.call("DELETE", f"/api/v1/flattrs/{first.body['id']}")
    assert undone.status == 200 and undone.body["undone"]
    await eventually(lambda: _received(b, 0), what="B forgets the flattr")
    assert (await alice.call("GET", "/api/v1/flattrs")).body["flattrs"] == []
    for node in (a, b):
        await assert_ledger_balances(node)


async def _received(node: Node, expected: int) -> bool:
    return await received_count(node) == expected


async def test_flattr_a_mastodon_style_post_on_a_plain_server(federation: Federation, peer: PlainPeer) -> None:
    a = await federation.start("a")
    alice = await account(a, "alice")
    peer.add_account("zoe")
    note = peer.add_note("zoe", "<p>Hello fediverse</p>")
    assert (await alice.call("PATCH", "/api/v1/me", {"also_send_like": True})).body["also_send_like"] is True

    flattred = await alice.call("POST", "/api/v1/flattrs", {"url": note.url})
    assert flattred.status == 201, flattred.body
    assert (flattred.body["url"], flattred.body["author"]) == (note.id, peer.actor_uri("zoe"))
    await eventually(lambda: _arrived(peer, "Like"), what="the Flattr and the Like at the peer")
    [flattr] = peer.activities("Flattr")
    assert (flattr["actor"], flattr["object"], flattr["to"]) == (f"{a.base_url}/users/alice", note.id, [note.author])
    assert flattr["id"] == flattred.body["activity_id"]
    assert peer.activities("Like")[0]["object"] == note.id

    assert (await alice.call("DELETE", f"/api/v1/flattrs/{flattred.body['id']}")).status == 200
    await eventually(lambda: _undone(peer, 2), what="Undo{Flattr} and Undo{Like} at the peer")
    assert {undo["object"]["type"] for undo in peer.activities("Undo")} == {"Flattr", "Like"}
    await assert_ledger_balances(a)


async def _arrived(peer: PlainPeer, kind: str) -> bool:
    return bool(peer.activities("Flattr")) and bool(peer.activities(kind))


async def _undone(peer: PlainPeer, expected: int) -> bool:
    return len(peer.activities("Undo")) == expected


async def test_a_server_in_secure_mode_gets_a_signed_fetch(federation: Federation) -> None:
    a = await federation.start("a")
    alice = await account(a, "alice")
    async with await PlainPeer.start(authorized_fetch=True) as strict:
        strict.add_account("zoe")
        note = strict.add_note("zoe", "<p>Members only</p>")
        flattred = await alice.call("POST", "/api/v1/flattrs", {"url": note.url})
        assert flattred.status == 201, flattred.body
        assert strict.signed_fetches and all(key == f"{a.base_url}/users/instance#main-key"
                                             for key in strict.signed_fetches)
        await eventually(lambda: _arrived(strict, "Flattr"), what="the Flattr at the strict peer")


async def test_the_live_value_splits_the_spend_exactly(federation: Federation, peer: PlainPeer) -> None:
    a, b = await federation.start("a"), await federation.start("b")
    admin, alice, bob = await account(a, "op", admin=True), await account(a, "alice"), await account(b, "bob")
    await admin.call("POST", "/api/v1/admin/users/alice/topups", {"amount": "10.00"})
    assert (await alice.call("PUT", "/api/v1/me/budget", {"amount": "5.00"})).status == 200
    peer.add_account("zoe")
    urls = [peer.add_note("zoe", "<p>one</p>").url, peer.add_note("zoe", "<p>two</p>").url,
            (await new_thing(bob, text="three"))["object_id"]]
    for url in urls:
        assert (await alice.call("POST", "/api/v1/flattrs", {"url": url})).status == 201

    listed = (await alice.call("GET", "/api/v1/flattrs")).body
    values = sorted(f["value_now"]["minor_units"] for f in listed["flattrs"])
    assert values == [166, 167, 167]
    rule = listed["value_now"]
    assert (rule["spend"]["amount"], rule["each"]["amount"], rule["flattrs"]) == ("5.00", "1.66", 3)
    favoured = {f["url"] for f in listed["flattrs"] if f["value_now"]["minor_units"] == 167}
    assert set(rule["one_more_minor_unit_for"]) == favoured
    one = (await alice.call("GET", f"/api/v1/flattrs/{listed['flattrs'][0]['id']}")).body
    assert one["value_now"] == listed["flattrs"][0]["value_now"]

    assert (await alice.call("PUT", "/api/v1/me/budget", {"amount": "50.00"})).status == 200
    me = (await alice.call("GET", "/api/v1/me")).body
    assert me["value_now"]["spend"]["amount"] == "10.00" and me["value_now"]["each"]["amount"] == "3.33"
    await assert_ledger_balances(a)


async def test_a_local_thing_is_recorded_at_once_and_a_closed_period_cannot_be_undone(federation: Federation) -> None:
    a = await federation.start("a")
    alice, bob = await account(a, "alice"), await account(a, "bob")
    thing = await new_thing(bob, text="Local note")
    flattred = (await alice.call("POST", "/api/v1/flattrs", {"url": thing["object_id"]})).body
    assert await received_count(a) == 1
    assert (await alice.call("DELETE", f"/api/v1/flattrs/{flattred['id']}")).status == 200
    assert await received_count(a) == 0
    again = await alice.call("POST", "/api/v1/flattrs", {"url": thing["object_id"]})
    assert again.status == 201 and await received_count(a) == 1
    assert (await bob.call("DELETE", f"/api/v1/flattrs/{again.body['id']}")).status == 404

    a.clock.advance(days=40)
    late = await alice.call("DELETE", f"/api/v1/flattrs/{again.body['id']}")
    assert (late.status, late.body["error"]) == (409, "period_closed")
    past = (await alice.call("GET", f"/api/v1/flattrs?period={again.body['period']}")).body
    assert [f["id"] for f in past["flattrs"]] == [again.body["id"]] and past["value_now"] is None
    assert (await alice.call("GET", "/api/v1/flattrs")).body["flattrs"] == []
    assert await received_count(a) == 1


async def test_the_live_value_counts_the_instance_fee(federation: Federation) -> None:
    a = await federation.start("a", MECENE_SETTLEMENT_FEE_BASIS_POINTS="1000")
    admin, alice, bob = await account(a, "op", admin=True), await account(a, "alice"), await account(a, "bob")
    await admin.call("POST", "/api/v1/admin/users/alice/topups", {"amount": "10.00"})
    await alice.call("PUT", "/api/v1/me/budget", {"amount": "5.00"})
    for text in ("one", "two", "three"):
        assert (await alice.call("POST", "/api/v1/flattrs", {"url": (await new_thing(bob, text=text))["object_id"]}
                                 )).status == 201
    rule = (await alice.call("GET", "/api/v1/me")).body["value_now"]
    assert (rule["spend"]["amount"], rule["fee"]["amount"], rule["each"]["amount"]) == ("5.00", "0.50", "1.50")
