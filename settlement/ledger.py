"""The double-entry ledger: every movement of money is a transaction of signed entries.

Sign convention: an entry adds its amount to its account, and a transaction's
entries sum to zero in each currency, so money is only ever moved, never made.
An account's balance is the sum of its entries: a wallet or a creator's balance
is positive while it holds money, and an account standing for the outside world
(`payin:manual`, what the operator credited by hand) goes negative by what came
in through it. The whole ledger therefore sums to zero, which `check` verifies.

`post` writes in the caller's transaction and never commits, so a movement is
recorded if and only if the change that caused it commits.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import BigInteger, SQLColumnExpression, cast, func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import Cast

from common.sql import dialect_insert, insert_ignoring_duplicates
from settlement.models import Account, Entry, Transaction
from settlement.money import minor_digits

UNBALANCED = "unbalanced"
ACCOUNT_CURRENCY = "account_currency"
#: Owners per lookup: with its two other parameters, within the 999 variables older SQLite allows a statement.
LOOKUP_CHUNK = 500


@dataclass(frozen=True, order=True)
class AccountKey:
    kind: str
    owner: str
    currency: str


class UnbalancedTransaction(ValueError):
    """Lines that do not sum to zero in every currency would create or destroy money."""


@dataclass(frozen=True)
class Imbalance:
    """A flaw `check` found in one transaction and currency.

    `unbalanced`: its entries in `currency` sum to `total` instead of zero.
    `account_currency`: entries in `currency` (summing to `total`) sit on an account kept in another currency.
    """

    transaction_id: int
    currency: str
    total: int
    reason: str = UNBALANCED


async def post(
    session: AsyncSession,
    *,
    kind: str,
    idempotency_key: str,
    lines: Sequence[tuple[AccountKey, int]],
    now: datetime,
    memo: str = "",
) -> tuple[int, bool]:
    """Record a transaction once per idempotency key; returns its id and whether this call wrote it.

    A repeated key writes nothing, even when the first writer has not committed yet:
    the insert waits for it, then finds the row.
    """
    _validate(lines)
    values = {"kind": kind, "idempotency_key": idempotency_key, "memo": memo, "created_at": now}
    created = await insert_ignoring_duplicates(session, Transaction.__table__, values)
    transaction_id = (await session.execute(
        select(Transaction.id).where(Transaction.idempotency_key == idempotency_key))).scalar_one()
    if created:
        accounts = await _account_ids(session, {key for key, _ in lines})
        await session.execute(insert(Entry.__table__), [
            {"transaction_id": transaction_id, "account_id": accounts[key], "amount": amount, "currency": key.currency}
            for key, amount in lines
        ])
    return transaction_id, created


async def balance(session: AsyncSession, key: AccountKey) -> int:
    total = (await session.execute(
        select(_sum(Entry.amount)).join(Account, Entry.account_id == Account.id).where(
            Account.kind == key.kind, Account.owner == key.owner, Account.currency == key.currency))).scalar_one()
    return int(total)


async def check(session: AsyncSession) -> list[Imbalance]:
    """Every flaw in the ledger, ordered by transaction; an empty list proves it balances."""
    unbalanced = await session.execute(
        select(Entry.transaction_id, Entry.currency, _sum(Entry.amount))
        .group_by(Entry.transaction_id, Entry.currency)
        .having(func.sum(Entry.amount) != 0))
    misbooked = await session.execute(
        select(Entry.transaction_id, Entry.currency, _sum(Entry.amount))
        .join(Account, Entry.account_id == Account.id)
        .where(Entry.currency != Account.currency)
        .group_by(Entry.transaction_id, Entry.currency))
    flaws = [Imbalance(t, c, int(total), UNBALANCED) for t, c, total in unbalanced]
    flaws += [Imbalance(t, c, int(total), ACCOUNT_CURRENCY) for t, c, total in misbooked]
    return sorted(flaws, key=lambda flaw: (flaw.transaction_id, flaw.currency, flaw.reason))


def _validate(lines: Sequence[tuple[AccountKey, int]]) -> None:
    if len(lines) < 2:
        raise UnbalancedTransaction("a transaction needs at least two lines")
    totals: dict[str, int] = {}
    for key, amount in lines:
        if not isinstance(amount, int) or isinstance(amount, bool):
            raise TypeError(f"ledger amounts are integers of minor units, not {type(amount).__name__}")
        if amount == 0:
            raise ValueError(f"zero amount on {key}")
        minor_digits(key.currency)
        totals[key.currency] = totals.get(key.currency, 0) + amount
    unbalanced = {currency: total for currency, total in totals.items() if total}
    if unbalanced:
        raise UnbalancedTransaction(f"lines do not sum to zero: {unbalanced}")


async def _account_ids(session: AsyncSession, keys: set[AccountKey]) -> dict[AccountKey, int]:
    """Ids of the accounts, the missing ones created: a few statements whatever the number of keys.

    A period close credits thousands of accounts in one post, so one round trip per account would be
    most of its time.
    """
    ids = await _existing_ids(session, keys)
    missing = sorted(keys - ids.keys())
    if missing:
        ids |= await _created_ids(session, missing)
    if len(ids) < len(keys):
        ids |= await _existing_ids(session, keys - ids.keys())
    return ids


async def _existing_ids(session: AsyncSession, keys: set[AccountKey]) -> dict[AccountKey, int]:
    """One query per kind, currency and chunk of owners, each a range of the (kind, owner, currency) index."""
    owners: dict[tuple[str, str], list[str]] = {}
    for key in keys:
        owners.setdefault((key.kind, key.currency), []).append(key.owner)
    accounts = Account.__table__
    ids: dict[AccountKey, int] = {}
    for (kind, currency), names in owners.items():
        for start in range(0, len(names), LOOKUP_CHUNK):
            chunk = names[start:start + LOOKUP_CHUNK]
            rows = await session.execute(select(accounts.c.owner, accounts.c.id).where(
                accounts.c.kind == kind, accounts.c.currency == currency, accounts.c.owner.in_(chunk)))
            ids.update({AccountKey(kind, owner, currency): account_id for owner, account_id in rows})
    return ids


async def _created_ids(session: AsyncSession, keys: list[AccountKey]) -> dict[AccountKey, int]:
    """Create the accounts in the order given (sorted, so concurrent posts lock them alike); the ids of the new ones.

    RETURNING spares a lookup of rows just written, which the planner may not have statistics for yet.
    An account a concurrent transaction created first is skipped, and left to the caller to look up.
    """
    accounts = Account.__table__
    statement = (dialect_insert(session, accounts).on_conflict_do_nothing()
                 .returning(accounts.c.kind, accounts.c.owner, accounts.c.currency, accounts.c.id))
    rows = await session.execute(statement, [
        {"kind": key.kind, "owner": key.owner, "currency": key.currency} for key in keys])
    return {AccountKey(kind, owner, currency): account_id for kind, owner, currency, account_id in rows}


def _sum(column: SQLColumnExpression[int]) -> Cast[int]:
    """A sum that is an int on both databases (PostgreSQL's sum of bigint is numeric) and 0 over no rows."""
    return cast(func.coalesce(func.sum(column), 0), BigInteger)
