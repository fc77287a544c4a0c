"""A creator's earnings, per period and per thing, from the rows closes, payouts and claims wrote.

`stl_earnings` keeps one row per source (donors here, each paying instance,
escrow claims), so a thing flattred from several instances is summed here:
the creator sees what the thing earned, wherever the donors were.
"""

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from settlement.models import Earning


@dataclass(frozen=True)
class ThingEarnings:
    thing_uri: str
    amount: int
    flattrs: int


@dataclass(frozen=True)
class PeriodEarnings:
    period: str
    things: list[ThingEarnings]

    @property
    def amount(self) -> int:
        return sum(thing.amount for thing in self.things)

    @property
    def flattrs(self) -> int:
        return sum(thing.flattrs for thing in self.things)


@dataclass(frozen=True)
class Earnings:
    creator: str
    currency: str
    periods: list[PeriodEarnings]

    @property
    def amount(self) -> int:
        return sum(period.amount for period in self.periods)

    @property
    def flattrs(self) -> int:
        return sum(period.flattrs for period in self.periods)


async def of_creator(session: AsyncSession, creator: str, currency: str, period: str | None = None) -> Earnings:
    """Newest period first; within a period the best-earning thing first. `period` keeps only that one."""
    query = (select(Earning.period, Earning.thing_uri, func.sum(Earning.amount), func.sum(Earning.flattrs))
             .where(Earning.creator == creator, Earning.currency == currency)
             .group_by(Earning.period, Earning.thing_uri))
    if period is not None:
        query = query.where(Earning.period == period)
    rows = sorted(((label, thing, int(amount), int(flattrs)) for label, thing, amount, flattrs
                   in await session.execute(query)), key=lambda row: (-row[2], row[1]))
    periods: dict[str, list[ThingEarnings]] = {}
    for label, thing, amount, flattrs in rows:
        periods.setdefault(label, []).append(ThingEarnings(thing, amount, flattrs))
    return Earnings(creator, currency, [PeriodEarnings(label, things)
                                        for label, things in sorted(periods.items(), reverse=True)])
