"""A donor flattrs across instances and plain fediverse servers; undo travels too.

Real instances and plain ActivityPub peers on loopback, real signatures,
real databases; the ledger balances everywhere at the end. A server whose
NodeInfo has no Mecene is sent what it can read; one that cannot be asked
gets the `Flattr`, and a refusal of it is that server's answer, not a failure.
"""

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import func, select
from test_mastodon_bot import donor
from test_mastodon_escrow import close_period, escrowed, label_of

from api_client import Api, account, assert_ledger_balances
from federation import delivery_queue
from federation.models import Delivery
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


async def test_a_creator_reads_the_flattrs_received_a_page_at_a_time(federation: Federation) -> None:
    a, b = await federation.start("a"), await federation.start("b")
    alice, bob, carol = await account(a, "alice"), await account(b, "bob"), await account(b, "carol")
    offered = [await new_thing(bob, text=f"Song {n}") for n in range(5)]
    for thing in [*offered, await new_thing(carol, text="Not bob's")]:
        assert (await alice.call("POST", "/api/v1/flattrs", {"url": thing["object_id"]})).status == 201
    await eventually(lambda: _received(b, 6), what="B records the six flattrs")

    seen, address, pages = [], "/api/v1/received?limit=2", 0
    while address is not None:
        answer = await bob.call("GET", address)
        assert answer.status == 200, answer.body
        seen += answer.body["flattrs"]
        address, pages = answer.body["next"], pages + 1
        assert address is None or f"period={answer.body['period']}" in address
    assert sorted(flattr["thing"] for flattr in seen) == sorted(thing["object_id"] for thing in offered)
    assert pages == 3 and {flattr["donor"] for flattr in seen} == {f"{a.base_url}/users/alice"}
    ids = [flattr["id"] for flattr in seen]
    assert ids == sorted(set(ids)), "in the order they arrived, each once"
    whole = (await bob.call("GET", "/api/v1/received")).body
    assert whole["flattrs"] == seen and whole["next"] is None
    after = (await bob.call("GET", f"/api/v1/received?after={seen[2]['id']}")).body
    assert after["flattrs"] == seen[3:]

    for name, typed in [("limit", "0"), ("limit", "501"), ("limit", "two"), ("after", "-1"), ("after", "9" * 30)]:
        refused = await bob.call("GET", "/api/v1/received", params={name: typed})
        assert (refused.status, refused.body["error"]) == (400, f"invalid_{name}"), (name, typed)


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


async def test_a_server_without_mecene_gets_the_like_and_never_a_flattr(federation: Federation) -> None:
    """A Fedify server (Hollo) names its software in NodeInfo and answers 400 to a type it cannot parse."""
    a = await federation.start("a")
    async with await PlainPeer.start(software="hollo", refuses_unknown_types=True) as hollo:
        hollo.clock = a.clock
        alice, carol = await donor(a), await donor(a, "carol")
        assert (await alice.call("PATCH", "/api/v1/me", {"also_send_like": True})).status == 200
        hollo.add_account("zoe")
        kept, taken_back = hollo.add_note("zoe", "<p>Kept</p>"), hollo.add_note("zoe", "<p>Taken back</p>")
        for api in (alice, carol):
            assert (await api.call("POST", "/api/v1/flattrs", {"url": kept.url})).status == 201
        flattred = await alice.call("POST", "/api/v1/flattrs", {"url": taken_back.url})
        assert flattred.status == 201, flattred.body
        assert (await alice.call("DELETE", f"/api/v1/flattrs/{flattred.body['id']}")).status == 200
        await eventually(lambda: _nothing_queued(a), what="every delivery to Hollo finished")

        rows = await deliveries_to(a, hollo.host)
        assert [(kind(row), row.state) for row in rows] == [
            ("Like", "delivered"), ("Like", "delivered"), ("Undo{Like}", "delivered")]
        assert [like["object"] for like in hollo.activities("Like")] == [kept.id, taken_back.id]
        assert hollo.refused("invalid_activity") == [] and hollo.activities("Flattr") == []
        async with a.live.sessions() as session:
            known = await a.live.directory.known(session, hollo.host)
        assert known is not None and (known.software, known.mecene) == ("hollo", False)
        assert [f["url"] for f in (await carol.call("GET", "/api/v1/flattrs")).body["flattrs"]] == [kept.id]

        await close_period(a, await label_of(alice))
        assert await escrowed(a) == 1000
    await assert_ledger_balances(a)


async def test_a_flattr_a_server_of_unknown_software_refuses_is_not_understood_not_dead(
        federation: Federation) -> None:
    """No NodeInfo to ask: the Flattr goes, and the 400 it gets is that server's answer, not a delivery to retry."""
    a = await federation.start("a")
    async with await PlainPeer.start(refuses_unknown_types=True) as strict:
        alice = await account(a, "alice")
        assert (await alice.call("PATCH", "/api/v1/me", {"also_send_like": True})).status == 200
        strict.add_account("zoe")
        flattred = await alice.call("POST", "/api/v1/flattrs", {"url": strict.add_note("zoe", "<p>Hi</p>").url})
        assert flattred.status == 201, flattred.body
        await eventually(lambda: _nothing_queued(a), what="the Flattr and the Like answered")

        [flattr, like] = await deliveries_to(a, strict.host)
        assert (kind(flattr), flattr.state, flattr.attempts, flattr.last_status) == ("Flattr", "not_understood", 1, 400)
        assert (kind(like), like.state) == ("Like", "delivered")
        assert [f["id"] for f in strict.refused("invalid_activity")] == [flattred.body["activity_id"]]
        async with a.live.sessions() as session:
            counts = await delivery_queue.counts(session)
            listed = await delivery_queue.undelivered(session)
        assert (counts.dead, counts.not_understood, listed) == (0, 1, [])

        assert (await alice.call("DELETE", f"/api/v1/flattrs/{flattred.body['id']}")).status == 200
        await eventually(lambda: _nothing_queued(a), what="the Undo{Like} delivered")
        assert [kind(row) for row in await deliveries_to(a, strict.host)] == ["Flattr", "Like", "Undo{Like}"]
        assert len(strict.refused("invalid_activity")) == 1
    await assert_ledger_balances(a)


async def deliveries_to(node: Node, host: str) -> list[Delivery]:
    async with node.live.sessions() as session:
        return list(await session.scalars(select(Delivery).where(Delivery.host == host).order_by(Delivery.id)))


def kind(row: Delivery) -> str:
    """The activity's type, and an Undo's object's: `Undo{Like}`."""
    activity = json.loads(row.body)
    inner = activity["object"]
    return f"Undo{{{inner['type']}}}" if activity["type"] == "Undo" else activity["type"]


async def _nothing_queued(node: Node) -> bool:
    async with node.live.sessions() as session:
        return (await delivery_queue.counts(session)).queued == 0


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
