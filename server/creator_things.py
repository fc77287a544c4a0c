"""What a creator's public page shows of their things: the live ones, and how often each was flattred this period."""

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
