"""Donors' wallets and budgets.

A wallet is the ledger account `wallet:{username}`; a top-up (`settlement.topups`)
moves money from its provider's pay-in account into it. A budget is not money, only what the donor means to
spend per period, so it lives in its own table rather than in the ledger.
"""

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from common.sql import upsert
from settlement import accounts, ledger
from settlement.ledger import AccountKey
from settlement.models import Budget
from settlement.money import Money, MoneyError


def wallet_key(username: str, currency: str) -> AccountKey:
    return AccountKey(accounts.WALLET, username, currency)


async def wallet_balance(session: AsyncSession, username: str, currency: str) -> Money:
    return Money(await ledger.balance(session, wallet_key(username, currency)), currency)


async def set_budget(session: AsyncSession, username: str, money: Money, now: datetime) -> None:
    """Zero is allowed: it pauses spending without forgetting the donor's flattrs."""
    if money.amount < 0:
        raise MoneyError("negative_amount", "The budget cannot be negative.")
    values = {"username": username, "amount": money.amount, "currency": money.currency, "updated_at": now}
    await upsert(session, Budget.__table__, values, key="username")


async def budget_of(session: AsyncSession, username: str, currency: str) -> Money:
    """Zero when unset, or when set in another currency: a budget is never converted."""
    row = (await session.execute(
        select(Budget.amount, Budget.currency).where(Budget.username == username))).one_or_none()
    if row is None or row.currency != currency:
        return Money.zero(currency)
    return Money(row.amount, currency)

