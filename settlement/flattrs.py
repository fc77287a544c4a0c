"""A donor's flattrs: one per donor, thing and period, recorded here; what federates them lives elsewhere.

A flattr moves no money by itself: at the period's close the donor's spend is split
among the flattrs of that period, so undoing one before then simply removes its row.
"""

from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from common.sql import insert_ignoring_duplicates, rowcount
from settlement.models import Flattr as Flattr

#: The length of the column a flattr's title is kept in.
TITLE_MAX = 200


async def record(
    session: AsyncSession,
    *,
    donor: str,
    thing_uri: str,
    author_uri: str,
    period: str,
    activity_id: str,
    now: datetime,
    like_activity_id: str | None = None,
    title: str = "",
) -> tuple[Flattr, bool]:
    """The donor's flattr of the thing in the period, and whether this call created it.

    `title` is what the donor saw when flattring (a post's first words), kept so that their
    history can name the thing after its own server is gone; it is cut to fit its column.
    A second flattr of the same thing returns the first one untouched (even when both
    race), so a double click is harmless. An activity id already used by another flattr
    is a ValueError: ids are minted fresh by the caller.
    """
    created = await insert_ignoring_duplicates(session, Flattr.__table__, {
        "donor": donor, "thing_uri": thing_uri, "author_uri": author_uri, "period": period,
        "activity_id": activity_id, "like_activity_id": like_activity_id, "created_at": now,
        "title": title[:TITLE_MAX],
    })
    flattr = await session.scalar(select(Flattr).where(
        Flattr.donor == donor, Flattr.thing_uri == thing_uri, Flattr.period == period))
    if flattr is None:
        raise ValueError(f"activity id {activity_id} already belongs to another flattr")
    return flattr, created


async def get(session: AsyncSession, flattr_id: int) -> Flattr | None:
    return await session.get(Flattr, flattr_id)


async def undo(session: AsyncSession, *, donor: str, flattr_id: int) -> Flattr | None:
    """Delete the donor's own flattr and return it; None when it is not theirs or already gone.

    Whether its period is still open is the caller's to check: only the caller knows the clock.
    """
    flattr = await session.get(Flattr, flattr_id)
    if flattr is None or flattr.donor != donor:
        return None
    result = await session.execute(delete(Flattr.__table__).where(Flattr.id == flattr_id, Flattr.donor == donor))
    session.expunge(flattr)
    return flattr if rowcount(result) else None


async def for_period(session: AsyncSession, donor: str, period: str) -> list[Flattr]:
    result = await session.scalars(
        select(Flattr).where(Flattr.donor == donor, Flattr.period == period).order_by(Flattr.id))
    return list(result)


async def count_for_period(session: AsyncSession, donor: str, period: str) -> int:
    return await session.scalar(
        select(func.count()).select_from(Flattr).where(Flattr.donor == donor, Flattr.period == period)) or 0


async def titles(session: AsyncSession, donor: str, periods: list[str]) -> dict[tuple[str, str], str]:
    """The titles the donor's flattrs of these periods were recorded with, by (period, thing), empty ones left out.

    A close keeps the flattrs, so a past period's shares can be named as the donor knew them.
    """
    if not periods:
        return {}
    rows = await session.execute(select(Flattr.period, Flattr.thing_uri, Flattr.title).where(
        Flattr.donor == donor, Flattr.period.in_(periods), Flattr.title != ""))
    return {(period, thing): title for period, thing, title in rows}
