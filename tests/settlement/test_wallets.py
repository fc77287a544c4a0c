"""Hand credits by the operator, wallet balances and budgets."""

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from settlement import ledger, topups
from settlement.ledger import AccountKey
from settlement.models import Budget, Transaction
from settlement.money import Money, MoneyError
from settlement.wallets import budget_of, set_budget, wallet_balance

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


async def test_a_manual_topup_credits_the_wallet(session: AsyncSession) -> None:
    topup, created = await topups.credit_by_hand(
        session, username="alice", money=Money(1500, "EUR"), reference="bank-0001", now=NOW)
    await session.commit()
    assert created
    assert await wallet_balance(session, "alice", "EUR") == Money(1500, "EUR")
    assert await wallet_balance(session, "bob", "EUR") == Money(0, "EUR")
    assert await ledger.balance(session, AccountKey("payin", "manual", "EUR")) == -1500
    transaction = await session.scalar(select(Transaction).where(Transaction.memo == topup.public_id))
    assert transaction is not None
    assert (transaction.kind, transaction.idempotency_key) == ("topup", "topup:manual:bank-0001")
    assert (topup.state, topup.provider, topup.amount, topup.confirmed_at) == ("confirmed", "manual", 1500, NOW)
    assert await ledger.check(session) == []


async def test_the_same_reference_credits_once(session: AsyncSession) -> None:
    first = await topups.credit_by_hand(session, username="alice", money=Money(500, "EUR"), reference="r1", now=NOW)
    again = await topups.credit_by_hand(session, username="alice", money=Money(500, "EUR"), reference="r1", now=NOW)
    other = await topups.credit_by_hand(session, username="alice", money=Money(200, "EUR"), reference="r2", now=NOW)
    await session.commit()
    assert (again[0].id, again[1]) == (first[0].id, False)
    assert other[1]
    assert await wallet_balance(session, "alice", "EUR") == Money(700, "EUR")
    assert await ledger.check(session) == []


@pytest.mark.parametrize(("amount", "code"), [(0, "zero_amount"), (-500, "negative_amount")])
async def test_non_positive_topups_are_refused(session: AsyncSession, amount: int, code: str) -> None:
    with pytest.raises(MoneyError) as refused:
        await topups.credit_by_hand(session, username="alice", money=Money(amount, "EUR"), reference="r", now=NOW)
    assert refused.value.code == code
    assert await session.scalar(select(func.count()).select_from(Transaction)) == 0
    assert await ledger.check(session) == []


@pytest.mark.parametrize(("username", "reference"), [("", "r"), ("alice", "")])
async def test_a_topup_needs_a_username_and_a_reference(session: AsyncSession, username: str, reference: str) -> None:
    with pytest.raises(ValueError):
        await topups.credit_by_hand(session, username=username, money=Money(5, "EUR"), reference=reference, now=NOW)
    assert await ledger.check(session) == []


async def test_budgets(session: AsyncSession) -> None:
    assert await budget_of(session, "alice", "EUR") == Money(0, "EUR")
    await set_budget(session, "alice", Money(500, "EUR"), NOW)
    assert await budget_of(session, "alice", "EUR") == Money(500, "EUR")
    await set_budget(session, "alice", Money(300, "EUR"), NOW)
    await session.commit()
    assert await budget_of(session, "alice", "EUR") == Money(300, "EUR")
    await set_budget(session, "alice", Money(0, "EUR"), NOW)
    assert await budget_of(session, "alice", "EUR") == Money(0, "EUR")
    assert await session.scalar(select(func.count()).select_from(Budget)) == 1
    assert await ledger.check(session) == []


async def test_a_budget_in_another_currency_is_no_budget(session: AsyncSession) -> None:
    await set_budget(session, "alice", Money(500, "USD"), NOW)
    assert await budget_of(session, "alice", "EUR") == Money(0, "EUR")
    assert await budget_of(session, "alice", "USD") == Money(500, "USD")
    assert await ledger.check(session) == []


async def test_negative_budgets_are_refused(session: AsyncSession) -> None:
    with pytest.raises(MoneyError) as refused:
        await set_budget(session, "alice", Money(-1, "EUR"), NOW)
    assert refused.value.code == "negative_amount"
    with pytest.raises(IntegrityError):
        await session.execute(Budget.__table__.insert().values(
            username="bob", amount=-1, currency="EUR", updated_at=NOW))
    await session.rollback()
    assert await budget_of(session, "alice", "EUR") == Money(0, "EUR")
    assert await ledger.check(session) == []
