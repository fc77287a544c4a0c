"""The workers' idle wait: it ends when woken or at its timeout, and a stopping server can always cancel it."""

import asyncio

import pytest

from common.supervision import supervise
from federation.wakeup import sleep_until_woken


async def test_the_wait_ends_when_woken_or_at_its_timeout() -> None:
    event = asyncio.Event()
    woken = asyncio.create_task(sleep_until_woken(event, 10))
    await asyncio.sleep(0)
    event.set()
    async with asyncio.timeout(2):
        await woken
        await sleep_until_woken(event, 0.01)
    assert not event.is_set()


async def test_a_worker_cancelled_in_the_turn_it_is_woken_stops() -> None:
    """New work wakes a worker just before its server, stopping, cancels it: it must stop all the same.

    On Python 3.11 `asyncio.wait_for` returned as if woken, the worker polled
    on, and the server's shutdown, awaiting it, never ended.
    """
    event = asyncio.Event()
    worker = asyncio.create_task(supervise("test worker", lambda: sleep_until_woken(event, 0.2)))
    await asyncio.sleep(0)
    event.set()
    worker.cancel()
    with pytest.raises(asyncio.CancelledError):
        async with asyncio.timeout(2):
            await worker
