"""The idle wait shared by the workers: woken by new work, or by a poll for work from other processes."""

import asyncio
import contextlib


async def sleep_until_woken(event: asyncio.Event, timeout: float) -> None:
    """Clear `event`, then wait until it is set again or `timeout` seconds pass."""
    event.clear()
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(event.wait(), timeout=timeout)
