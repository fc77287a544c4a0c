"""What a creator's public pages show of their things: the live ones, and who flattred each this period."""

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from server.models import ReceivedFlattr, Thing


@dataclass(frozen=True)
class ShownThing:
    thing: Thing
    flattrs: int  # received in the period asked for, from donors anywhere


async def live_things(session: AsyncSession, creator: str, period: str) -> list[ShownThing]:
    """Newest first; a deleted thing is gone from the page though its flattrs still count in earnings."""
    counts = (select(ReceivedFlattr.thing_id, func.count().label("flattrs"))
              .where(ReceivedFlattr.period == period).group_by(ReceivedFlattr.thing_id).subquery())
    rows = await session.execute(
        select(Thing, func.coalesce(counts.c.flattrs, 0)).outerjoin(counts, counts.c.thing_id == Thing.id)
        .where(Thing.creator == creator, Thing.deleted_at.is_(None)).order_by(Thing.id.desc()))
    return [ShownThing(thing, int(flattrs)) for thing, flattrs in rows]


async def donors_of(session: AsyncSession, thing_id: int, period: str) -> list[str]:
    """The actors who flattred one thing in a period, first flattr first: what its page lists."""
    rows = await session.scalars(select(ReceivedFlattr.donor_uri)
                                 .where(ReceivedFlattr.thing_id == thing_id, ReceivedFlattr.period == period)
                                 .order_by(ReceivedFlattr.id))
    return list(rows)
