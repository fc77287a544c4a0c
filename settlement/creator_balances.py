"""What a local creator holds now, per currency: money they may use and money still pending.

Shares from donors here land on the `creator` account, *available* at once.
A Payout from another instance lands on `pending` until that instance clears
with ours (`settlement.clearings` releases it, the oldest credits first), so a
creator is also told which instances their pending money waits on: without
that, "pending" would be a sum nobody can act on. Both figures are ledger
balances, so they agree to the cent with the books; the instances come from
the unreleased part of `stl_pending_credits`, which is what a clearing moves.
"""

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from settlement.accounts import CREATOR, PENDING
from settlement.models import Account, Entry, PendingCredit


@dataclass(frozen=True)
class Waiting:
    """Pending money from one instance: available once that instance settles with ours."""

    host: str
    amount: int


@dataclass(frozen=True)
class Balance:
    currency: str
    available: int
    pending: int
    #: The instances the pending money waits on, the largest amount first.
    waiting_on: tuple[Waiting, ...]


async def of_creator(session: AsyncSession, creator: str) -> list[Balance]:
    """One per currency in which the creator holds any money, alphabetically; none for a creator paid nothing."""
    held = await _ledger_balances(session, creator)
    waiting = await _waiting_on(session, creator)
    return [Balance(currency, held.get((CREATOR, currency), 0), held.get((PENDING, currency), 0),
                    tuple(waiting.get(currency, [])))
            for currency in sorted({currency for _, currency in held})]


async def _ledger_balances(session: AsyncSession, creator: str) -> dict[tuple[str, str], int]:
    """(kind, currency) → balance of the creator's available and pending accounts, the empty ones left out."""
    rows = await session.execute(
        select(Account.kind, Account.currency, func.sum(Entry.amount))
        .join(Entry, Entry.account_id == Account.id)
        .where(Account.owner == creator, Account.kind.in_((CREATOR, PENDING)))
        .group_by(Account.kind, Account.currency))
    return {(kind, currency): int(total) for kind, currency, total in rows if total}


async def _waiting_on(session: AsyncSession, creator: str) -> dict[str, list[Waiting]]:
    """Per currency, what each paying instance has credited the creator and not yet cleared."""
    unreleased = func.sum(PendingCredit.amount - PendingCredit.released)
    rows = await session.execute(
        select(PendingCredit.currency, PendingCredit.source_host, unreleased)
        .where(PendingCredit.creator == creator, PendingCredit.released < PendingCredit.amount)
        .group_by(PendingCredit.currency, PendingCredit.source_host))
    found: dict[str, list[Waiting]] = {}
    for currency, host, amount in sorted(rows, key=lambda row: (row[0], -int(row[2]), row[1])):
        found.setdefault(currency, []).append(Waiting(host, int(amount)))
    return found
