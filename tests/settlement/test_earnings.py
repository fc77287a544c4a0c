"""A creator's earnings from closes, received payouts and escrow claims, summed per period and per thing."""

from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from settlement import earnings, escrow, flattrs, ledger, payouts, topups, wallets
from settlement.closing import CloseSettings, PeriodCloser
from settlement.destinations import ESCROW, LOCAL, Destination
from settlement.earnings import Earnings, PeriodEarnings, ThingEarnings
from settlement.money import Money
from settlement.payouts import IncomingLine
from settlement.periods import parse_period

BOB = "https://here.example/users/bob"
ZOE = "https://plain.example/users/zoe"
ESSAY, NOTE, TOOT = f"{BOB}/things/essay", f"{BOB}/things/note", f"{ZOE}/statuses/1"
AUTHORS = {ESSAY: BOB, NOTE: BOB, TOOT: ZOE}


def classify(author: str) -> Destination:
    if author == BOB:
        return Destination(LOCAL, "here.example", "bob")
    return Destination(ESCROW, "plain.example", author)


async def close(sessions: async_sessionmaker[AsyncSession], label: str,
                gifts: dict[str, tuple[int, list[str]]]) -> None:
    """Each donor tops up and budgets `amount` and flattrs `things`; then the period closes."""
    period = parse_period(label)
    async with sessions() as session, session.begin():
        for donor, (amount, things) in gifts.items():
            await topups.credit_by_hand(session, username=donor, money=Money(amount, "EUR"),
                                                  reference=f"{label}:{donor}", now=period.start)
            await wallets.set_budget(session, donor, Money(amount, "EUR"), period.start)
            for thing in things:
                await flattrs.record(session, donor=donor, thing_uri=thing, author_uri=AUTHORS[thing], period=label,
                                     activity_id=f"https://here.example/a/{label}/{donor}/{thing}", now=period.start)
    closer = PeriodCloser(sessions, CloseSettings("EUR"), lambda: period.end + timedelta(minutes=1), "w",
                          lambda period, host: f"https://here.example/payouts/{period}/{host}")
    await closer.close(period, classify)


async def test_earnings_sum_every_source_per_period_and_thing(sessions: async_sessionmaker[AsyncSession]) -> None:
    await close(sessions, "2026-09", {"alice": (600, [ESSAY, NOTE, TOOT])})
    await close(sessions, "2026-10", {"alice": (300, [ESSAY]), "dave": (100, [ESSAY])})
    now = parse_period("2026-11").start
    async with sessions() as session, session.begin():
        await payouts.receive(session, payout_id="https://mecene.example/payouts/2026-10", source="mecene.example",
                              period="2026-10", currency="EUR", lines=[IncomingLine(BOB, ESSAY, 70, "EUR", 3)],
                              credit_limit=100_000, creators={BOB: "bob"}, now=now)
        assert await escrow.claim(session, author_uri=ZOE, username="zoe", now=now) == 200

    async with sessions() as session:
        bob = await earnings.of_creator(session, "bob", "EUR")
        assert bob == Earnings("bob", "EUR", [
            PeriodEarnings("2026-10", [ThingEarnings(ESSAY, 470, 5)]),
            PeriodEarnings("2026-09", [ThingEarnings(ESSAY, 200, 1), ThingEarnings(NOTE, 200, 1)])], 870, 7)
        assert (bob.amount, bob.flattrs, bob.periods[1].amount, bob.periods[1].flattrs) == (870, 7, 400, 2)
        september = await earnings.of_creator(session, "bob", "EUR", "2026-09")
        assert [period.period for period in september.periods] == ["2026-09"] and september.amount == 400
        zoe = await earnings.of_creator(session, "zoe", "EUR")
        assert zoe.periods == [PeriodEarnings("2026-09", [ThingEarnings(TOOT, 200, 1)])]
        assert (await earnings.of_creator(session, "bob", "USD")).periods == []
        assert (await earnings.of_creator(session, "nobody", "EUR")).amount == 0
        assert await ledger.check(session) == []


async def test_the_best_earning_thing_comes_first(sessions: async_sessionmaker[AsyncSession]) -> None:
    await close(sessions, "2026-09", {"alice": (300, [ESSAY, NOTE]), "dave": (100, [NOTE])})
    async with sessions() as session:
        (september,) = (await earnings.of_creator(session, "bob", "EUR")).periods
    assert september.things == [ThingEarnings(NOTE, 250, 2), ThingEarnings(ESSAY, 150, 1)]
