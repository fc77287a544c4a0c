"""What must hold of a period before its close may say `closed`: checked by the closing process itself.

A close books in batches over minutes, possibly across crashes and takeovers;
each step is idempotent, but a bug, a manual edit or a restore from the wrong
backup could still leave a period whose money does not add up. The close
checks, in the transaction that would mark it closed: every ledger
transaction of the period balances in every currency, and the period's
shares and fees add up to exactly what its donors spent. When they do not,
the period stays unclosed (`PeriodInvariantBroken`), no payout is sent, and
the operator is told why.
"""

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from settlement.models import DonorClose, Entry, Share


class PeriodInvariantBroken(RuntimeError):
    """The period's money does not add up; the message says how, for the operator."""


async def flaws(session: AsyncSession, label: str) -> list[str]:
    """Every broken invariant of period `label`, in words; an empty list when it may close."""
    found: list[str] = []
    transactions = select(DonorClose.transaction_id).where(DonorClose.period == label,
                                                           DonorClose.transaction_id.is_not(None))
    unbalanced = await session.execute(
        select(Entry.transaction_id, Entry.currency, func.sum(Entry.amount))
        .where(Entry.transaction_id.in_(transactions))
        .group_by(Entry.transaction_id, Entry.currency).having(func.sum(Entry.amount) != 0))
    found += [f"ledger transaction {txn} is off by {int(total)} {currency}" for txn, currency, total in unbalanced]
    spent, fees = (await session.execute(
        select(func.coalesce(func.sum(DonorClose.spend), 0), func.coalesce(func.sum(DonorClose.fee), 0))
        .where(DonorClose.period == label))).one()
    shared = await session.scalar(select(func.coalesce(func.sum(Share.amount), 0)).where(Share.period == label))
    if int(shared or 0) + int(fees) != int(spent):
        found.append(f"shares ({int(shared or 0)}) and fees ({int(fees)}) do not add up to the spends ({int(spent)})")
    return found


async def check(session: AsyncSession, label: str) -> None:
    broken = await flaws(session, label)
    if broken:
        raise PeriodInvariantBroken(f"period {label} cannot close: " + "; ".join(broken))
