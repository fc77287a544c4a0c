"""Statements of two instances, each on its own real database: the two sides of a pair agree, money is conserved."""

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from settlement import escrow, flattrs, ledger, payouts, positions, sent_payouts, statements, topups, wallets
from settlement.closing import CloseSettings, PeriodCloser
from settlement.destinations import ESCROW, LOCAL, PAYOUT, Destination
from settlement.ledger import AccountKey
from settlement.money import Money
from settlement.payouts import IncomingLine
from settlement.periods import parse_period
from settlement.statements import Conservation, PeriodLine

Sessions = async_sessionmaker[AsyncSession]
HERE, THERE = "here.example", "mecene.example"
PERIOD = parse_period("2026-10")
AFTER = PERIOD.end + timedelta(minutes=5)
CAROL, NOBODY, ZOE = (f"https://{THERE}/users/carol", f"https://{THERE}/users/nobody",
                      "https://plain.example/users/zoe")
BOB = f"https://{HERE}/users/bob"


def classifier(home: str) -> Callable[[str], Destination]:
    def classify(author: str) -> Destination:
        host = author.split("/")[2]
        if host == home:
            return Destination(LOCAL, host, author.rsplit("/", 1)[1])
        if host in (HERE, THERE):
            return Destination(PAYOUT, host, host)
        return Destination(ESCROW, host, author)
    return classify


async def close(sessions: Sessions, home: str, donor: str, amount: int, authors: list[str]) -> None:
    async with sessions() as session, session.begin():
        await topups.credit_by_hand(session, username=donor, money=Money(amount, "EUR"), reference=donor,
                                              now=PERIOD.start)
        await wallets.set_budget(session, donor, Money(amount, "EUR"), PERIOD.start)
        for author in authors:
            await flattrs.record(session, donor=donor, thing_uri=f"{author}/things/1", author_uri=author,
                                 period=PERIOD.label, activity_id=f"https://{home}/a/{donor}/{author}",
                                 now=PERIOD.start)
    closer = PeriodCloser(sessions, CloseSettings("EUR"), lambda: AFTER, "w",
                          lambda period, host: f"https://{home}/payouts/{period}/{host}")
    await closer.close(PERIOD, classifier(home))


async def deliver(sender: Sessions, sender_host: str, receiver: Sessions, creators: dict[str, str]) -> list[tuple]:
    """The sender's pending payout, received once by the receiver; returns the refused (creator, thing) pairs."""
    async with sender() as session:
        ((_, payout),) = await sent_payouts.pending(session)
        lines = await payouts.lines_of(session, payout)
    async with receiver() as session, session.begin():
        refusals = await payouts.receive(
            session, payout_id=payout.payout_id, source=sender_host, period=payout.period, currency="EUR",
            lines=[IncomingLine(line.creator, line.thing, line.amount, "EUR", line.flattrs) for line in lines],
            credit_limit=100_000, creators=creators, now=AFTER)
    return [(refusal.creator, refusal.thing) for refusal in refusals]


async def settle(sender: Sessions, receiver_host: str, refused: list[tuple]) -> None:
    async with sender() as session, session.begin():
        ((kind, payout),) = await sent_payouts.pending(session)
        assert await sent_payouts.mark_sent(session, kind, payout.payout_id, AFTER)
        assert await sent_payouts.settle(session, payout_id=payout.payout_id, host=receiver_host, refused=refused,
                                         now=AFTER)


async def statement(sessions: Sessions) -> statements.Statement:
    async with sessions() as session:
        return await statements.statement(session, "EUR")


async def test_the_two_sides_of_a_pair_agree_and_money_is_conserved(sessions: Sessions, other: Sessions) -> None:
    await close(sessions, HERE, "alice", 900, [CAROL, NOBODY, ZOE])
    await close(other, THERE, "bea", 250, [BOB])

    here_refused = await deliver(sessions, HERE, other, {CAROL: "carol"})
    assert here_refused == [(NOBODY, f"{NOBODY}/things/1")]
    before = (await statement(sessions)).positions[0]
    assert (before.host, before.owed_to, before.in_flight, before.owed_by) == (THERE, 0, 600, 0)
    assert before.periods == [PeriodLine("2026-10", 600, "pending", 600, 0, 0, None)]

    await settle(sessions, THERE, here_refused)
    assert await deliver(other, THERE, sessions, {BOB: "bob"}) == []
    await settle(other, HERE, [])

    here, far = await statement(sessions), await statement(other)
    (position,) = here.positions
    assert (position.host, position.owed_to, position.in_flight, position.owed_by, position.net) == (
        THERE, 300, 0, 250, -50)
    assert position.periods == [PeriodLine("2026-10", 600, "settled", 0, 300, 300, 250)]
    (mirror,) = far.positions
    assert (mirror.host, mirror.owed_to, mirror.owed_by, mirror.net) == (HERE, 250, 300, 50)
    assert mirror.periods == [PeriodLine("2026-10", 250, "settled", 0, 250, 0, 300)]
    async with sessions() as a, other() as b:
        assert await positions.owed_to(a, THERE, "EUR") == await positions.owed_by(b, HERE, "EUR") == 300
        assert await positions.owed_by(a, THERE, "EUR") == await positions.owed_to(b, HERE, "EUR") == 250
        assert await ledger.check(a) == [] and await ledger.check(b) == []

    assert here.conservation == Conservation("EUR", funded=900, wallets=0, pending=250, escrow=600, owed_to=300,
                                             owed_by=250)
    assert here.conservation.holds and far.conservation.holds
    federation = here.conservation + far.conservation
    assert federation.owed_to == federation.owed_by
    assert federation.funded == federation.held == 900 + 250


async def test_refused_lines_return_to_the_donor_with_the_rest_of_escrow(sessions: Sessions, other: Sessions) -> None:
    await close(sessions, HERE, "alice", 900, [CAROL, NOBODY, ZOE])
    await settle(sessions, THERE, await deliver(sessions, HERE, other, {CAROL: "carol"}))
    async with sessions() as session, session.begin():
        report = await escrow.release_expired(session, now=datetime(2027, 6, 1, tzinfo=UTC),
                                              claim_months=6, currency="EUR", period_length="monthly")
    assert {(release.author, release.amount) for release in report.releases} == {(NOBODY, 300), (ZOE, 300)}
    async with sessions() as session:
        summary = await statements.conservation(session, "EUR")
        assert (summary.wallets, summary.escrow, summary.owed_to, summary.funded) == (600, 0, 300, 900)
        assert summary.holds
        assert await ledger.check(session) == []


async def test_an_account_the_summary_does_not_name_breaks_conservation(sessions: Sessions) -> None:
    async with sessions() as session, session.begin():
        await topups.credit_by_hand(session, username="alice", money=Money(500, "EUR"), reference="r",
                                              now=PERIOD.start)
        await ledger.post(session, kind="test", idempotency_key="stray", now=PERIOD.start, lines=[
            (AccountKey("wallet", "alice", "EUR"), -100), (AccountKey("mystery", "", "EUR"), 100)])
    async with sessions() as session:
        summary = await statements.conservation(session, "EUR")
        assert (summary.funded, summary.wallets) == (500, 400)
        assert not summary.holds
        assert await ledger.check(session) == []


def test_statements_of_different_currencies_do_not_add_up() -> None:
    with pytest.raises(ValueError, match="EUR and USD"):
        Conservation("EUR") + Conservation("USD")
