"""A worker that meets an error logs it, waits, and goes on: one database blip must not end delivery until restart.

The faults are injected (the first rounds raise); the work after them is
real: a follow delivered between two instances over loopback, and received.
"""

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from sqlalchemy import select

from common import supervision
from federation.follows import follow
from federation.models import Follower
from federation_harness import Federation, Node, eventually
from server.accounts import create_user


async def add_user(node: Node, name: str) -> None:
    async with node.live.sessions() as session, session.begin():
        await create_user(session, name, bot_username="flattr", now=node.live.clock())


def failing_first(calls: int, real: Callable[[], Awaitable[Any]], error: Exception) -> Callable[[], Awaitable[Any]]:
    """`real`, except that its first `calls` calls raise `error`."""
    count = 0

    async def maybe_failing() -> Any:
        nonlocal count
        count += 1
        if count <= calls:
            raise error
        return await real()

    return maybe_failing


async def follow_arrives(a: Node, b: Node) -> None:
    async with a.live.sessions() as session, session.begin():
        await follow(session, a.live.urls, username="alice", target_uri=f"{b.base_url}/users/bob",
                     target_inbox=f"{b.base_url}/inbox", now=a.live.clock())
    a.live.delivery.wakeup.set()

    async def followed() -> bool:
        async with b.live.sessions() as session:
            return await session.scalar(select(Follower.follower_uri)) == f"{a.base_url}/users/alice"

    await eventually(followed, what="the follow, after the worker's failures")


@pytest.mark.parametrize("worker", ["delivery", "processor"])
async def test_a_worker_goes_on_after_errors(federation: Federation, worker: str,
                                             caplog: pytest.LogCaptureFixture) -> None:
    a, b = await federation.start("a"), await federation.start("b")
    await add_user(a, "alice")
    await add_user(b, "bob")
    failing = a.live.delivery if worker == "delivery" else b.live.processor
    failing.run_once = failing_first(2, failing.run_once, LookupError("the database went away"))
    with caplog.at_level(logging.ERROR, logger="common.supervision"):
        await follow_arrives(a, b)
    name = "delivery" if worker == "delivery" else "inbox processing"
    assert [record.getMessage() for record in caplog.records if record.name == "common.supervision"][:2] == [
        f"{name} failed (1 in a row); trying again in 1 s", f"{name} failed (2 in a row); trying again in 2 s"]


async def test_waits_grow_after_failures_in_a_row_and_start_again_after_a_success(
        monkeypatch: pytest.MonkeyPatch) -> None:
    assert [supervision.delay_after(n) for n in range(1, 9)] == [1, 2, 4, 8, 16, 32, 60, 60]
    outcomes: list[BaseException | None] = [ValueError("one"), ValueError("two"), None, ValueError("three"), None,
                                            asyncio.CancelledError()]
    waits: list[float] = []

    async def round_() -> None:
        outcome = outcomes.pop(0)
        if outcome is not None:
            raise outcome

    async def clock(seconds: float) -> None:
        waits.append(seconds)

    monkeypatch.setattr(supervision.asyncio, "sleep", clock)
    with pytest.raises(asyncio.CancelledError):
        await supervision.supervise("test", round_, first_delay=0.5)
    assert waits == [0.5, 1.0, 0.5] and outcomes == []
