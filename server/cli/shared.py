"""What the commands that act on an instance share: the instance, opened for the length of a command.

The `*_commands` modules import it, never a `*_parser` one: it imports the
whole instance, which `mecene --help` and a mistyped argument must not wait for.
"""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from config.settings import Settings
from server.instance import Instance
from server.wiring import build_instance


@asynccontextmanager
async def opened(settings: Settings) -> AsyncIterator[Instance]:
    instance = build_instance(settings)
    try:
        await instance.start()
        yield instance
    finally:
        await instance.close()
