"""What every `mecene` command shares: the error it stops with and the instance it opens."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from config.settings import Settings
from server.instance import Instance
from server.wiring import build_instance


class CommandError(Exception):
    """A command could not do what was asked; the message says why, for the operator."""


@asynccontextmanager
async def opened(settings: Settings) -> AsyncIterator[Instance]:
    instance = build_instance(settings)
    try:
        await instance.start()
        yield instance
    finally:
        await instance.close()
