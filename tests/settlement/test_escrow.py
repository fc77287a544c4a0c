"""Escrow on a real database: returned to each donor exactly after the claim window, claimed once, never twice."""

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from settlement import escrow, flattrs, ledger, topups, wallets
from settlement.closing import CloseSettings, PeriodCloser
from settlement.destinations import ESCROW
from settlement.escrow import EscrowHolding, Release, add_months, expiry
from settlement.ledger import AccountKey
from settlement.models import Earning, Share
from settlement.money import Money
from settlement.periods import parse_period
from settlement_hosts import classify

BOB = "https://here.example/users/bob"
ZOE = "https://plain.example/users/zoe"
YAN = "https://plain.example/users/yan"
CAROL = "https://mecene.example/users/carol"


async def close(sessions: async_sessionmaker[AsyncSession], label: str, donors: dict[str, tuple[int, list[str]]],
                *, credits: dict[str, int]) -> None:
    """Each donor's top-up, budget and flattred authors (one thing each), then the period's close."""
    period = parse_period(label)
    async with sessions() as session, session.begin():
        for donor, amount in credits.items():
            await topups.credit_by_hand(session, username=donor, money=Money(amount, "EUR"),
                                        reference=f"{label}:{donor}", now=period.start)
        for donor, (budget, authors) in donors.items():
            await wallets.set_budget(session, donor, Money(budget, "EUR"), period.start)
            for author in authors:
                await flattrs.record(session, donor=donor, thing_uri=f"{author}/things/{label}", author_uri=author,
                                     period=label, activity_id=f"https://here.example/a/{donor}/{label}/{author}",
                                     now=period.start)
    closer = PeriodCloser(sessions, CloseSettings("EUR"), lambda: period.end + timedelta(minutes=5), "w",
                          lambda period, host: f"https://here.example/payouts/{period}/{host}")
    assert (await closer.close(period, classify)).state == "closed"


async def balance(sessions: async_sessionmaker[AsyncSession], kind: str, owner: str) -> int:
    async with sessions() as session:
        return await ledger.balance(session, AccountKey(kind, owner, "EUR"))


async def release(sessions: async_sessionmaker[AsyncSession], now: datetime) -> escrow.ReleaseReport:
    async with sessions() as session, session.begin():
        return await escrow.release_expired(session, now=now, claim_months=6, currency="EUR",
                                            period_length="monthly")


async def claim(sessions: async_sessionmaker[AsyncSession], author: str, username: str, now: datetime) -> int:
    async with sessions() as session, session.begin():
        return await escrow.claim(session, author_uri=author, username=username, now=now)


async def january_and_may(sessions: async_sessionmaker[AsyncSession]) -> None:
    await close(sessions, "2026-01", {"alice": (600, [BOB, ZOE, YAN]), "dave": (101, [ZOE, YAN])},
                credits={"alice": 1000, "dave": 101})
    await close(sessions, "2026-05", {"alice": (300, [ZOE])}, credits={})


def test_months_are_calendar_months() -> None:
    assert add_months(datetime(2026, 8, 31, tzinfo=UTC), 6) == datetime(2027, 2, 28, tzinfo=UTC)
    assert add_months(datetime(2023, 8, 31, tzinfo=UTC), 6) == datetime(2024, 2, 29, tzinfo=UTC)
    assert add_months(datetime(2026, 11, 1, tzinfo=UTC), 2) == datetime(2027, 1, 1, tzinfo=UTC)
    assert add_months(datetime(2026, 1, 1, tzinfo=UTC), 24) == datetime(2028, 1, 1, tzinfo=UTC)
    assert expiry("2026-01", claim_months=6, period_length="monthly") == datetime(2026, 8, 1, tzinfo=UTC)
    assert expiry("2026-03-30", claim_months=1, period_length="daily") == datetime(2026, 4, 30, tzinfo=UTC)


async def test_expired_escrow_goes_back_to_each_donor_exactly_once(sessions: async_sessionmaker[AsyncSession],
                                                                   session: AsyncSession) -> None:
    await january_and_may(sessions)
    assert await balance(sessions, "escrow", ZOE) == 200 + 50 + 300
    assert await balance(sessions, "escrow", YAN) == 200 + 51
    assert (await release(sessions, datetime(2026, 8, 1, tzinfo=UTC) - timedelta(microseconds=1))).releases == []

    due = datetime(2026, 8, 1, tzinfo=UTC)
    report = await release(sessions, due)
    assert report.releases == [Release("2026-01", YAN, "alice", 200), Release("2026-01", YAN, "dave", 51),
                               Release("2026-01", ZOE, "alice", 200), Release("2026-01", ZOE, "dave", 50)]
    assert report.total == 501 and report.transaction_id is not None
    assert await balance(sessions, "wallet", "alice") == 1000 - 600 - 300 + 400
    assert await balance(sessions, "wallet", "dave") == 101
    assert (await balance(sessions, "escrow", ZOE), await balance(sessions, "escrow", YAN)) == (300, 0)
    returned = (await session.execute(select(Share.destination, Share.settled_at).where(
        Share.period == "2026-01", Share.author_uri.in_([ZOE, YAN])))).all()
    assert set(returned) == {(escrow.RETURNED, due)}
    assert await balance(sessions, "creator", "bob") == 200

    assert (await release(sessions, due + timedelta(days=30))).releases == []
    assert (await release(sessions, datetime(2026, 12, 1, tzinfo=UTC))).total == 300
    assert await balance(sessions, "wallet", "alice") == 1000 - 600 + 400
    assert await ledger.check(session) == []


async def test_concurrent_releases_return_each_share_once(sessions: async_sessionmaker[AsyncSession]) -> None:
    await january_and_may(sessions)

    async def release_now() -> int:
        return (await release(sessions, datetime(2027, 1, 1, tzinfo=UTC))).total

    totals = await asyncio.gather(*(release_now() for _ in range(4)))
    assert sorted(totals) == [0, 0, 0, 801]
    async with sessions() as session:
        assert await balance(sessions, "wallet", "alice") == 1000 - 200
        assert await balance(sessions, "wallet", "dave") == 101
        assert await ledger.check(session) == []


async def test_a_local_creator_claims_an_authors_escrow_once(sessions: async_sessionmaker[AsyncSession],
                                                              session: AsyncSession) -> None:
    await january_and_may(sessions)
    now = datetime(2026, 6, 2, tzinfo=UTC)
    assert await claim(sessions, ZOE, "zoe", now) == 550
    assert await claim(sessions, ZOE, "zoe", now) == 0
    assert await balance(sessions, "creator", "zoe") == 550
    assert await balance(sessions, "escrow", ZOE) == 0
    earned = await session.execute(select(Earning.period, Earning.thing_uri, Earning.source, Earning.amount,
                                          Earning.flattrs).where(Earning.creator == "zoe"))
    assert sorted(earned) == [("2026-01", f"{ZOE}/things/2026-01", "escrow", 250, 2),
                              ("2026-05", f"{ZOE}/things/2026-05", "escrow", 300, 1)]
    claimed = await session.scalars(select(Share.recipient).where(Share.author_uri == ZOE).distinct())
    assert list(claimed) == ["zoe"]

    report = await release(sessions, datetime(2027, 1, 1, tzinfo=UTC))
    assert {release.author for release in report.releases} == {YAN}
    assert await balance(sessions, "creator", "zoe") == 550
    assert await ledger.check(session) == []


async def test_a_claim_adds_to_an_earlier_claim_of_the_same_thing(sessions: async_sessionmaker[AsyncSession],
                                                                  session: AsyncSession) -> None:
    await close(sessions, "2026-01", {"alice": (100, [ZOE])}, credits={"alice": 1000})
    assert await claim(sessions, ZOE, "zoe", datetime(2026, 2, 2, tzinfo=UTC)) == 100
    async with sessions() as writer, writer.begin():
        await writer.execute(Share.__table__.insert().values(
            period="2026-01", donor="erin", thing_uri=f"{ZOE}/things/2026-01", author_uri=ZOE, host="plain.example",
            recipient=ZOE, amount=40, currency="EUR", destination=ESCROW))
        await ledger.post(writer, kind="test", idempotency_key="erin", now=datetime(2026, 2, 3, tzinfo=UTC),
                          lines=[(AccountKey("wallet", "erin", "EUR"), -40), (AccountKey("escrow", ZOE, "EUR"), 40)])
    assert await claim(sessions, ZOE, "zoe", datetime(2026, 2, 4, tzinfo=UTC)) == 40
    earned = await session.execute(select(Earning.amount, Earning.flattrs).where(Earning.creator == "zoe"))
    assert list(earned) == [(140, 2)]
    assert await balance(sessions, "creator", "zoe") == 140
    assert await ledger.check(session) == []


async def test_held_lists_each_author_with_the_oldest_expiry(sessions: async_sessionmaker[AsyncSession],
                                                             session: AsyncSession) -> None:
    await january_and_may(sessions)
    holdings = await escrow.held(session, currency="EUR", claim_months=6, period_length="monthly")
    assert holdings == [EscrowHolding(ZOE, 550, 3, "2026-01", datetime(2026, 8, 1, tzinfo=UTC)),
                        EscrowHolding(YAN, 251, 2, "2026-01", datetime(2026, 8, 1, tzinfo=UTC))]
    await release(sessions, datetime(2026, 8, 1, tzinfo=UTC))
    assert await escrow.held(session, currency="EUR", claim_months=6, period_length="monthly") == [
        EscrowHolding(ZOE, 300, 1, "2026-05", datetime(2026, 12, 1, tzinfo=UTC))]
    assert await escrow.held(session, currency="USD", claim_months=6, period_length="monthly") == []


@pytest.mark.parametrize("months", [1, 6])
async def test_the_window_is_the_configured_number_of_months(sessions: async_sessionmaker[AsyncSession],
                                                             session: AsyncSession, months: int) -> None:
    await close(sessions, "2026-01", {"alice": (100, [ZOE])}, credits={"alice": 100})
    end = parse_period("2026-01").end
    async with sessions() as writer, writer.begin():
        early = await escrow.release_expired(writer, now=add_months(end, months) - timedelta(seconds=1),
                                             claim_months=months, currency="EUR", period_length="monthly")
        on_time = await escrow.release_expired(writer, now=add_months(end, months), claim_months=months,
                                               currency="EUR", period_length="monthly")
    assert (early.total, on_time.total) == (0, 100)
    assert await ledger.check(session) == []
