"""What an operator sees of the delivery queue, and the one thing they may do to it: send a dead letter again.

Shared by `mecene deliveries` and the operator pages, so both list and
retry the same way.
"""

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from common.sql import rowcount
from federation.models import DELIVERY_STATES, Delivery

RETRY_DEAD = DELIVERY_STATES.move("dead", "queued")
QUEUED, DEAD = RETRY_DEAD.target, RETRY_DEAD.source
DELIVERED = DELIVERY_STATES.move("queued", "delivered").target
NOT_UNDERSTOOD = DELIVERY_STATES.move(QUEUED, "not_understood").target
SEND_AGAIN_FROM = (DELIVERY_STATES.move(DELIVERED, QUEUED).source, RETRY_DEAD.source)


@dataclass(frozen=True)
class QueueCounts:
    queued: int
    dead: int
    delivered: int
    #: Answered by a server that cannot read the activity's type: finished, and no failure.
    not_understood: int


async def counts(session: AsyncSession) -> QueueCounts:
    rows = {state: count for state, count in await session.execute(
        select(Delivery.state, func.count()).group_by(Delivery.state))}
    return QueueCounts(int(rows.get(QUEUED, 0)), int(rows.get(DEAD, 0)), int(rows.get(DELIVERED, 0)),
                       int(rows.get(NOT_UNDERSTOOD, 0)))


#: Of an activity's deliveries (one per inbox), which one tells its sender best how it went: any inbox that
#: took it, else one still trying, else one that could not read it, else a refusal.
_BEST_FIRST = (DELIVERED, QUEUED, NOT_UNDERSTOOD, DEAD)
#: Ids asked about in one statement, within the variables older SQLite allows.
_CHUNK = 500


async def outcome_of(session: AsyncSession, activity_ids: Collection[str]) -> dict[str, str]:
    """How each activity's delivery went, for those queued at all (an activity kept here queues none)."""
    found: dict[str, str] = {}
    ids = list(activity_ids)
    for start in range(0, len(ids), _CHUNK):
        rows = await session.execute(select(Delivery.activity_id, Delivery.state).where(
            Delivery.activity_id.in_(ids[start:start + _CHUNK])))
        for activity_id, state in rows:
            known = found.get(activity_id)
            if known is None or _BEST_FIRST.index(state) < _BEST_FIRST.index(known):
                found[activity_id] = state
    return found


async def undelivered(session: AsyncSession, *, state: str | None = None, limit: int | None = None) -> list[Delivery]:
    """Queued deliveries and dead letters, or those of one `state`, oldest first; finished ones are not listed."""
    query = select(Delivery).order_by(Delivery.id).limit(limit)
    query = query.where(Delivery.state == state) if state else query.where(Delivery.state.in_((QUEUED, DEAD)))
    return list(await session.scalars(query))


async def send_again(session: AsyncSession, activity_id: str, now: datetime) -> int:
    """Deliver an activity once more to each inbox it went to, delivered or not; how many deliveries were queued.

    For a sender that had no answer: a copy of an activity the receiver
    already has changes nothing there, by its id.
    """
    result = await session.execute(
        update(Delivery).where(Delivery.activity_id == activity_id, Delivery.state.in_(SEND_AGAIN_FROM))
        .values(state=QUEUED, attempts=0, next_attempt_at=now, finished_at=None))
    return rowcount(result)


async def retry_dead(session: AsyncSession, delivery_id: int, now: datetime) -> bool:
    """Queue a dead letter again with a fresh retry budget; False when there is no such dead letter."""
    result = await session.execute(
        update(Delivery).where(Delivery.id == delivery_id, Delivery.state == RETRY_DEAD.source)
        .values(state=RETRY_DEAD.target, attempts=0, next_attempt_at=now, finished_at=None))
    return bool(rowcount(result))
