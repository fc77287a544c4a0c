"""Where each period stands: its flattrs, and how far its close has gone (`stl_period_closes`, `stl_donor_closes`).

Read-only, for the operator: a close that stalls shows here as a state that
stays `distributing` or `paying` with its lease, and its donors closed so far.
"""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from settlement.models import DonorClose, Flattr, PeriodClose

OPEN, WAITING = "open", "waiting"


@dataclass(frozen=True)
class PeriodStatus:
    """`state` is `open` (the current period), `waiting` (ended, no close yet) or the close's own state."""

    period: str
    state: str
    flattrs: int
    donors: int
    donors_closed: int
    spent: int
    fees: int
    started_at: datetime | None
    finished_at: datetime | None
    lease_until: datetime | None


async def recent_periods(session: AsyncSession, current: str, limit: int = 24) -> list[PeriodStatus]:
    """The `limit` latest periods that had flattrs or a close, newest first."""
    flattrs = {row[0]: row[1:] for row in await session.execute(
        select(Flattr.period, func.count(), func.count(func.distinct(Flattr.donor))).group_by(Flattr.period))}
    closed = {row[0]: row[1:] for row in await session.execute(
        select(DonorClose.period, func.count(), func.coalesce(func.sum(DonorClose.spend), 0),
               func.coalesce(func.sum(DonorClose.fee), 0)).group_by(DonorClose.period))}
    closes = {close.period: close for close in await session.scalars(select(PeriodClose))}
    labels = sorted(set(flattrs) | set(closes), reverse=True)[:limit]
    return [_status(label, current, flattrs.get(label, (0, 0)), closed.get(label, (0, 0, 0)), closes.get(label))
            for label in labels]


def _status(label: str, current: str, flattrs: tuple[int, int], closed: tuple[int, int, int],
            close: PeriodClose | None) -> PeriodStatus:
    state = close.state if close is not None else OPEN if label >= current else WAITING
    return PeriodStatus(label, state, int(flattrs[0]), int(flattrs[1]), int(closed[0]), int(closed[1]),
                        int(closed[2]), close.started_at if close else None, close.finished_at if close else None,
                        close.lease_until if close else None)
