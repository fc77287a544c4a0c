"""`mecene ledger check`, `mecene statements` and `mecene escrow` through `server.cli.main`, on a real database."""

import asyncio
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from config.settings import Settings, load
from federation_harness import Databases
from server.cli.main import main
from server.wiring import build_instance
from settlement import flattrs, ledger, payouts, sent_payouts, topups, wallets
from settlement.closing import CloseSettings, PeriodCloser
from settlement.destinations import ESCROW, LOCAL, PAYOUT, Destination
from settlement.escrow import add_months
from settlement.ledger import AccountKey
from settlement.models import Account, Entry, Transaction
from settlement.money import Money
from settlement.periods import Period, parse_period, period_of

BOB, CAROL, ZOE = ("http://localhost:8080/users/bob", "https://peer.example/users/carol",
                   "https://plain.example/users/zoe")


@pytest.fixture
async def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Settings]:
    databases = Databases(tmp_path)
    for name in [name for name in os.environ if name.startswith("MECENE_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("MECENE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("MECENE_DATABASE_URL", await databases.new("reports"))
    try:
        yield load(None)
    finally:
        await databases.drop_all()


async def mecene(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """The command as `main` runs it (its own event loop, hence a thread); exit status, stdout, stderr."""
    status = await asyncio.to_thread(main, list(argv))
    out, err = capsys.readouterr()
    return status, out, err


@asynccontextmanager
async def database(settings: Settings) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """The instance's database, migrated as `mecene` would."""
    instance = build_instance(settings)
    await instance.start()
    try:
        yield instance.sessions
    finally:
        await instance.close()


async def close(settings: Settings, period: Period, authors: list[str]) -> None:
    """alice tops up 10.00, budgets 6.00 and flattrs a thing of each author; the period closes, the peer pays bob."""
    async with database(settings) as sessions:
        await _close(sessions, period, authors)


async def _close(sessions: async_sessionmaker[AsyncSession], period: Period, authors: list[str]) -> None:
    now = period.start + timedelta(hours=1)
    async with sessions() as session, session.begin():
        await topups.credit_by_hand(session, username="alice", money=Money(1000, "EUR"),
                                              reference=period.label, now=now)
        await wallets.set_budget(session, "alice", Money(600, "EUR"), now)
        for author in authors:
            await flattrs.record(session, donor="alice", thing_uri=f"{author}/things/1", author_uri=author,
                                 period=period.label, activity_id=f"{BOB}/a/{period.label}/{author}", now=now)

    def classify(author: str) -> Destination:
        if author == BOB:
            return Destination(LOCAL, "localhost:8080", "bob")
        if author == CAROL:
            return Destination(PAYOUT, "peer.example", "peer.example")
        return Destination(ESCROW, "plain.example", author)

    after = period.end + timedelta(minutes=1)
    await PeriodCloser(sessions, CloseSettings("EUR"), lambda: after, "w",
                       lambda label, host: f"{BOB}/payouts/{label}/{host}").close(period, classify)
    async with sessions() as session, session.begin():
        for kind, payout in await sent_payouts.pending(session):
            assert await sent_payouts.mark_sent(session, kind, payout.payout_id, after)
            await sent_payouts.settle(session, payout_id=payout.payout_id, host=payout.host, refused=[], now=after)
        await payouts.receive(session, payout_id=f"https://peer.example/p/{period.label}", source="peer.example",
                              period=period.label, currency="EUR", credit_limit=100_000, creators={BOB: "bob"},
                              now=after,
                              lines=[payouts.IncomingLine(BOB, f"{BOB}/things/1", 70, "EUR", 2)])


async def test_ledger_check_proves_balance_and_lists_what_does_not(settings: Settings,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    async with database(settings) as sessions:
        assert await mecene(capsys, "ledger", "check") == (0, "ledger balances: 0 transactions, 0 entries\n", "")
        async with sessions() as session, session.begin():
            await topups.credit_by_hand(
                session, username="alice", money=Money(1000, "EUR"), reference="r", now=datetime.now(UTC))
            await ledger.post(session, kind="t", idempotency_key="t", now=datetime.now(UTC), lines=[
                (AccountKey("wallet", "alice", "EUR"), -5), (AccountKey("fee", "", "EUR"), 5)])
        assert await mecene(capsys, "ledger", "check") == (0, "ledger balances: 2 transactions, 4 entries\n", "")

        async with sessions() as session, session.begin():
            wallet = await session.scalar(select(Account.id).where(Account.kind == "wallet"))
            topup = await session.scalar(select(Transaction.id).where(Transaction.kind == "topup"))
            await session.execute(Entry.__table__.insert().values(transaction_id=topup, account_id=wallet, amount=5,
                                                                  currency="EUR"))
        status, out, err = await mecene(capsys, "ledger", "check")
        assert status == 1
        assert out == f"transaction {topup}: its EUR entries sum to 5 minor units, not zero\n"
        assert err == "mecene: the ledger does not balance (1 of 2 transactions listed above)\n"


async def test_ledger_check_fails_when_money_waiting_for_an_agreement_has_no_shares(
        settings: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    async with database(settings) as sessions, sessions() as session, session.begin():
        await topups.credit_by_hand(session, username="alice", money=Money(1000, "EUR"), reference="r",
                                              now=datetime.now(UTC))
        await ledger.post(session, kind="t", idempotency_key="t", now=datetime.now(UTC), lines=[
            (AccountKey("wallet", "alice", "EUR"), -3), (AccountKey("awaiting_peer", "peer.example", "EUR"), 3)])
    status, out, err = await mecene(capsys, "ledger", "check")
    assert status == 1
    assert out == "awaiting_peer:peer.example holds 3 minor units of EUR, its waiting shares add up to 0\n"
    assert err == "mecene: money waiting for agreements does not match its shares (see above)\n"


async def test_statements_print_each_instance_and_the_conservation_check(
        settings: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    await close(settings, parse_period("2026-01"), [BOB, CAROL, ZOE])
    status, out, err = await mecene(capsys, "statements")
    assert (status, err) == (0, "")
    lines = out.splitlines()
    assert lines[0].split() == ["instance", "(EUR)", "owed", "to", "them", "in", "flight", "owed", "by", "them", "net"]
    assert lines[1].split() == ["peer.example", "2.00", "0.00", "0.70", "-1.30"]
    assert lines[2].split() == ["2026-01", "sent", "2.00", "EUR", "(settled:", "accepted", "2.00", "EUR,", "refused",
                                "0.00", "EUR,", "in", "flight", "0.00", "EUR)", "received", "0.70", "EUR"]
    assert lines[3].split() == ["total", "2.00", "0.00", "0.70", "-1.30"]
    assert lines[-1] == ("conservation: funded 10.00 EUR + owed by instances 0.70 EUR + cleared in 0.00 EUR = "
                         "wallets 4.00 EUR + creators 2.00 EUR + to withdraw 0.00 EUR + pending 0.70 EUR + fees "
                         "0.00 EUR + escrow 2.00 EUR + awaiting agreements 0.00 EUR + in flight 0.00 EUR + owed to "
                         "instances 2.00 EUR + cleared out 0.00 EUR + paid out 0.00 EUR: holds")

    async with database(settings) as sessions, sessions() as session, session.begin():
        await ledger.post(session, kind="t", idempotency_key="stray", now=datetime.now(UTC), lines=[
            (AccountKey("wallet", "alice", "EUR"), -1), (AccountKey("mystery", "", "EUR"), 1)])
    status, out, err = await mecene(capsys, "statements")
    assert status == 1 and out.rstrip().endswith("DOES NOT HOLD")
    assert err == "mecene: money is not conserved (see above); run `mecene ledger check`\n"


async def test_escrow_is_listed_then_what_expired_returns_to_the_donor(
        settings: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    now = datetime.now(UTC)
    old, recent = period_of(add_months(now, -7)), period_of(now).previous()
    await close(settings, old, [ZOE])
    await close(settings, recent, [ZOE])
    expires = f"{add_months(old.end, 6):%Y-%m-%d} 00:00 UTC"
    status, out, _ = await mecene(capsys, "escrow", "list")
    assert status == 0
    assert out.splitlines() == ["author\theld\tshares\toldest period\treturns to donors on",
                                f"{ZOE}\t12.00 EUR\t2\t{old.label}\t{expires}"]

    status, out, _ = await mecene(capsys, "escrow", "release")
    assert status == 0
    assert out.splitlines() == [f"returned 6.00 EUR to alice (held for {ZOE}, period {old.label})",
                                "Returned 6.00 EUR to 1 donor."]
    assert (await mecene(capsys, "escrow", "release"))[1] == (
        "Nothing to return: no escrow has passed its 6-month claim window.\n")
    assert (await mecene(capsys, "escrow", "list"))[1].splitlines()[1].split("\t")[1:4] == [
        "6.00 EUR", "1", recent.label]
    async with database(settings) as sessions, sessions() as session:
        assert await ledger.balance(session, AccountKey("wallet", "alice", "EUR")) == 2000 - 600
        assert await ledger.check(session) == []
