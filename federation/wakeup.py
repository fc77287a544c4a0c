"""The idle wait shared by the workers: woken by new work, or by a poll for work from other processes."""

import asyncio
import contextlib


async def sleep_until_woken(event: asyncio.Event, timeout: float) -> None:
    """Clear `event`, then wait until it is set again or `timeout` seconds pass.

    Not `asyncio.wait_for`: on Python 3.11 it waits for the event in a task of
    its own, and when the worker is cancelled in the loop turn that task ends
    (the event was set just before a stopping server cancels its workers), it
    returns as if woken instead of raising. The worker then polls on, and the
    shutdown awaiting it never ends. `asyncio.timeout` never loses a cancellation.
    """
    event.clear()
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(timeout):
            await event.wait()
