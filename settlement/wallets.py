"""Donors' wallets and budgets, and the payment providers through which real money comes in.

A wallet is the ledger account `wallet:{username}`; a top-up moves money from the
provider's pay-in account into it. A budget is not money, only what the donor means to
spend per period, so it lives in its own table rather than in the ledger.
"""

from datetime import datetime
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from common.sql import upsert
from settlement import accounts, ledger
from settlement.ledger import AccountKey
from settlement.models import Budget
from settlement.money import Money, MoneyError


class PaymentProvider(Protocol):
    """Where top-ups come from; `reference` is the provider's own id of the payment, so a retry credits once."""

    name: str

    async def credit(
        self, session: AsyncSession, *, username: str, money: Money, reference: str, now: datetime,
    ) -> tuple[int, bool]: ...


class ManualProvider:
    """The operator credits a wallet by hand, for money received outside Mecene (a bank transfer, cash)."""

    name = "manual"

    async def credit(
        self, session: AsyncSession, *, username: str, money: Money, reference: str, now: datetime,
    ) -> tuple[int, bool]:
        """Returns the ledger transaction id and whether this call wrote it."""
        _refuse_non_positive(money)
        if not username or not reference:
            raise ValueError("a top-up needs a username and a reference")
        return await ledger.post(
            session,
            kind="topup",
            idempotency_key=f"topup:{self.name}:{reference}",
            lines=[(wallet_key(username, money.currency), money.amount),
                   (AccountKey(accounts.PAYIN, self.name, money.currency), -money.amount)],
            now=now,
            memo=reference,
        )


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


def _refuse_non_positive(money: Money) -> None:
    if money.amount < 0:
        raise MoneyError("negative_amount", "A top-up cannot be negative.")
    if money.amount == 0:
        raise MoneyError("zero_amount", "A top-up must be more than zero.")
