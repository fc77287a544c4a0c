"""Group commit for the inbox: the activities of concurrent requests stored in one transaction.

A commit has a fixed cost (the write lock, the log flush, the round trips to
the database) that one row or five hundred pay once, so one commit per request
caps an inbox at the commits per second the database can make. Requests queue
their rows here and wait; a single task writes queued rows in one statement,
committed, and only then lets each request answer. A busy inbox makes larger
batches rather than a longer queue.

A writer woken from idle by a request waits GATHER_SECONDS (5 ms) for others
to share its commit, or until GATHER_ROWS are queued, whichever comes first,
and writes all it gathered in one statement. A lightly loaded inbox, a few
hundred to a few thousand activities a second, otherwise commits nearly every
request alone, and each commit costs the process a statement and a wait for
the database's answer. On PostgreSQL the pause made one `mecene serve` at a
quarter of its full rate spend a third less CPU per activity, for at most 5 ms
more before a peer hears 202 (`docs/performance.md`). A busy writer finds rows
waiting whenever a commit ends and never pauses, and a burst of GATHER_ROWS or
more is not held.

Otherwise a batch takes half of the waiting rows (at most MAX_BATCH); the rest
go in the next commit, right after. Peers send their next activity when the
last one is answered, so requests that arrived together tend to stay together:
committing all of them at once leaves nothing to verify while the database
works, and the event loop idles. Answering half one commit earlier lets their
next requests be verified while the other half is written (alternating windows
of the inbox case's store alone: about 15 % more activities stored per second
than taking every row, docs/performance.md).

The task keeps its connection between batches, in autocommit mode (each
batch is one statement, `federation/inbox_insert.py`): checking one out of the
pool, pinging it and resetting it on return cost round trips to the driver,
and on aiosqlite each round trip waits for a busy event loop. An inbox
answering lone activities, a few hundred a second, would pay them for every
one: about a third of the instructions a lone activity costs the process
(`docs/performance.md`). A connection left unused for IDLE_SECONDS goes back to
the pool before the next batch, which the pool checks before handing it out;
one that failed goes back at once, and the batch is written again, once, on
another: a connection dropped while it waited (the database restarted, an idle
timeout) costs no peer a 503.

A copy of an activity already processed changes nothing, unless its handler
answers every copy: a Payout comes again from a sender that had no answer, so
its stored copy is made pending once more, by a second statement that only a
batch holding such an activity costs (if that one fails, the peer hears so and
its next copy does it).
"""

import asyncio
import contextlib
import logging
import sqlite3
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Update, update
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from federation.errors import FederationError
from federation.inbox import Incoming, inbox_row
from federation.inbox_insert import InboxInsert, inbox_insert
from federation.models import INBOX_STATES, InboxItem

log = logging.getLogger(__name__)
PENDING = INBOX_STATES.birth("pending")
AGAIN = INBOX_STATES.move("done", "pending")

#: Rows in one INSERT: far below SQLite's and asyncpg's parameter limits, and a short transaction.
MAX_BATCH = 500
#: How long a writer woken by a request waits for others to share its commit, unless GATHER_ROWS come first.
GATHER_SECONDS = 0.005
GATHER_ROWS = 8
#: A connection unused this long goes back to the pool, to be checked (pinged) before the next batch.
IDLE_SECONDS = 5.0
#: SQLSTATE classes of a failure that a row caused, not the database: data exceptions and integrity.
ROW_SQLSTATE_CLASSES = ("22", "23")


class InboxUnavailable(FederationError):
    """The activity was not stored, so the peer must not be told it was: it will retry."""

    code = "inbox_unavailable"


@dataclass(slots=True, eq=False)
class _Waiting:
    """A request's row and the future it waits on; compared by identity, as two requests may carry equal rows."""

    row: dict[str, Any]
    stored: asyncio.Future[None]


class InboxWriter:
    """`start()` within the running loop, `await stop()` at shutdown; `store()` in between."""

    def __init__(self, engine: AsyncEngine, after_commit: Callable[[], None],
                 acts_on: Callable[[dict[str, Any]], bool] = lambda activity: True,
                 answers_copies: Callable[[dict[str, Any]], bool] = lambda activity: False) -> None:
        """`acts_on`: whether anything processes an activity; the others are stored already done.

        Most of what the fediverse sends an instance (Likes, posts, profile
        updates) has no handler here; stored done, it costs the processor nothing.
        `answers_copies`: whether its handler answers every copy of an activity,
        which is then processed again when a copy arrives.
        """
        self._engine = engine
        self._after_commit = after_commit
        self._acts_on = acts_on
        self._answers_copies = answers_copies
        #: Writes a batch's rows, committed, in one round trip; an id already stored is skipped.
        self.insert_rows: InboxInsert = inbox_insert(engine.dialect)
        self._queue: deque[_Waiting] = deque()
        self._arrived = asyncio.Event()
        self._gathered = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._closing = False
        self._connection: AsyncConnection | None = None
        self._last_write = 0.0

    def start(self) -> None:
        self._closing = False
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        """Write what is already queued, then end; later requests are refused, not left waiting."""
        self._closing = True
        self._arrived.set()
        self._gathered.set()
        if self._task is not None:
            await self._task
            self._task = None

    async def store(self, incoming: Incoming, now: datetime) -> None:
        """Return once the activity is committed, or once it is known to be stored already."""
        if self._task is None or self._closing:
            raise InboxUnavailable("The inbox is not accepting activities right now.")
        row = inbox_row(incoming, now, acted_on=self._acts_on(incoming.activity))
        waiting = _Waiting(row, asyncio.get_running_loop().create_future())
        self._queue.append(waiting)
        self._arrived.set()
        if len(self._queue) >= GATHER_ROWS:
            self._gathered.set()
        await waiting.stored

    async def _run(self) -> None:
        try:
            while self._queue or not self._closing:
                if self._queue:
                    await self._commit(self._take((len(self._queue) + 1) // 2))
                    continue
                self._arrived.clear()
                await self._arrived.wait()
                if await self._paused():
                    await self._commit(self._take(len(self._queue)))
        finally:
            await self._release()

    async def _paused(self) -> bool:
        """Whether the writer paused for the requests arriving just after the first (the module's docstring).

        A burst of GATHER_ROWS or more is not held: it is taken half by half.
        """
        if self._closing or len(self._queue) >= GATHER_ROWS:
            return False
        self._gathered.clear()
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(GATHER_SECONDS):
                await self._gathered.wait()
        return True

    def _take(self, count: int) -> list[_Waiting]:
        return [self._queue.popleft() for _ in range(min(count, MAX_BATCH))]

    async def _commit(self, batch: list[_Waiting]) -> None:
        refused = await self._store(batch)
        stored = [waiting for waiting in batch if waiting not in refused]
        if any(waiting.row["state"] == PENDING for waiting in stored):
            self._after_commit()
        for waiting in _still_waiting(batch):
            if waiting in refused:
                waiting.stored.set_exception(_unavailable(refused[waiting]))
            else:
                waiting.stored.set_result(None)

    async def _store(self, batch: list[_Waiting], *, again: bool = False) -> dict[_Waiting, Exception]:
        """Write the batch; what could not be stored, each with why.

        A failed statement stored nothing. When the database itself failed,
        the batch is written once more on a connection the pool has checked
        (the one it met may only have been dropped); if that fails too, every
        request of the batch hears so (503, and its peer retries). When the
        rows failed, the batch is split in halves and written again, so that
        one row the database refuses fails alone instead of its whole batch.
        """
        try:
            await self._write(batch)
        except Exception as exc:  # any failure: this statement stored nothing
            await self._release()
            if _database_failed(exc) and not again:
                return await self._store(batch, again=True)
            if len(batch) == 1 or _database_failed(exc):
                log.exception("storing %d inbox activities failed", len(batch))
                return dict.fromkeys(batch, exc)
            half = len(batch) // 2
            return await self._store(batch[:half]) | await self._store(batch[half:])
        return {}

    async def _write(self, batch: list[_Waiting]) -> None:
        connection = await self._connected()
        rows = [waiting.row for waiting in batch]
        await self.insert_rows(connection, rows)
        again = [row["activity_id"] for row in rows
                 if row["state"] == PENDING and self._answers_copies(row["activity"])]
        if again:
            await connection.execute(_processed_again(again))

    async def _connected(self) -> AsyncConnection:
        """The kept connection, unless it has been idle for IDLE_SECONDS: then one the pool has just checked."""
        now = asyncio.get_running_loop().time()
        if self._connection is not None and now - self._last_write > IDLE_SECONDS:
            await self._release()
        if self._connection is None:
            self._connection = await (await self._engine.connect()).execution_options(isolation_level="AUTOCOMMIT")
        self._last_write = now
        return self._connection

    async def _release(self) -> None:
        """Give the connection back: when long idle, at the end, and after a failure, which may have broken it."""
        if self._connection is not None:
            connection, self._connection = self._connection, None
            await connection.close()


def _processed_again(activity_ids: list[str]) -> Update:
    """Those of the activities already processed, pending once more and due at once; the others are untouched."""
    return (update(InboxItem).where(InboxItem.activity_id.in_(activity_ids), InboxItem.state == AGAIN.source)
            .values(state=AGAIN.target, attempts=0, error=None, next_attempt_at=None, processed_at=None))


def _still_waiting(batch: list[_Waiting]) -> list[_Waiting]:
    """Without the requests whose client went away: aiohttp cancelled them, and their future with them."""
    return [waiting for waiting in batch if not waiting.stored.done()]


def _database_failed(exc: Exception) -> bool:
    """A failure of the database or the connection to it, which any row would meet, rather than of some row.

    PostgreSQL says which by the class of its SQLSTATE: 22 (data exception:
    a NUL, a value too long) and 23 (integrity) are a row's; the others (08
    connection, 53 resources, 57 operator intervention…) the database's.
    """
    sqlstate = getattr(exc, "sqlstate", None)
    if isinstance(sqlstate, str):
        return not sqlstate.startswith(ROW_SQLSTATE_CLASSES)
    return isinstance(exc, OSError | sqlite3.OperationalError | sqlite3.InterfaceError | OperationalError
                      | InterfaceError)


def _unavailable(cause: Exception) -> InboxUnavailable:
    error = InboxUnavailable("The activity could not be stored; please retry.")
    error.__cause__ = cause
    return error
