"""The double-entry ledger on a real, migrated database."""

import asyncio
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from settlement import ledger
from settlement.ledger import AccountKey, Imbalance, UnbalancedTransaction
from settlement.models import Account, Entry, Transaction
from settlement.money import MoneyError

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
ALICE = AccountKey("wallet", "alice", "EUR")
BOB = AccountKey("wallet", "bob", "EUR")
PAYIN = AccountKey("payin", "manual", "EUR")


async def test_a_posted_transaction_moves_money(session: AsyncSession) -> None:
    transaction_id, created = await ledger.post(
        session, kind="topup", idempotency_key="t1", lines=[(ALICE, 1000), (PAYIN, -1000)], now=NOW, memo="hello")
    await ledger.post(session, kind="gift", idempotency_key="t2", lines=[(ALICE, -250), (BOB, 250)], now=NOW)
    await session.commit()
    assert created
    assert await ledger.balance(session, ALICE) == 750
    assert await ledger.balance(session, BOB) == 250
    assert await ledger.balance(session, PAYIN) == -1000
    assert await ledger.balance(session, AccountKey("wallet", "nobody", "EUR")) == 0
    stored = await session.get(Transaction, transaction_id)
    assert stored is not None and stored.kind == "topup" and stored.memo == "hello" and stored.created_at == NOW
    assert await ledger.check(session) == []


async def test_amounts_beyond_32_bits_are_kept(session: AsyncSession) -> None:
    big = 10**12
    await ledger.post(session, kind="topup", idempotency_key="big", lines=[(ALICE, big), (PAYIN, -big)], now=NOW)
    await ledger.post(session, kind="topup", idempotency_key="big2", lines=[(ALICE, big), (PAYIN, -big)], now=NOW)
    await session.commit()
    assert await ledger.balance(session, ALICE) == 2 * big
    assert await ledger.check(session) == []


async def test_a_repeated_key_writes_nothing(session: AsyncSession) -> None:
    first = await ledger.post(session, kind="topup", idempotency_key="k", lines=[(ALICE, 500), (PAYIN, -500)], now=NOW)
    again = await ledger.post(session, kind="topup", idempotency_key="k", lines=[(ALICE, 500), (PAYIN, -500)], now=NOW)
    await session.commit()
    assert first == (first[0], True)
    assert again == (first[0], False)
    assert await ledger.balance(session, ALICE) == 500
    assert await session.scalar(select(func.count()).select_from(Entry)) == 2
    assert await ledger.check(session) == []


async def test_concurrent_posts_with_one_key_make_one_transaction(
        sessions: async_sessionmaker[AsyncSession]) -> None:
    async def post_once() -> tuple[int, bool]:
        async with sessions() as session:
            result = await ledger.post(
                session, kind="topup", idempotency_key="race", lines=[(ALICE, 700), (PAYIN, -700)], now=NOW)
            await session.commit()
            return result

    results = await asyncio.gather(post_once(), post_once())
    assert sorted(created for _, created in results) == [False, True]
    assert results[0][0] == results[1][0]
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Transaction)) == 1
        assert await ledger.balance(session, ALICE) == 700
        assert await ledger.check(session) == []


async def test_concurrent_posts_create_each_account_once(sessions: async_sessionmaker[AsyncSession]) -> None:
    async def post(key: str) -> None:
        async with sessions() as session:
            await ledger.post(session, kind="topup", idempotency_key=key, lines=[(ALICE, 1), (PAYIN, -1)], now=NOW)
            await session.commit()

    await asyncio.gather(*(post(f"k{n}") for n in range(4)))
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Account)) == 2
        assert await ledger.balance(session, ALICE) == 4
        assert await ledger.check(session) == []


@pytest.mark.parametrize("lines", [
    [(ALICE, 500), (PAYIN, -499)],
    [(ALICE, 500), (AccountKey("payin", "manual", "USD"), -500)],
    [(ALICE, 500)],
    [],
])
async def test_unbalanced_lines_are_refused_and_nothing_is_written(
        session: AsyncSession, lines: list[tuple[AccountKey, int]]) -> None:
    with pytest.raises(UnbalancedTransaction):
        await ledger.post(session, kind="topup", idempotency_key="bad", lines=lines, now=NOW)
    await session.commit()
    for table in (Transaction, Entry, Account):
        assert await session.scalar(select(func.count()).select_from(table)) == 0
    assert await ledger.check(session) == []


@pytest.mark.parametrize(("lines", "error"), [
    ([(ALICE, 0), (PAYIN, 0)], ValueError),
    ([(ALICE, 5.0), (PAYIN, -5.0)], TypeError),
    ([(AccountKey("wallet", "alice", "ZZZ"), 5), (AccountKey("payin", "manual", "ZZZ"), -5)], MoneyError),
])
async def test_zero_float_and_unknown_currency_lines_are_refused(
        session: AsyncSession, lines: list[tuple[AccountKey, int]], error: type[Exception]) -> None:
    with pytest.raises(error):
        await ledger.post(session, kind="topup", idempotency_key="bad", lines=lines, now=NOW)
    assert await session.scalar(select(func.count()).select_from(Transaction)) == 0
    assert await ledger.check(session) == []


async def test_a_transaction_may_move_several_currencies(session: AsyncSession) -> None:
    alice_usd, payin_usd = AccountKey("wallet", "alice", "USD"), AccountKey("payin", "manual", "USD")
    await ledger.post(session, kind="topup", idempotency_key="two", now=NOW,
                      lines=[(ALICE, 5), (PAYIN, -5), (alice_usd, 7), (payin_usd, -7)])
    await session.commit()
    assert await ledger.balance(session, alice_usd) == 7
    assert await ledger.balance(session, ALICE) == 5
    assert await ledger.check(session) == []


async def test_check_finds_an_unbalanced_transaction(session: AsyncSession) -> None:
    transaction_id, _ = await ledger.post(
        session, kind="topup", idempotency_key="t", lines=[(ALICE, 500), (PAYIN, -500)], now=NOW)
    await session.commit()
    alice = await session.scalar(select(Account.id).where(Account.kind == "wallet", Account.owner == "alice"))
    await session.execute(insert(Entry).values(transaction_id=transaction_id, account_id=alice, amount=3,
                                               currency="EUR"))
    assert await ledger.check(session) == [Imbalance(transaction_id, "EUR", 3, ledger.UNBALANCED)]
    await session.rollback()
    assert await ledger.check(session) == []


async def test_check_finds_an_entry_booked_in_another_currency(session: AsyncSession) -> None:
    transaction_id, _ = await ledger.post(
        session, kind="topup", idempotency_key="t", lines=[(ALICE, 500), (PAYIN, -500)], now=NOW)
    await session.commit()
    alice = await session.scalar(select(Account.id).where(Account.kind == "wallet", Account.owner == "alice"))
    usd_topup, _ = await ledger.post(session, kind="x", idempotency_key="u", now=NOW, lines=[
        (AccountKey("wallet", "bob", "USD"), 9), (AccountKey("payin", "manual", "USD"), -9)])
    await session.execute(insert(Entry).values(transaction_id=usd_topup, account_id=alice, amount=4, currency="USD"))
    await session.execute(insert(Entry).values(transaction_id=usd_topup, account_id=alice, amount=-4, currency="USD"))
    assert await ledger.check(session) == [Imbalance(usd_topup, "USD", 0, ledger.ACCOUNT_CURRENCY)]
    await session.rollback()
    assert await ledger.check(session) == []


async def test_the_database_refuses_zero_entries(session: AsyncSession) -> None:
    transaction_id, _ = await ledger.post(
        session, kind="topup", idempotency_key="t", lines=[(ALICE, 500), (PAYIN, -500)], now=NOW)
    await session.commit()
    alice = await session.scalar(select(Account.id).where(Account.kind == "wallet", Account.owner == "alice"))
    with pytest.raises(IntegrityError):
        await session.execute(insert(Entry).values(transaction_id=transaction_id, account_id=alice, amount=0,
                                                   currency="EUR"))
    await session.rollback()
    assert await ledger.check(session) == []
