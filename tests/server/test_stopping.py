"""A stopping server ends its background workers, whenever their last work arrived."""

import asyncio
import contextlib
import sqlite3
import threading
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from federation_harness import Federation
from server import db
from server.accounts import INSTANCE_ACTOR
from server.demo.sites import ShiftedClock, serving

#: A statement that keeps SQLite's thread busy for seconds, as a long migration step would.
SLOW_STATEMENT = ("WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < 20000000) "
                  "SELECT count(*) FROM n")


async def test_a_server_stops_when_its_workers_are_woken_just_before(federation: Federation,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """New work wakes the idle workers in the very turn the server cancels them (here: right after the inbox).

    Python 3.11's `asyncio.wait_for`, their idle wait then, took that
    cancellation for the wakeup: the workers went on polling and the stop never ended.
    """
    node = await federation.start("a")
    live = node.live
    stop_inbox = live.inbox_writer.stop

    async def stop_inbox_then_wake() -> None:
        await stop_inbox()
        for event in (live.delivery.wakeup, live.processor.wakeup, live.bot_wakeup):
            event.set()

    monkeypatch.setattr(live.inbox_writer, "stop", stop_inbox_then_wake)
    async with asyncio.timeout(10):
        await federation.stop("a")


async def test_a_server_cancelled_while_it_starts_leaves_no_database_thread(tmp_path: Path,
                                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """Ctrl-C while a demo instance migrates, in the middle of a statement: the start is let finish (SQLite's
    migrations are not transactional, so a cut one leaves half a schema) and the engine disposed, so no SQLite
    thread is left working once the site has stopped. Such a thread kept the process open at exit, or wrote into
    the folder the demo removes next, or printed that its answer found the loop closed.
    """
    migrating = asyncio.Event()
    upgrade = db.upgrade

    async def upgrade_slowly(engine: AsyncEngine) -> None:
        await upgrade(engine)
        async with engine.connect() as connection:
            migrating.set()
            await connection.exec_driver_sql(SLOW_STATEMENT)

    monkeypatch.setattr(db, "upgrade", upgrade_slowly)
    before = _sqlite_threads()

    async def serve() -> None:
        async with serving(tmp_path, "alpha", "127.0.0.1", ShiftedClock(timedelta())):
            raise AssertionError("the instance started")

    task = asyncio.create_task(serve())
    await asyncio.wait_for(migrating.wait(), timeout=60)
    await asyncio.sleep(0.1)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    left = _sqlite_threads() - before
    for thread in left:
        thread.join(timeout=0.5)
    assert not [thread for thread in left if thread.is_alive()]
    with contextlib.closing(sqlite3.connect(tmp_path / "alpha" / "mecene.db")) as database:
        started = database.execute("SELECT count(*) FROM fed_local_actors WHERE username = ?", (INSTANCE_ACTOR,))
        assert started.fetchone() == (1,)


def _sqlite_threads() -> set[threading.Thread]:
    """aiosqlite's worker threads, one per open connection."""
    return {thread for thread in threading.enumerate() if "_connection_worker_thread" in thread.name}
