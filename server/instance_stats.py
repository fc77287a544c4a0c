"""The operator's first look at an instance: people, this period's flattrs, and the money it holds."""

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from federation import delivery_queue
from federation.delivery_queue import QueueCounts
from server.accounts import count_users
from settlement import statements
from settlement.models import Flattr
from settlement.money import Money


@dataclass(frozen=True)
class InstanceStats:
    users: int
    period: str
    flattrs: int
    donors: int
    #: What donors' wallets hold together, and what escrow holds for creators whose server has no Mecene.
    wallets: Money
    escrow: Money
    deliveries: QueueCounts


async def instance_stats(session: AsyncSession, period: str, currency: str) -> InstanceStats:
    """Totals from the ledger itself (the statements' conservation summary), so they agree with `mecene statements`."""
    flattrs, donors = (await session.execute(
        select(func.count(), func.count(func.distinct(Flattr.donor))).where(Flattr.period == period))).one()
    money = await statements.conservation(session, currency)
    return InstanceStats(await count_users(session), period, int(flattrs), int(donors), Money(money.wallets, currency),
                         Money(money.escrow, currency), await delivery_queue.counts(session))
