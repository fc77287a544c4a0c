"""A creator's earnings, per period and per thing, from the rows closes, payouts and claims wrote.

`stl_earnings` keeps one row per source (donors here, each paying instance,
escrow claims), so a thing flattred from several instances is summed here:
the creator sees what the thing earned, wherever the donors were.
"""

from dataclasses import dataclass

from sqlalchemy import ColumnElement, func, select
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
    """One page of periods, newest first, and the totals of every period (of the one period when one was asked).

    `older` is the label to ask `before` for the next page, None on the last one.
    """

    creator: str
    currency: str
    periods: list[PeriodEarnings]
    amount: int
    flattrs: int
    older: str | None = None


#: The periods a page holds unless asked otherwise: a year of monthly periods, what a creator's page charts.
PAGE = 12
#: The most a page may hold: ten years of monthly periods.
MOST = 120


async def of_creator(session: AsyncSession, creator: str, currency: str, period: str | None = None, *,
                     limit: int = PAGE, before: str | None = None) -> Earnings:
    """The newest `limit` periods (older than `before` when given), or `period` alone; the best-earning thing first.

    The periods of a page are found first and only their lines read, so a page
    costs the same after ten years as after one; the totals are one sum over
    the creator's rows, on their index.
    """
    mine: tuple[ColumnElement[bool], ...] = (Earning.creator == creator, Earning.currency == currency)
    if period is not None:
        mine, labels, older = (*mine, Earning.period == period), [period], None
    else:
        query = select(Earning.period).where(*mine).distinct().order_by(Earning.period.desc()).limit(limit + 1)
        if before is not None:
            query = query.where(Earning.period < before)
        labels = list(await session.scalars(query))
        older = labels[limit - 1] if len(labels) > limit else None
        labels = labels[:limit]
    amount, flattrs = (await session.execute(
        select(func.coalesce(func.sum(Earning.amount), 0), func.coalesce(func.sum(Earning.flattrs), 0))
        .where(*mine))).one()
    return Earnings(creator, currency, await _periods(session, mine, labels), int(amount), int(flattrs), older)


async def _periods(session: AsyncSession, mine: tuple[ColumnElement[bool], ...],
                   labels: list[str]) -> list[PeriodEarnings]:
    """The lines of these periods summed per thing, wherever the donors were."""
    if not labels:
        return []
    query = (select(Earning.period, Earning.thing_uri, func.sum(Earning.amount), func.sum(Earning.flattrs))
             .where(*mine, Earning.period.in_(labels)).group_by(Earning.period, Earning.thing_uri))
    rows = sorted(((label, thing, int(amount), int(flattrs)) for label, thing, amount, flattrs
                   in await session.execute(query)), key=lambda row: (-row[2], row[1]))
    periods: dict[str, list[ThingEarnings]] = {}
    for label, thing, amount, flattrs in rows:
        periods.setdefault(label, []).append(ThingEarnings(thing, amount, flattrs))
    return [PeriodEarnings(label, things) for label, things in sorted(periods.items(), reverse=True)]
