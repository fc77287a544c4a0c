"""What an operator sees of the inbox, and the one thing they may do to it: try a failed activity again.

Shared by `mecene inbox` and the operator pages, as `delivery_queue` is for
deliveries. A failed item is also tried again, by itself, when its peer
delivers the same activity again (`inbox_insert`).
"""

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from common.sql import rowcount
from federation.models import INBOX_STATES, InboxItem

RETRY = INBOX_STATES.move("failed", "pending")
FAILED, PENDING = RETRY.source, RETRY.target


async def waiting(session: AsyncSession, *, failed_only: bool = False, limit: int | None = None) -> list[InboxItem]:
    """Items not processed yet (pending, some waiting after a failure) and failed ones, oldest first."""
    states = [FAILED] if failed_only else [PENDING, FAILED]
    query = select(InboxItem).where(InboxItem.state.in_(states)).order_by(InboxItem.id).limit(limit)
    return list(await session.scalars(query))


async def retry_failed(session: AsyncSession, item_id: int, now: datetime) -> bool:
    """Make a failed item due at once with a fresh count of attempts; False when there is no such failed item."""
    result = await session.execute(
        update(InboxItem).where(InboxItem.id == item_id, InboxItem.state == RETRY.source)
        .values(state=RETRY.target, attempts=0, next_attempt_at=now, error=None))
    return bool(rowcount(result))
