"""Working through stored inbox items, a batch per transaction.

An item is marked done in the same transaction as its handler's effects, so a
crash keeps both or neither. The commit, not the handler, is most of what an
item costs, so a batch of items is claimed with one UPDATE and committed once.
Each handler runs in its own SAVEPOINT: a failing one is rolled back alone and
its item goes back to `pending` with its error (or to `failed` once its
attempts are spent) while the rest of the batch commits. A batch whose
transaction fails as a whole keeps nothing, and each of its items is then
tried in a transaction of its own, so one item cannot hold the others back.

On SQLite the claim must be the transaction's first statement: the sqlite3
driver begins a transaction only before a write, and a SAVEPOINT issued
outside one would be committed on release instead of joining the batch.
"""

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Update, case, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from common.supervision import supervise
from federation.models import INBOX_ATTEMPTS, INBOX_STATES, INBOX_TRANSIENT_ATTEMPTS, InboxItem
from federation.wakeup import sleep_until_woken

log = logging.getLogger(__name__)

Handler = Callable[[AsyncSession, dict[str, Any], datetime], Awaitable[None]]
#: Runs before a handler's transaction, to fetch what it needs from the network without holding locks.
Prefetch = Callable[[dict[str, Any]], Awaitable[None]]

HANDLED = INBOX_STATES.move("pending", "done")
RETRIED = INBOX_STATES.move("pending", "pending")
GIVEN_UP = INBOX_STATES.move("pending", "failed")
#: Items per transaction: enough to spread a commit over many, few enough to keep the write lock briefly.
BATCH = 100
#: The pause after a batch that was not full, so a busy inbox's items gather into the next one.
GATHER_SECONDS = 0.05
MAX_RETRY_DELAY = timedelta(hours=1)


def dispatch_key(activity: Mapping[str, Any]) -> str:
    """`Undo:Follow` for an Undo of an embedded Follow; the bare type otherwise."""
    kind = str(activity.get("type"))
    inner = activity.get("object")
    if kind in ("Undo", "Accept", "Reject") and isinstance(inner, dict) and isinstance(inner.get("type"), str):
        return f"{kind}:{inner['type']}"
    return kind


@dataclass(frozen=True)
class _Item:
    """A pending item as read before its transaction; an activity never changes once stored."""

    id: int
    activity: dict[str, Any]


class InboxProcessor:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], handlers: Mapping[str, Handler],
                 clock: Callable[[], datetime], after_commit: Callable[[], None] = lambda: None,
                 prefetchers: Mapping[str, Prefetch] | None = None,
                 retry_base: timedelta = timedelta(minutes=1)) -> None:
        """`retry_base`: the wait after an item's first failure, doubled after each next one (at most an hour)."""
        self._sessions = sessions
        self._retry_base = retry_base
        self._handlers = handlers
        self._prefetchers = prefetchers or {}
        self._clock = clock
        self._after_commit = after_commit
        self.wakeup = asyncio.Event()

    async def run_once(self, limit: int = BATCH) -> int:
        """Process up to `limit` pending items in arrival order; returns how many were read."""
        items = await self._pending(limit)
        ready = [item for item in items if await self._prefetched(item)]
        if not await self._handle_together(ready):
            for item in ready:
                await self._handle_alone(item)
        if any(self._handler_for(item.activity) for item in ready):
            self._after_commit()
        return len(items)

    async def run(self, poll_seconds: float) -> None:
        """Process as items arrive; between batches that were not full, pause for `GATHER_SECONDS`.

        Without the pause a busy inbox would have the processor commit a small
        batch after each of the inbox's group commits, and on SQLite every
        commit takes the write lock the inbox needs; a few large batches a second
        cost the inbox less, and an item waits at most that much longer.
        """
        await supervise("inbox processing", lambda: self._round(poll_seconds))

    async def _round(self, poll_seconds: float) -> None:
        """One batch, then the pause or the idle wait; what is pending stays pending if the database is away."""
        handled = await self.run_once()
        if not handled:
            await sleep_until_woken(self.wakeup, poll_seconds)
        elif handled < BATCH:
            await asyncio.sleep(GATHER_SECONDS)

    async def _pending(self, limit: int) -> list[_Item]:
        async with self._sessions() as session:
            due = or_(InboxItem.next_attempt_at.is_(None), InboxItem.next_attempt_at <= self._clock())
            rows = await session.execute(select(InboxItem.id, InboxItem.activity).where(
                InboxItem.state == HANDLED.source, due).order_by(InboxItem.id).limit(limit))
            return [_Item(row.id, row.activity) for row in rows]

    async def _prefetched(self, item: _Item) -> bool:
        """Fetch what the item's handler needs before any lock is taken; False, and a failure noted, if that failed."""
        prefetch = self._prefetchers.get(dispatch_key(item.activity)) if isinstance(item.activity, dict) else None
        if prefetch is None:
            return True
        try:
            await prefetch(item.activity)
        except Exception as exc:
            log.exception("inbox item %s failed", item.id)
            await self._record_failure(item.id, exc)
            return False
        return True

    async def _handle_together(self, items: list[_Item]) -> bool:
        """The whole batch in one transaction; False when that transaction failed, which then kept nothing."""
        if len(items) < 2:
            return False
        try:
            await self._handle(items)
        except Exception:
            log.exception("a batch of %d inbox items failed; trying each alone", len(items))
            return False
        return True

    async def _handle_alone(self, item: _Item) -> None:
        try:
            await self._handle([item])
        except Exception as exc:  # a handler bug must not stop the inbox; the item keeps its error
            log.exception("inbox item %s failed", item.id)
            await self._record_failure(item.id, exc)

    async def _handle(self, items: list[_Item]) -> None:
        """Claim the items still pending, then run each one's handler; one commit for all."""
        now = self._clock()
        async with self._sessions() as session, session.begin():
            ids = [item.id for item in items]
            claimed = set(await session.scalars(
                update(InboxItem).where(InboxItem.id.in_(ids), InboxItem.state == HANDLED.source)
                .values(state=HANDLED.target, processed_at=now).returning(InboxItem.id)
                .execution_options(synchronize_session=False)))
            for item in items:
                if item.id in claimed:
                    await self._apply(session, item, now)

    async def _apply(self, session: AsyncSession, item: _Item, now: datetime) -> None:
        """Run the handler in a SAVEPOINT; if it raises, its effects are undone and the item goes back for a retry."""
        handler = self._handler_for(item.activity)
        if handler is None:
            return
        try:
            async with session.begin_nested():
                await handler(session, item.activity, now)
        except Exception as exc:
            log.exception("inbox item %s failed", item.id)
            await session.execute(self._failure(item.id, exc, claimed=True))

    def acts_on(self, activity: dict[str, Any]) -> bool:
        return self._handler_for(activity) is not None

    def _handler_for(self, activity: dict[str, Any]) -> Handler | None:
        """None for an activity nothing here acts on: it is only marked done, and wakes no other worker."""
        return self._handlers.get(dispatch_key(activity)) or self._handlers.get(str(activity.get("type")))

    async def _record_failure(self, item_id: int, exc: Exception) -> None:
        async with self._sessions() as session, session.begin():
            await session.execute(self._failure(item_id, exc, claimed=False))

    def _failure(self, item_id: int, exc: Exception, *, claimed: bool) -> Update:
        """Count an attempt, keep the error and wait before the next; never touch an item processed since.

        The n-th failure waits `retry_base` × 2ⁿ⁻¹ (at most an hour). A peer that
        was away (a transient error) gets INBOX_TRANSIENT_ATTEMPTS tries, about
        a day; a handler's own error INBOX_ATTEMPTS. `claimed`: inside the
        transaction that marked the item handled, whose commit then records the
        move pending → pending or failed.
        """
        attempts = InboxItem.attempts + 1
        limit = INBOX_TRANSIENT_ATTEMPTS if _transient(exc) else INBOX_ATTEMPTS
        now = self._clock()
        waits = [(attempts == n, now + retry_delay(self._retry_base, n)) for n in range(1, limit)]
        state = HANDLED.target if claimed else HANDLED.source
        return (update(InboxItem).where(InboxItem.id == item_id, InboxItem.state == state)
                .values(attempts=attempts, error=f"{type(exc).__name__}: {exc}"[:2000], processed_at=None,
                        next_attempt_at=case(*waits, else_=None),
                        state=case((attempts >= limit, GIVEN_UP.target), else_=RETRIED.target))
                .execution_options(synchronize_session=False))


def retry_delay(base: timedelta, failures: int) -> timedelta:
    return min(MAX_RETRY_DELAY, base * int(2 ** (failures - 1)))


def _transient(exc: Exception) -> bool:
    """A peer or the network away for now, which waiting may cure; not a handler's own error."""
    return bool(getattr(exc, "transient", False)) or isinstance(exc, ConnectionError | TimeoutError)
