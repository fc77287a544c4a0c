"""Shares a peer refused for its credit limit: held on our side, on `awaiting_peer:{host}`, until a clearing makes room.

A destination that would owe us past the limit it set refuses the lines
beyond it (`credit_limit`). They are no creator's fault and no escrow's: the
creator's instance accepts payouts from us, only not yet. So the answer's
settlement moves their shares to `held` and their money to
`awaiting_peer:{host}`; once a clearing with that host is confirmed, `release`
makes them `awaiting` again, and the next settlement tick sends them in an
awaited payout of their period's next round (`settlement.awaited_payouts`).
"""

from collections.abc import Sequence

from sqlalchemy import and_, or_, update
from sqlalchemy.ext.asyncio import AsyncSession

from common.sql import rowcount
from settlement.destinations import AWAITING, HELD
from settlement.models import Share
from settlement.payouts import PayoutLine


async def hold(session: AsyncSession, *, period: str, host: str, destination: str,
               lines: Sequence[PayoutLine]) -> None:
    """The shares of `lines` that were sent as `destination` wait, for their creators' host, for room."""
    if not lines:
        return
    matches = or_(*(and_(Share.author_uri == line.creator, Share.thing_uri == line.thing) for line in lines))
    await session.execute(update(Share).where(
        Share.period == period, Share.host == host, Share.destination == destination, Share.settled_at.is_(None),
        matches).values(destination=HELD, recipient=host))


async def release(session: AsyncSession, *, host: str, currency: str) -> int:
    """Held shares for `host` may leave again: the number of shares, 0 when none was held."""
    result = await session.execute(update(Share).where(
        Share.destination == HELD, Share.host == host, Share.currency == currency, Share.settled_at.is_(None))
        .values(destination=AWAITING).execution_options(synchronize_session=False))
    return rowcount(result)
