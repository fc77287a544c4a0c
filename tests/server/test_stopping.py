"""A stopping server ends its background workers, whenever their last work arrived."""

import asyncio
import threading
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from federation_harness import Federation
from server import db
from server.demo.sites import ShiftedClock, serving


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
    """Ctrl-C while a demo instance migrates: its engine is disposed, so no SQLite thread keeps the process alive
    at exit or writes into the folder the demo removes next.
    """
    migrated = asyncio.Event()
    upgrade = db.upgrade

    async def upgrade_then_hang(engine: AsyncEngine) -> None:
        await upgrade(engine)
        migrated.set()
        await asyncio.Event().wait()

    monkeypatch.setattr(db, "upgrade", upgrade_then_hang)
    before = _sqlite_threads()

    async def serve() -> None:
        async with serving(tmp_path, "alpha", "127.0.0.1", ShiftedClock(timedelta())):
            raise AssertionError("the instance started")

    task = asyncio.create_task(serve())
    await asyncio.wait_for(migrated.wait(), timeout=60)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    left = _sqlite_threads() - before
    for thread in left:
        thread.join(timeout=5)
    assert not [thread for thread in left if thread.is_alive()]


def _sqlite_threads() -> set[threading.Thread]:
    """aiosqlite's worker threads, one per open connection."""
    return {thread for thread in threading.enumerate() if "_connection_worker_thread" in thread.name}
