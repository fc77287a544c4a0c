"""What a creator's public pages show of their things: the live ones, and who flattred each this period."""

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

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
    earnings. The page's ids come from the index of live things alone, then
    each shown thing counts its flattrs of the period on the (period, thing)
    index: asked in one query, PostgreSQL would rather walk the primary key
    backwards through every other creator's newer things.
    """
    live = aliased(Thing)
    ids = select(live.id).where(live.creator == creator, live.deleted_at.is_(None))
    if before is not None:
        ids = ids.where(live.id < before)
    flattrs = (select(func.count()).select_from(ReceivedFlattr)
               .where(ReceivedFlattr.period == period, ReceivedFlattr.thing_id == Thing.id).scalar_subquery())
    page = ids.order_by(live.id.desc()).limit(per_page + 1)
    rows = list(await session.execute(select(Thing, flattrs).where(Thing.id.in_(page)).order_by(Thing.id.desc())))
    shown = [ShownThing(thing, int(flattrs)) for thing, flattrs in rows[:per_page]]
    return ThingsPage(shown, shown[-1].thing.id if len(rows) > per_page else None)


async def donors_of(session: AsyncSession, thing_id: int, period: str) -> list[str]:
    """The actors who flattred one thing in a period, first flattr first: what its page lists."""
    rows = await session.scalars(select(ReceivedFlattr.donor_uri)
                                 .where(ReceivedFlattr.thing_id == thing_id, ReceivedFlattr.period == period)
                                 .order_by(ReceivedFlattr.id))
    return list(rows)
