"""Closing a period on a real database: exact booking, exactly once, resumable, busy when leased."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from settlement import close_invariants, flattrs, ledger, topups, wallets
from settlement.close_invariants import PeriodInvariantBroken
from settlement.closing import CloseSettings, LeaseLost, PeriodCloser, PeriodStillOpen
from settlement.destinations import AWAITING, ESCROW, LOCAL, PAYOUT
from settlement.ledger import AccountKey
from settlement.models import DonorClose, Earning, Payout, PeriodClose, Share
from settlement.money import Money
from settlement.periods import parse_period
from settlement_hosts import classify

PERIOD = parse_period("2026-10")
AFTER = datetime(2026, 11, 1, 0, 5, tzinfo=UTC)


def closer(sessions: async_sessionmaker[AsyncSession], *, worker: str = "w1", batch: int = 2,
           fee: int = 0, clock=lambda: AFTER) -> PeriodCloser:  # type: ignore[no-untyped-def]
    return PeriodCloser(sessions, CloseSettings("EUR", fee_basis_points=fee, batch_donors=batch), clock, worker,
                        lambda period, host: f"https://here.example/payouts/{period}/{host}")


async def fund(sessions: async_sessionmaker[AsyncSession], donor: str, wallet: int, budget: int,
               authors: list[str]) -> None:
    async with sessions() as session, session.begin():
        now = PERIOD.start + timedelta(days=1)
        if wallet:
            await topups.credit_by_hand(session, username=donor, money=Money(wallet, "EUR"), reference=donor, now=now)
        await wallets.set_budget(session, donor, Money(budget, "EUR"), now)
        for index, author in enumerate(authors):
            await flattrs.record(session, donor=donor, thing_uri=f"{author}/things/{index}", author_uri=author,
                                 period=PERIOD.label, activity_id=f"https://here.example/a/{donor}/{index}", now=now)


async def balance(session: AsyncSession, kind: str, owner: str) -> int:
    return await ledger.balance(session, AccountKey(kind, owner, "EUR"))


AUTHORS = ["https://here.example/users/bob", "https://mecene.example/users/carol", "https://plain.example/users/zoe"]


async def test_a_close_books_every_share_once_and_exactly(sessions: async_sessionmaker[AsyncSession]) -> None:
    await fund(sessions, "alice", 1000, 500, AUTHORS)
    await fund(sessions, "dave", 200, 500, AUTHORS[:2])
    await fund(sessions, "erin", 0, 500, AUTHORS[:1])
    await fund(sessions, "frank", 1000, 0, AUTHORS)
    report = await closer(sessions, fee=100).close(PERIOD, classify)
    assert (report.state, report.donors, report.spent, report.fees, report.payouts) == ("closed", 4, 700, 7, 1)
    async with sessions() as session:
        assert await balance(session, "wallet", "alice") == 500
        assert await balance(session, "wallet", "dave") == 0
        assert await balance(session, "fee", "") == 7
        local = await balance(session, "creator", "bob")
        flight = await balance(session, "in_flight", "mecene.example")
        escrow = await balance(session, "escrow", AUTHORS[2])
        assert local + flight + escrow + 7 == 700
        assert (local, flight, escrow) == (264, 264, 165)
        payout = await session.scalar(select(Payout))
        assert (payout.host, payout.total, payout.state) == ("mecene.example", flight, "pending")
        earned = await session.execute(select(Earning.creator, Earning.amount, Earning.flattrs))
        assert sorted(earned) == [("bob", 264, 4)]
        assert await ledger.check(session) == []

    again = await closer(sessions, worker="w2").close(PERIOD, classify)
    assert again == report
    async with sessions() as session:
        assert await session.scalar(select(func.count(Share.id))) == 9
        assert await ledger.check(session) == []


async def test_an_open_period_cannot_close(sessions: async_sessionmaker[AsyncSession]) -> None:
    with pytest.raises(PeriodStillOpen):
        await closer(sessions, clock=lambda: PERIOD.end - timedelta(seconds=1)).close(PERIOD, classify)


async def test_a_second_process_leaves_while_the_lease_is_held_and_resumes_after(
        sessions: async_sessionmaker[AsyncSession]) -> None:
    for index in range(5):
        await fund(sessions, f"donor{index}", 300, 300, AUTHORS)
    first = closer(sessions, worker="w1")
    crashed = []

    def crash_after_first_batch(done: int, total: int) -> None:
        if done:
            crashed.append(done)
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        await first.close(PERIOD, classify, crash_after_first_batch)
    assert crashed == [2]
    busy = await closer(sessions, worker="w2").close(PERIOD, classify)
    assert busy.state == "busy" and busy.donors == 2

    later = closer(sessions, worker="w2", clock=lambda: AFTER + timedelta(minutes=10))
    report = await later.close(PERIOD, classify)
    assert (report.state, report.donors, report.spent) == ("closed", 5, 1500)
    with pytest.raises(LeaseLost):
        async with sessions() as session, session.begin():
            await first._renew(session, PERIOD.label)
    async with sessions() as session:
        assert await session.scalar(select(func.count(DonorClose.id))) == 5
        assert await ledger.check(session) == []


async def test_a_dry_run_writes_nothing(sessions: async_sessionmaker[AsyncSession]) -> None:
    await fund(sessions, "alice", 1000, 600, AUTHORS)
    totals = await closer(sessions).preview(PERIOD, classify)
    assert totals == {"donors": 1, "spent": 600, "fees": 0, LOCAL: 200, PAYOUT: 200, ESCROW: 200, AWAITING: 0}
    async with sessions() as session:
        assert await session.scalar(select(func.count(Share.id))) == 0


async def test_a_period_whose_money_does_not_add_up_is_not_marked_closed(
        sessions: async_sessionmaker[AsyncSession]) -> None:
    """A share nobody paid for (planted here, as a bug or a bad restore would) stops the close before `closed`."""
    await fund(sessions, "alice", 1000, 500, AUTHORS)
    async with sessions() as session, session.begin():
        session.add(Share(period=PERIOD.label, donor="mallory", thing_uri=f"{AUTHORS[0]}/things/9",
                          author_uri=AUTHORS[0], host="here.example", recipient="bob", amount=5, currency="EUR",
                          destination=LOCAL))
    with pytest.raises(PeriodInvariantBroken, match=r"shares \(505\) and fees \(0\) do not add up to the spends"):
        await closer(sessions).close(PERIOD, classify)
    async with sessions() as session:
        assert await session.scalar(select(PeriodClose.state)) == "paying"
        assert await session.scalar(select(func.count(Payout.id))) == 0
        stray = await session.scalar(select(Share).where(Share.donor == "mallory"))
    async with sessions() as session, session.begin():
        await session.delete(await session.merge(stray))
    assert (await closer(sessions).close(PERIOD, classify)).state == "closed"
    async with sessions() as session:
        assert await close_invariants.flaws(session, PERIOD.label) == []
