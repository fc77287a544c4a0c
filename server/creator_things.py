"""What a creator's public pages show of their things: the live ones, and who flattred each this period."""

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from server.models import ReceivedFlattr, Thing

#: Things on one page of a creator's list: a creator with thousands of things gets pages, not one long wait.
THINGS_PER_PAGE = 50


@dataclass(frozen=True)
class ShownThing:
    thing: Thing
    flattrs: int  # received in the period asked for, from donors anywhere


@dataclass(frozen=True)
class ThingsPage:
    things: list[ShownThing]
    #: The id to ask `before` for the next, older page; None on the last one.
    older: int | None


async def live_things(session: AsyncSession, creator: str, period: str, *, before: int | None = None,
                      per_page: int = THINGS_PER_PAGE) -> ThingsPage:
    """Newest first, one page of them (those older than the thing `before` names, when given).

    A deleted thing is gone from the page though its flattrs still count in
    earnings. The rows come by the (creator, id) index, a page at a time, and
    each counts its flattrs of the period by the (period, thing) index: a count
    per shown thing rather than a count of every thing flattred this period.
    """
    flattrs = (select(func.count()).select_from(ReceivedFlattr)
               .where(ReceivedFlattr.period == period, ReceivedFlattr.thing_id == Thing.id).scalar_subquery())
    query = select(Thing, flattrs).where(Thing.creator == creator, Thing.deleted_at.is_(None))
    if before is not None:
        query = query.where(Thing.id < before)
    rows = list(await session.execute(query.order_by(Thing.id.desc()).limit(per_page + 1)))
    shown = [ShownThing(thing, int(flattrs)) for thing, flattrs in rows[:per_page]]
    return ThingsPage(shown, shown[-1].thing.id if len(rows) > per_page else None)


async def donors_of(session: AsyncSession, thing_id: int, period: str) -> list[str]:
    """The actors who flattred one thing in a period, first flattr first: what its page lists."""
    rows = await session.scalars(select(ReceivedFlattr.donor_uri)
                                 .where(ReceivedFlattr.thing_id == thing_id, ReceivedFlattr.period == period)
                                 .order_by(ReceivedFlattr.id))
    return list(rows)
