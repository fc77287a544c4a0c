"""Group commit for the inbox: the activities of concurrent requests stored in one transaction.

A commit has a fixed cost (the write lock, the log flush, the round trips to
the database) that one row or five hundred pay once, so one commit per request
caps an inbox at the commits per second the database can make. Requests queue
their rows here and wait; a single task writes everything queued in one
transaction, commits, and only then lets each request answer. There is no
timer: a batch is whatever arrived while the previous commit ran, so a lone
request is written at once and a busy inbox makes larger batches rather than
a longer queue.

While batches follow each other the task keeps its connection: checking one
out of the pool and resetting it costs round trips to the driver, and on
aiosqlite each round trip waits for a busy event loop. It gives the connection
back whenever the queue is empty, so the pool checks it again before reuse.
"""

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from federation.errors import FederationError
from federation.inbox import Incoming, inbox_row
from federation.inbox_sqlite import SQLiteInboxInsert
from federation.models import InboxItem

log = logging.getLogger(__name__)

#: Rows in one INSERT: far below SQLite's and asyncpg's parameter limits, and a short transaction.
MAX_BATCH = 500


class InboxUnavailable(FederationError):
    """The activity was not stored, so the peer must not be told it was: it will retry."""

    code = "inbox_unavailable"


@dataclass(frozen=True, eq=False)
class _Waiting:
    """Compared by identity: two requests may carry the same activity."""

    row: dict[str, Any]
    stored: asyncio.Future[bool]


class InboxWriter:
    """`start()` within the running loop, `await stop()` at shutdown; `store()` in between."""

    def __init__(self, engine: AsyncEngine, after_commit: Callable[[], None],
                 acts_on: Callable[[dict[str, Any]], bool] = lambda activity: True) -> None:
        """`acts_on`: whether anything processes an activity; the others are stored already done.

        Most of what the fediverse sends an instance (Likes, posts, profile
        updates) has no handler here; stored done, it costs the processor nothing.
        """
        self._engine = engine
        self._after_commit = after_commit
        self._acts_on = acts_on
        dialect = postgresql if engine.dialect.name == "postgresql" else sqlite
        table = InboxItem.__table__
        self._insert = dialect.insert(table).on_conflict_do_nothing().returning(table.c.activity_id)
        #: Writes a batch's rows and commits; the activity ids that were new. The dialect's fastest way.
        self.insert_rows: Callable[[AsyncConnection, list[dict[str, Any]]], Awaitable[set[str]]] = (
            SQLiteInboxInsert(engine.dialect).insert if engine.dialect.name == "sqlite" else self._insert_rows)
        self._queue: deque[_Waiting] = deque()
        self._arrived = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._closing = False
        self._connection: AsyncConnection | None = None

    def start(self) -> None:
        self._closing = False
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        """Write what is already queued, then end; later requests are refused, not left waiting."""
        self._closing = True
        self._arrived.set()
        if self._task is not None:
            await self._task
            self._task = None

    async def store(self, incoming: Incoming, now: datetime) -> bool:
        """Return once the activity is committed: True if new, False if its id was already stored."""
        if self._task is None or self._closing:
            raise InboxUnavailable("The inbox is not accepting activities right now.")
        row = inbox_row(incoming, now, acted_on=self._acts_on(incoming.activity))
        waiting = _Waiting(row, asyncio.get_running_loop().create_future())
        self._queue.append(waiting)
        self._arrived.set()
        return await waiting.stored

    async def _run(self) -> None:
        try:
            while self._queue or not self._closing:
                if not self._queue:
                    self._arrived.clear()
                    await self._release()
                    await self._arrived.wait()
                    continue
                batch = [self._queue.popleft() for _ in range(min(len(self._queue), MAX_BATCH))]
                await self._commit(batch)
        finally:
            await self._release()

    async def _commit(self, batch: list[_Waiting]) -> None:
        try:
            new = await self._write(batch)
        except Exception as exc:  # any failure: nobody in the batch was stored, each request must say so
            log.exception("storing %d inbox activities failed", len(batch))
            for waiting in _still_waiting(batch):
                waiting.stored.set_exception(_unavailable(exc))
            await self._release()
            return
        if any(waiting.row["state"] == "pending" for waiting in batch):
            self._after_commit()
        for waiting in _still_waiting(batch):
            waiting.stored.set_result(waiting in new)

    async def _write(self, batch: list[_Waiting]) -> set[_Waiting]:
        """One INSERT of the batch's distinct activities; the first request of each id stored is the new one."""
        first: dict[str, _Waiting] = {}
        for waiting in batch:
            first.setdefault(waiting.row["activity_id"], waiting)
        if self._connection is None:
            self._connection = await self._engine.connect()
        inserted = await self.insert_rows(self._connection, [waiting.row for waiting in first.values()])
        return {waiting for activity_id, waiting in first.items() if activity_id in inserted}

    async def _insert_rows(self, connection: AsyncConnection, rows: list[dict[str, Any]]) -> set[str]:
        async with connection.begin():
            return set((await connection.execute(self._insert, rows)).scalars())

    async def _release(self) -> None:
        """Give the connection back: when idle, at the end, and after a failure, which may have broken it."""
        if self._connection is not None:
            connection, self._connection = self._connection, None
            await connection.close()


def _still_waiting(batch: list[_Waiting]) -> list[_Waiting]:
    """Without the requests whose client went away: aiohttp cancelled them, and their future with them."""
    return [waiting for waiting in batch if not waiting.stored.done()]


def _unavailable(cause: Exception) -> InboxUnavailable:
    error = InboxUnavailable("The activity could not be stored; please retry.")
    error.__cause__ = cause
    return error
