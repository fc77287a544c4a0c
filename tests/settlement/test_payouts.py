"""Payouts on a real database: received once per id, refused lines answered, settled with refusals to escrow."""

from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from settlement import ledger, payouts, sent_payouts
from settlement.ledger import AccountKey
from settlement.models import Earning, Payout, Share
from settlement.payouts import INVALID_LINE, UNKNOWN_CREATOR, WRONG_CURRENCY, IncomingLine, Refusal

NOW = datetime(2026, 11, 2, tzinfo=UTC)
BOB = "https://b.example/users/bob"
CREATORS = {BOB: "bob"}


def line(creator: str, thing: str, amount: int | None, currency: str = "EUR") -> IncomingLine:
    return IncomingLine(creator, thing, amount, currency, 1)


async def balance(session: AsyncSession, kind: str, owner: str) -> int:
    return await ledger.balance(session, AccountKey(kind, owner, "EUR"))


async def test_a_payout_is_credited_once_and_its_refusals_repeated(sessions: async_sessionmaker[AsyncSession]) -> None:
    lines = [line(BOB, "t1", 150), line(BOB, "t2", 50), line("https://b.example/users/ghost", "t3", 70),
             line(BOB, "t4", 30, "USD"), line(BOB, "t5", None), line(BOB, "t1", 10)]
    expected = [Refusal("https://b.example/users/ghost", "t3", UNKNOWN_CREATOR), Refusal(BOB, "t4", WRONG_CURRENCY),
                Refusal(BOB, "t5", INVALID_LINE), Refusal(BOB, "t1", INVALID_LINE)]
    for _ in range(2):
        async with sessions() as session, session.begin():
            refused = await payouts.receive(session, payout_id="https://a.example/payouts/2026-10/b",
                                            source="a.example", period="2026-10", currency="EUR", lines=lines,
                                            credit_limit=100_000, creators=CREATORS, now=NOW)
        assert refused == expected
    async with sessions() as session:
        assert await balance(session, "pending", "bob") == 200
        assert await balance(session, "creator", "bob") == 0
        assert await balance(session, "due_from", "a.example") == -200
        earned = await session.execute(select(Earning.thing_uri, Earning.amount, Earning.source))
        assert sorted(earned) == [("t1", 150, "a.example"), ("t2", 50, "a.example")]
        assert await ledger.check(session) == []


async def _sent_payout(session: AsyncSession) -> None:
    """What a close leaves: shares for two lines to b.example in flight, and the pending payout."""
    for donor, thing, amount in (("alice", "t1", 120), ("dave", "t1", 30), ("alice", "t2", 50)):
        session.add(Share(period="2026-10", donor=donor, thing_uri=thing, author_uri=BOB, host="b.example",
                          recipient="b.example", amount=amount, currency="EUR", destination="payout"))
    await ledger.post(session, kind="close", idempotency_key="close:test", now=NOW, lines=[
        (AccountKey("wallet", "alice", "EUR"), -170), (AccountKey("wallet", "dave", "EUR"), -30),
        (AccountKey("in_flight", "b.example", "EUR"), 200)])
    session.add(Payout(period="2026-10", host="b.example", payout_id="p1", total=200, currency="EUR", state="sent",
                       created_at=NOW))


async def test_settling_moves_accepted_lines_to_due_and_refused_ones_to_escrow(
        sessions: async_sessionmaker[AsyncSession]) -> None:
    async with sessions() as session, session.begin():
        await _sent_payout(session)
    async with sessions() as session:
        lines = await payouts.lines_of(session, await session.scalar(select(Payout).where(Payout.payout_id == "p1")))
    assert [(li.thing, li.amount, li.flattrs) for li in lines] == [("t1", 150, 2), ("t2", 50, 1)]
    for attempt in range(2):
        async with sessions() as session, session.begin():
            settled = await sent_payouts.settle(session, payout_id="p1", host="b.example", refused=[(BOB, "t2")],
                                                now=NOW)
        assert settled is (attempt == 0)
    async with sessions() as session:
        assert await balance(session, "in_flight", "b.example") == 0
        assert await balance(session, "due_to", "b.example") == 150
        assert await balance(session, "escrow", BOB) == 50
        escrowed = await session.execute(select(Share.donor, Share.destination, Share.recipient).where(
            Share.thing_uri == "t2"))
        assert list(escrowed) == [("alice", "escrow", BOB)]
        assert await ledger.check(session) == []


async def test_an_answer_from_another_host_settles_nothing(sessions: async_sessionmaker[AsyncSession]) -> None:
    async with sessions() as session, session.begin():
        await _sent_payout(session)
        assert not await sent_payouts.settle(session, payout_id="p1", host="evil.example", refused=[], now=NOW)
    async with sessions() as session:
        assert await balance(session, "in_flight", "b.example") == 200


async def test_a_reject_returns_every_line_to_escrow_whatever_it_lists(
        sessions: async_sessionmaker[AsyncSession]) -> None:
    """A destination that could not read our Payout credited nothing: its Reject lists no line."""
    async with sessions() as session, session.begin():
        await _sent_payout(session)
        assert await sent_payouts.settle(session, payout_id="p1", host="b.example", refused=[], rejected=True, now=NOW)
    async with sessions() as session:
        assert await balance(session, "in_flight", "b.example") == 0
        assert await balance(session, "due_to", "b.example") == 0
        assert await balance(session, "escrow", BOB) == 200
        assert set(await session.scalars(select(Share.destination))) == {"escrow"}
        assert await ledger.check(session) == []
