"""Three Mecene instances and a plain fediverse server: flattrs everywhere, every period closes, money is conserved.

Donors on each instance flattr things on all of them and a post on a server
without Mecene; the periods close by the scheduler, payouts travel as signed
activities, one instance is down when the others pay it and receives later,
a payout is delivered twice, and afterwards every cent is accounted for.
"""

from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
from sqlalchemy import func, select, update

from agreement_helper import agree
from api_client import Api, account
from federation.models import Delivery
from federation_harness import Federation, Node, eventually
from plain_peer import PlainPeer
from settlement import ledger
from settlement.allocation import allocate, share_seed
from settlement.models import Account, Entry, Payout, PeriodClose, ReceivedPayout

NAMES = {"a": ("alice", "ada"), "b": ("bert", "bob"), "c": ("cleo", "carol")}
FUNDS = {"a": ("10.00", "5.00"), "b": ("10.00", "3.00"), "c": ("2.00", "5.00")}


@pytest.fixture
async def peer() -> AsyncIterator[PlainPeer]:
    async with await PlainPeer.start() as started:
        yield started


@dataclass
class Site:
    node: Node
    donor: Api
    creator: Api
    thing: str


async def balances(node: Node) -> dict[str, int]:
    """Every account kind's total on one instance."""
    async with node.live.sessions() as session:
        rows = await session.execute(select(Account.kind, func.sum(Entry.amount))
                                     .join(Entry, Entry.account_id == Account.id).group_by(Account.kind))
        return {kind: int(total) for kind, total in rows}


async def count(node: Node, query) -> int:  # type: ignore[no-untyped-def]
    async with node.live.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(query.subquery())) or 0)


async def setup_site(node: Node) -> Site:
    donor_name, creator_name = NAMES[node.name]
    operator, donor, creator = (await account(node, "op", admin=True), await account(node, donor_name),
                                await account(node, creator_name))
    wallet, budget = FUNDS[node.name]
    assert (await operator.call("POST", f"/api/v1/admin/users/{donor_name}/topups", {"amount": wallet})).status == 201
    assert (await donor.call("PUT", "/api/v1/me/budget", {"amount": budget})).status == 200
    thing = (await creator.call("POST", "/api/v1/things", {"text": f"A note by {creator_name}"})).body["object_id"]
    return Site(node, donor, creator, thing)


async def all_settled(sites: list[Site], label: str) -> bool:
    for site in sites:
        async with site.node.live.sessions() as session:
            closed = await session.scalar(select(PeriodClose.state).where(PeriodClose.period == label))
            open_payouts = await session.scalar(select(func.count(Payout.id)).where(Payout.state != "settled"))
        if closed != "closed" or open_payouts:
            return False
    return True


async def test_three_instances_settle_a_period_and_conserve_every_cent(federation: Federation,
                                                                       peer: PlainPeer) -> None:
    sites = [await setup_site(await federation.start(name)) for name in ("a", "b", "c")]
    for first, second in ((0, 1), (0, 2), (1, 2)):
        await agree(sites[first].node, sites[second].node)
    peer.add_account("zoe")
    note = peer.add_note("zoe", "<p>Not on Mecene</p>")
    for site in sites:
        for target in [other.thing for other in sites if other is not site] + [note.url]:
            answer = await site.donor.call("POST", "/api/v1/flattrs", {"url": target})
            assert answer.status == 201, answer.body
    label = (await sites[0].donor.call("GET", "/api/v1/me")).body["period"]["label"]
    await eventually(lambda: _received_everywhere(sites), what="every flattr recorded by its author's instance")

    await federation.stop("c")
    for site in sites[:2]:
        site.node.clock.advance(days=40)
    await eventually(lambda: _closed(sites[:2], label), what="a and b close the period")
    c = await federation.start("c")
    c.clock.advance(days=40)
    sites[2].node = c
    await eventually(lambda: all_settled(sites, label), timeout=30, what="every payout settled")

    before = await balances(c)
    await _deliver_again(sites[0].node)
    await eventually(lambda: _delivered_twice(sites[0].node), what="the duplicate payout delivered")
    assert await balances(c) == before
    assert await count(c, select(ReceivedPayout)) == 2

    totals = [await balances(site.node) for site in sites]
    for site in sites:
        async with site.node.live.sessions() as session:
            assert await ledger.check(session) == []
    funded = -sum(t.get("payin", 0) for t in totals)
    held = sum(t.get(kind, 0) for t in totals for kind in ("wallet", "creator", "pending", "fee", "escrow",
                                                          "in_flight"))
    owed = sum(t.get("due_to", 0) + t.get("due_from", 0) for t in totals)
    assert funded == 2200 and held == funded and owed == 0
    assert [t.get("in_flight", 0) for t in totals] == [0, 0, 0]
    assert sum(t.get("wallet", 0) for t in totals) == 2200 - 500 - 300 - 200
    expected = expected_shares(sites, note.id, label)
    assert sum(t.get("escrow", 0) for t in totals) == sum(shares[note.id] for shares in expected.values())
    for site, total in zip(sites, totals, strict=True):
        earned = total.get("creator", 0) + total.get("pending", 0)
        assert earned == sum(shares.get(site.thing, 0) for shares in expected.values())

    for site in sites:
        site.node.clock.advance(days=200)
    await eventually(lambda: _escrow_returned(sites), what="escrow returned after the claim window")
    after = [await balances(site.node) for site in sites]
    assert sum(t.get("wallet", 0) for t in after) == 2200 - 1000 + sum(s[note.id] for s in expected.values())
    assert -sum(t.get("payin", 0) for t in after) == sum(
        t.get(kind, 0) for t in after for kind in ("wallet", "creator", "pending", "fee", "escrow", "in_flight"))


async def _escrow_returned(sites: list[Site]) -> bool:
    return all(balance.get("escrow", 0) == 0 for balance in [await balances(site.node) for site in sites])


def expected_shares(sites: list[Site], escrowed: str, label: str) -> dict[str, dict[str, int]]:
    """Each donor's shares recomputed from the documented rule, independently of the instances."""
    result = {}
    for site in sites:
        donor = NAMES[site.node.name][0]
        wallet, budget = (int(value.replace(".", "")) for value in FUNDS[site.node.name])
        things = [other.thing for other in sites if other is not site] + [escrowed]
        result[donor] = allocate(budget=budget, wallet=wallet, things=things, fee_basis_points=0,
                                 seed=share_seed(label, donor)).shares
    return result


async def _received_everywhere(sites: list[Site]) -> bool:
    for site in sites:
        flattrs = (await site.creator.call("GET", "/api/v1/received")).body["flattrs"]
        if len(flattrs) != 2:
            return False
    return True


async def _closed(sites: list[Site], label: str) -> bool:
    for site in sites:
        async with site.node.live.sessions() as session:
            if await session.scalar(select(PeriodClose.state).where(PeriodClose.period == label)) != "closed":
                return False
    return True


async def _deliver_again(node: Node) -> None:
    """Queue the already delivered Payout once more, as a sender that never saw our 2xx would."""
    async with node.live.sessions() as session, session.begin():
        payout_id = await session.scalar(select(Payout.payout_id).where(Payout.host.like("%")).limit(1))
        await session.execute(update(Delivery).where(Delivery.activity_id == payout_id).values(
            state="queued", next_attempt_at=node.live.clock(), attempts=0))
    node.live.delivery.wakeup.set()


async def _delivered_twice(node: Node) -> bool:
    async with node.live.sessions() as session:
        states = list(await session.scalars(select(Delivery.state).where(Delivery.activity_id.like("%/payouts/%"))))
    return bool(states) and all(state == "delivered" for state in states)
