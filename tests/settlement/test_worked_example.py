"""docs/settlement.md's worked example, run for real: the close, the accepted payout, the escrow return, the clearing.

The balance tables are read from the document's `balances` blocks, so the
document cannot drift from what the code books.
"""

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from settlement import clearings, escrow, flattrs, ledger, payouts, positions, sent_payouts, statements, topups, wallets
from settlement.closing import CloseSettings, PeriodCloser
from settlement.destinations import ESCROW, LOCAL, PAYOUT, Destination
from settlement.ledger import AccountKey
from settlement.models import Agreement, DonorClose, Earning, Share
from settlement.money import Money, parse_amount
from settlement.payouts import IncomingLine
from settlement.periods import parse_period

Sessions = async_sessionmaker[AsyncSession]
DOC = Path(__file__).resolve().parents[2] / "docs" / "settlement.md"
OCTOBER = parse_period("2026-10")
BOB, CAROL, ZOE = ("https://here.example/users/bob", "https://other.example/users/carol",
                   "https://mastodon.example/users/zoe")
THINGS = {"https://here.example/things/k3x9": BOB, "https://other.example/things/p7q2": CAROL,
          "https://mastodon.example/users/zoe/statuses/113525045423398741": ZOE}
CLOSED_AT = datetime(2026, 11, 1, 0, 5, tzinfo=UTC)
RETURNED_AT = datetime(2027, 5, 1, tzinfo=UTC)
CLEARED_AT = datetime(2027, 5, 3, 9, 30, tzinfo=UTC)


def documented_balances() -> dict[str, dict[str, dict[AccountKey, int]]]:
    """{instance: {stage: {account: minor units}}} from the document's balances blocks."""
    blocks = re.findall(r"^```balances (\S+)\n(.*?)^```", DOC.read_text(), flags=re.M | re.S)
    tables = {}
    for instance, text in blocks:
        header, *rows = [line.split() for line in text.strip().splitlines()]
        stages = header[1:]
        tables[instance] = {stage: {_account(row[0]): _minor(row[1 + index]) for row in rows}
                            for index, stage in enumerate(stages)}
    return tables


def _account(name: str) -> AccountKey:
    kind, owner = name.split(":", 1)
    return AccountKey(kind, owner, "EUR")


def _minor(text: str) -> int:
    amount = parse_amount(text.removeprefix("-"), "EUR", allow_zero=True).amount
    return -amount if text.startswith("-") else amount


def classify(author: str) -> Destination:
    if author == BOB:
        return Destination(LOCAL, "here.example", "bob")
    if author == CAROL:
        return Destination(PAYOUT, "other.example", "other.example")
    return Destination(ESCROW, "mastodon.example", author)


async def balances(sessions: Sessions, accounts: set[AccountKey]) -> dict[AccountKey, int]:
    async with sessions() as session:
        return {key: await ledger.balance(session, key) for key in accounts}


async def test_the_worked_example_books_what_the_document_says(sessions: Sessions, other: Sessions) -> None:
    documented = documented_balances()
    assert set(documented) == {"here.example", "other.example"}
    assert all(list(stages) == ["close", "accept", "return", "clear"] for stages in documented.values())
    assert len(documented["here.example"]["close"]) == 8
    here_accounts, other_accounts = set(documented["here.example"]["close"]), set(documented["other.example"]["close"])
    actual: dict[str, dict[str, dict[AccountKey, int]]] = {"here.example": {}, "other.example": {}}

    async def snapshot(stage: str) -> None:
        actual["here.example"][stage] = await balances(sessions, here_accounts)
        actual["other.example"][stage] = await balances(other, other_accounts)

    start = OCTOBER.start + timedelta(days=2)
    async with sessions() as session, session.begin():
        await topups.credit_by_hand(session, username="alice", money=Money(1000, "EUR"), reference="bank-1",
                                              now=start)
        await wallets.set_budget(session, "alice", Money(500, "EUR"), start)
        for index, (thing, author) in enumerate(THINGS.items()):
            await flattrs.record(session, donor="alice", thing_uri=thing, author_uri=author, period="2026-10",
                                 activity_id=f"https://here.example/activities/{index}", now=start)
    closer = PeriodCloser(sessions, CloseSettings("EUR", fee_basis_points=250), lambda: CLOSED_AT, "w",
                          lambda period, host: f"https://here.example/payouts/{period}/{host}")
    await closer.close(OCTOBER, classify)
    async with sessions() as session:
        donor = await session.scalar(select(DonorClose))
        assert (donor.spend, donor.fee) == (500, 12)
        shares = dict((await session.execute(select(Share.author_uri, Share.amount))).all())
        assert shares == {BOB: 163, CAROL: 162, ZOE: 163}
        earned = (await session.execute(select(Earning.creator, Earning.amount))).all()
        assert earned == [("bob", 163)]
    await snapshot("close")

    async with sessions() as session:
        ((kind, payout),) = await sent_payouts.pending(session)
        lines = await payouts.lines_of(session, payout)
    assert payout.total == 162
    async with other() as session, session.begin():
        refused = await payouts.receive(
            session, payout_id=payout.payout_id, source="here.example", period="2026-10", currency="EUR",
            lines=[IncomingLine(line.creator, line.thing, line.amount, "EUR", line.flattrs) for line in lines],
            credit_limit=100_000, creators={CAROL: "carol"}, now=CLOSED_AT)
    assert refused == []
    async with sessions() as session, session.begin():
        assert await sent_payouts.mark_sent(session, kind, payout.payout_id, CLOSED_AT)
        await sent_payouts.settle(session, payout_id=payout.payout_id, host="other.example", refused=[],
                                  now=CLOSED_AT)
    await snapshot("accept")

    for now, returned in ((RETURNED_AT - timedelta(microseconds=1), 0), (RETURNED_AT, 163)):
        async with sessions() as session, session.begin():
            report = await escrow.release_expired(session, now=now, claim_months=6, currency="EUR",
                                                  period_length="monthly")
        assert report.total == returned
    await snapshot("return")
    async with sessions() as here, other() as there:
        assert await positions.owed_to(here, "other.example", "EUR") == await positions.owed_by(
            there, "here.example", "EUR") == 162

    await clear(sessions, other)
    await snapshot("clear")
    assert actual == documented
    async with sessions() as here, other() as there:
        summary = await statements.conservation(here, "EUR") + await statements.conservation(there, "EUR")
        assert (summary.funded, summary.held, summary.owed_to, summary.owed_by) == (1000, 1000, 0, 0)
        assert summary.cleared_in == summary.cleared_out == 162
        assert await ledger.check(here) == [] and await ledger.check(there) == []


async def clear(sessions: Sessions, other: Sessions) -> None:
    """here.example's operator pays the 1.62 it owes by bank; other.example's operator confirms it arrived."""
    uri, now = "https://here.example/clearings/c1", CLEARED_AT
    async with sessions() as session, session.begin():
        session.add(_agreement("other.example"))
        await session.flush()
        await clearings.record_paid(session, uri=uri, host="other.example", currency="EUR", amount=162,
                                    reference="MECENE here.example 1", now=now)
    async with other() as session, session.begin():
        session.add(_agreement("here.example"))
        await session.flush()
        notified = await clearings.receive_notice(session, uri=uri, host="here.example", currency="EUR", amount=162,
                                                  netted=0, reference="MECENE here.example 1", now=now)
        assert await clearings.confirm(session, notified, "https://other.example/activities/a1", now) is not None
    async with sessions() as session, session.begin():
        assert await clearings.confirmed(session, host="other.example", uri=uri,
                                         answer_id="https://other.example/activities/a1", now=now) is not None


def _agreement(peer: str) -> Agreement:
    """In force since October: what `mecene peers propose` and `accept` leave on each side."""
    return Agreement(uri=f"https://{peer}/agreements/a", peer_host=peer, currency="EUR", state="in_force",
                     proposed_by_us=False, credit_limit=100_000, peer_credit_limit=100_000,
                     offer_activity_id=f"https://{peer}/activities/offer", created_at=OCTOBER.start,
                     answered_at=OCTOBER.start)
