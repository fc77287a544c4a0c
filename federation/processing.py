"""Working through stored inbox items, one transaction per item.

An item is marked done in the same transaction as its handler's effects, so a
crash either keeps both or neither; a failing handler is retried a few times
and then left as `failed` with its error for the operator.
"""

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from federation.models import InboxItem
from federation.wakeup import sleep_until_woken

log = logging.getLogger(__name__)

Handler = Callable[[AsyncSession, dict[str, Any], datetime], Awaitable[None]]
#: Runs before a handler's transaction, to fetch what it needs from the network without holding locks.
Prefetch = Callable[[dict[str, Any]], Awaitable[None]]

MAX_ATTEMPTS = 5


def dispatch_key(activity: Mapping[str, Any]) -> str:
    """`Undo:Follow` for an Undo of an embedded Follow; the bare type otherwise."""
    kind = str(activity.get("type"))
    inner = activity.get("object")
    if kind in ("Undo", "Accept", "Reject") and isinstance(inner, dict) and isinstance(inner.get("type"), str):
        return f"{kind}:{inner['type']}"
    return kind


class InboxProcessor:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], handlers: Mapping[str, Handler],
                 clock: Callable[[], datetime], after_commit: Callable[[], None] = lambda: None,
                 prefetchers: Mapping[str, Prefetch] | None = None) -> None:
        self._sessions = sessions
        self._handlers = handlers
        self._prefetchers = prefetchers or {}
        self._clock = clock
        self._after_commit = after_commit
        self.wakeup = asyncio.Event()

    async def run_once(self, limit: int = 100) -> int:
        """Process pending items in arrival order; returns how many were handled."""
        async with self._sessions() as session:
            ids = list(await session.scalars(
                select(InboxItem.id).where(InboxItem.state == "pending").order_by(InboxItem.id).limit(limit)))
        for item_id in ids:
            await self._process(item_id)
        if ids:
            self._after_commit()
        return len(ids)

    async def run(self, poll_seconds: float) -> None:
        while True:
            if not await self.run_once():
                await sleep_until_woken(self.wakeup, poll_seconds)

    async def _process(self, item_id: int) -> None:
        now = self._clock()
        try:
            await self._prefetch(item_id)
            async with self._sessions() as session, session.begin():
                claimed = await session.execute(
                    update(InboxItem).where(InboxItem.id == item_id, InboxItem.state == "pending")
                    .values(state="done", processed_at=now).returning(InboxItem.activity))
                activity = claimed.scalar_one_or_none()
                if activity is None:
                    return
                handler = self._handlers.get(dispatch_key(activity)) or self._handlers.get(str(activity.get("type")))
                if handler is not None:
                    await handler(session, activity, now)
        except Exception as exc:  # a handler bug must not stop the inbox; the item keeps its error
            log.exception("inbox item %s failed", item_id)
            await self._record_failure(item_id, exc)

    async def _prefetch(self, item_id: int) -> None:
        if not self._prefetchers:
            return
        async with self._sessions() as session:
            activity = await session.scalar(select(InboxItem.activity).where(InboxItem.id == item_id))
        prefetch = self._prefetchers.get(dispatch_key(activity)) if isinstance(activity, dict) else None
        if prefetch is not None:
            await prefetch(activity)

    async def _record_failure(self, item_id: int, exc: Exception) -> None:
        async with self._sessions() as session, session.begin():
            item = await session.get_one(InboxItem, item_id)
            item.attempts += 1
            item.error = f"{type(exc).__name__}: {exc}"
            if item.attempts >= MAX_ATTEMPTS:
                item.state = "failed"
