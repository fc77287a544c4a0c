"""Where a donor's money went, period by period: the spend, the fee, and each share with its destination.

Read from the rows a close writes (`stl_donor_closes`, `stl_shares`) and that
payouts, claims and returns update, so the donor sees the same cents the
ledger moved, including a share that later left escrow.
"""

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from settlement.models import DonorClose, Share


@dataclass(frozen=True)
class ShareLine:
    """One thing's share; `destination` is local, payout, awaiting, awaited, escrow, claimed or returned."""

    thing_uri: str
    author_uri: str
    host: str
    recipient: str
    amount: int
    destination: str
    settled: bool


@dataclass(frozen=True)
class PeriodSpending:
    period: str
    spend: int
    fee: int
    shares: list[ShareLine]

    @property
    def shared(self) -> int:
        return sum(line.amount for line in self.shares)


async def recent(session: AsyncSession, donor: str, *, limit: int) -> list[PeriodSpending]:
    """The donor's last `limit` closed periods, newest first; within one, the largest share first."""
    closes = (await session.execute(
        select(DonorClose.period, DonorClose.spend, DonorClose.fee).where(DonorClose.donor == donor)
        .order_by(DonorClose.period.desc()).limit(limit))).all()
    if not closes:
        return []
    rows = await session.scalars(select(Share).where(
        Share.donor == donor, Share.period.in_([period for period, _, _ in closes])))
    lines: dict[str, list[ShareLine]] = {}
    for row in rows:
        lines.setdefault(row.period, []).append(ShareLine(
            row.thing_uri, row.author_uri, row.host, row.recipient, int(row.amount), row.destination,
            row.settled_at is not None))
    return [PeriodSpending(period, int(spend), int(fee),
                           sorted(lines.get(period, []), key=lambda line: (-line.amount, line.thing_uri)))
            for period, spend, fee in closes]
