"""A stopping server ends its background workers, whenever their last work arrived."""

import asyncio

import pytest

from federation_harness import Federation


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
