"""A Mastodon author claims escrow held on instance A for an account on instance B, by a two-way alias.

A donor on A flattrs a post on a Mastodon-shaped peer; the period closes and
the share waits in escrow on A. The author's actor names carol on B (its
`alsoKnownAs`, or a profile field), carol's actor on B names the author back,
and at A's next tick the escrow leaves in a claim Payout that B credits to
carol. One side alone moves nothing, nothing moves twice, and a Payout that B
refuses puts the money back in A's escrow.
"""

from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import delete, func, select, update
from test_mastodon_bot import donor
from test_mastodon_escrow import earned, escrowed, label_of

from agreement_helper import agree
from api_client import Api, account, assert_ledger_balances
from federation.models import Delivery
from federation_harness import Federation, Node, eventually
from mastodon_peer import MastodonPeer
from server.models import User
from server.settling.alias_claims import claim_by_alias
from settlement.models import ClaimPayout, PeriodClose, ReceivedPayout


@pytest.fixture
async def peer() -> AsyncIterator[MastodonPeer]:
    async with await MastodonPeer.start() as started:
        yield started


async def escrow_on_a(federation: Federation, peer: MastodonPeer) -> tuple[Node, Node, Api, Api]:
    """A and B running, 5.00 EUR in A's escrow for yan's post, carol on B; (a, b, alice on A, carol on B)."""
    a, b = await federation.start("a"), await federation.start("b")
    await agree(a, b)
    peer.clock = a.clock
    alice, carol = await donor(a), await account(b, "carol")
    peer.add_account("yan")
    assert (await alice.call("POST", "/api/v1/flattrs", {"url": peer.add_note("yan", "<p>Hi</p>").url})).status == 201
    label = await label_of(alice)
    for node in (a, b):
        node.clock.advance(days=40)
    await eventually(lambda: _closed(a, label), what=f"period {label} closed on a")
    assert await escrowed(a) == 500
    return a, b, alice, carol


async def _closed(node: Node, label: str) -> bool:
    async with node.live.sessions() as session:
        return await session.scalar(select(PeriodClose.state).where(PeriodClose.period == label)) == "closed"


async def claims(node: Node) -> list[tuple[str, int, int]]:
    async with node.live.sessions() as session:
        rows = await session.execute(select(ClaimPayout.state, ClaimPayout.total, ClaimPayout.refused)
                                     .order_by(ClaimPayout.id))
        return [(state, int(total), int(refused)) for state, total, refused in rows]


async def earned_is(api: Api, amount: str) -> bool:
    return await earned(api) == amount


async def position(admin: Api, host: str) -> dict[str, Any]:
    answer = await admin.call("GET", "/api/v1/admin/statements")
    assert answer.status == 200 and answer.body["conservation"]["holds"], answer.body
    [found] = [row for row in answer.body["instances"] if row["host"] == host]
    return found


async def test_a_two_way_alias_sends_escrow_to_an_account_on_another_instance(federation: Federation,
                                                                              peer: MastodonPeer) -> None:
    a, b, alice, carol = await escrow_on_a(federation, peer)
    yan, carol_actor = peer.actor_uri("yan"), f"{b.base_url}/users/carol"
    peer.profiles["yan"] = {"alsoKnownAs": [carol_actor]}
    assert (await carol.call("PUT", "/api/v1/me/aliases", {"aliases": [yan]})).status == 200

    await eventually(lambda: earned_is(carol, "5.00"), what="the escrow credited to carol on b")
    assert await escrowed(a) == 0
    await eventually(lambda: _claims_are(a, [("settled", 500, 0)]), what="b's Accept settling the claim on a")
    [line] = (await carol.call("GET", "/api/v1/earnings")).body["periods"][0]["things"]
    assert line["url"].startswith(f"{peer.base_url}/users/yan/statuses/") and line["flattrs"] == 1
    for node in (a, b):
        await assert_ledger_balances(node)
    on_a = await position(await account(a, "op_a", admin=True), b.host)
    on_b = await position(await account(b, "op_b", admin=True), a.host)
    assert on_a["owed_to_them"] == on_b["owed_by_them"] == {"amount": "5.00", "minor_units": 500, "currency": "EUR"}
    assert on_a["in_flight"]["minor_units"] == 0
    [period_on_a], [period_on_b] = on_a["periods"], on_b["periods"]
    assert period_on_a["accepted"] == period_on_b["received"] == on_a["owed_to_them"]
    assert period_on_a["state"] == "settled" and period_on_a["period"] == period_on_b["period"]

    assert await claim_by_alias(a.live) == 0
    await _deliver_again(a, "/payouts/claims/")
    await _deliver_again(b, "/activities/")
    assert await claim_by_alias(a.live) == 0
    assert await earned(carol) == "5.00" and await claims(a) == [("settled", 500, 0)]
    async with b.live.sessions() as session:
        assert await session.scalar(select(func.count(ReceivedPayout.id))) == 1
    for node in (a, b):
        await assert_ledger_balances(node)


async def _claims_are(node: Node, expected: list[tuple[str, int, int]]) -> bool:
    return await claims(node) == expected


async def _deliver_again(node: Node, activity: str) -> None:
    """Queue the delivered activities whose id contains `activity` once more, and wait until they arrive again."""
    async with node.live.sessions() as session, session.begin():
        result = await session.execute(update(Delivery).where(Delivery.activity_id.contains(activity)).values(
            state="queued", next_attempt_at=node.live.clock(), attempts=0))
        assert result.rowcount >= 1
    node.live.delivery.wakeup.set()

    async def delivered() -> bool:
        async with node.live.sessions() as session:
            states = set(await session.scalars(select(Delivery.state).where(Delivery.activity_id.contains(activity))))
        return states == {"delivered"}

    await eventually(delivered, what=f"{activity} delivered again")


async def test_one_way_aliases_move_nothing_and_a_profile_field_proves_it_too(federation: Federation,
                                                                             peer: MastodonPeer) -> None:
    a, b, alice, carol = await escrow_on_a(federation, peer)
    yan, carol_actor = peer.actor_uri("yan"), f"{b.base_url}/users/carol"
    peer.profiles["yan"] = {"alsoKnownAs": [carol_actor]}
    assert await claim_by_alias(a.live) == 0

    peer.profiles["yan"] = {}
    assert (await carol.call("PUT", "/api/v1/me/aliases", {"aliases": [yan]})).status == 200
    assert await claim_by_alias(a.live) == 0
    assert await escrowed(a) == 500 and await claims(a) == [] and await earned(carol) == "0.00"

    peer.profiles["yan"] = {"attachment": [{"type": "PropertyValue", "name": "Mecene", "value": (
        f'<a href="{carol_actor}" target="_blank" rel="nofollow noopener me" translate="no">'
        f'<span class="invisible">http://</span><span class="">{carol_actor.removeprefix("http://")}</span></a>')}]}
    await eventually(lambda: earned_is(carol, "5.00"), what="the escrow claimed through a profile field")
    assert await escrowed(a) == 0
    for node in (a, b):
        await assert_ledger_balances(node)


async def test_a_refused_claim_payout_puts_the_money_back_in_escrow(federation: Federation,
                                                                   peer: MastodonPeer) -> None:
    a, b, alice, carol = await escrow_on_a(federation, peer)
    yan = peer.actor_uri("yan")
    assert (await carol.call("PUT", "/api/v1/me/aliases", {"aliases": [yan]})).status == 200
    async with b.live.sessions() as session, session.begin():
        await session.execute(delete(User).where(User.username == "carol"))
    peer.profiles["yan"] = {"alsoKnownAs": [f"{b.base_url}/users/carol"]}

    await eventually(lambda: _claims_are(a, [("settled", 500, 500)]), what="b's Reject settling the claim on a")
    assert await escrowed(a) == 500
    assert await claim_by_alias(a.live) == 0 and len(await claims(a)) == 1
    for node in (a, b):
        await assert_ledger_balances(node)
    async with b.live.sessions() as session:
        assert await session.scalar(select(ReceivedPayout.credited)) == 0

    wallet = (await alice.call("GET", "/api/v1/me")).body["wallet"]["minor_units"]
    peer.profiles["yan"] = {}
    for node in (a, b):
        node.clock.advance(days=200)
    await eventually(lambda: _escrow_empty(a), what="the refused escrow returned to its donor after the window")
    assert len(await claims(a)) == 1
    assert (await alice.call("GET", "/api/v1/me")).body["wallet"]["minor_units"] == wallet + 500
    await assert_ledger_balances(a)


async def _escrow_empty(node: Node) -> bool:
    return await escrowed(node) == 0
