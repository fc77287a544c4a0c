"""kill -9 during a burst of deliveries: every activity the inbox answered 2xx is in the database.

The server is a real `mecene serve` process; the sender a plain Mastodon-like
peer whose key the server fetches over loopback. The process is killed while
requests are in flight, so some batches are mid-commit when it dies.
"""

import asyncio
import os
import signal
import subprocess
import time
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import create_async_engine

from cli_process import MECENE, ROOT
from federation.models import InboxItem
from federation_harness import Databases, free_port
from plain_peer import AS_CONTEXT, PlainPeer
from server import db

ACTIVITIES = 600
IN_FLIGHT = 32
KILL_AFTER = 150


@pytest.fixture
async def env(tmp_path: Path) -> AsyncIterator[dict[str, str]]:
    databases = Databases(tmp_path)
    environ = {k: v for k, v in os.environ.items() if not k.startswith("MECENE_")}
    environ.update(MECENE_DATA_DIR=str(tmp_path / "data"), PYTHONPATH=str(ROOT),
                   MECENE_DATABASE_URL=await databases.new("killed"))
    yield environ
    await databases.drop_all()


async def serve(env: dict[str, str], port: int) -> subprocess.Popen[bytes]:
    init = subprocess.run([*MECENE, "init", "--domain", f"127.0.0.1:{port}"], env=env, cwd=ROOT,
                          capture_output=True, timeout=60)
    assert init.returncode == 0, init.stderr
    process = subprocess.Popen([*MECENE, "serve", "--port", str(port)], env=env, cwd=ROOT,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    async with aiohttp.ClientSession() as http:
        while True:
            try:
                async with http.get(f"http://127.0.0.1:{port}/health") as response:
                    if response.status == 200:
                        return process
            except aiohttp.ClientConnectionError:
                if time.monotonic() > deadline or process.poll() is not None:
                    process.kill()
                    raise
            await asyncio.sleep(0.1)


async def stored_ids(database_url: str) -> set[str]:
    engine = create_async_engine(database_url)
    try:
        async with engine.connect() as conn:
            return set((await conn.scalars(select(InboxItem.activity_id))).all())
    finally:
        await engine.dispose()


async def test_every_activity_answered_2xx_survives_kill_9(env: dict[str, str]) -> None:
    port = free_port()
    process = await serve(env, port)
    acknowledged: list[str] = []
    slots = asyncio.Semaphore(IN_FLIGHT)
    try:
        async with await PlainPeer.start() as peer:
            actor = peer.add_account("pat")

            async def send(n: int) -> None:
                activity = {"@context": AS_CONTEXT, "id": f"{actor}/likes/{n}", "type": "Like", "actor": actor,
                            "object": f"{actor}/statuses/1"}
                async with slots:
                    if process.returncode is not None:
                        return
                    try:
                        status = await peer.deliver("pat", f"http://127.0.0.1:{port}/inbox", activity)
                    except aiohttp.ClientError:
                        return
                assert status == 202
                acknowledged.append(activity["id"])
                if len(acknowledged) == KILL_AFTER:
                    os.kill(process.pid, signal.SIGKILL)
                    process.wait(10)

            await asyncio.gather(*(send(n) for n in range(ACTIVITIES)))
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(10)
    assert process.returncode == -signal.SIGKILL, "the server finished the burst before it was killed"
    assert KILL_AFTER <= len(acknowledged) < ACTIVITIES
    missing = set(acknowledged) - await stored_ids(env["MECENE_DATABASE_URL"])
    assert not missing, f"{len(missing)} of {len(acknowledged)} acknowledged activities lost"


async def test_sqlite_commits_reach_the_disk_before_they_return(tmp_path: Path) -> None:
    """WAL alone survives a killed process; FULL also keeps the last commits through a power loss."""
    engine = db.create_engine(f"sqlite+aiosqlite:///{tmp_path / 'synced.db'}")
    try:
        async with engine.connect() as conn:
            assert await conn.scalar(text("PRAGMA journal_mode")) == "wal"
            assert await conn.scalar(text("PRAGMA synchronous")) == 2
    finally:
        await engine.dispose()
