"""One running Mecene instance: what every service, page and command takes.

Its settings, database, clock, URLs and federation services. It knows nothing
of the handlers that act on incoming activities: `server.wiring` builds it and
them, once per process (for the web app or a CLI command), so that both use
the same wiring.
"""

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from config.settings import Settings
from federation.actors import ActorStore
from federation.client import FederationClient
from federation.delivery import DeliveryWorker
from federation.domain_blocks import DomainBlocks
from federation.inbox_writer import InboxWriter
from federation.instances import InstanceDirectory
from federation.keyring import Keyring
from federation.processing import InboxProcessor
from federation.urls import InstanceUrls
from server import db
from server.accounts import INSTANCE_ACTOR, ensure_service_actors
from server.metrics import Metrics
from settlement.periods import Period, period_of

VERSION = "0.1.0"

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    return datetime.now(UTC)


@dataclass
class Instance:
    settings: Settings
    clock: Clock
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    urls: InstanceUrls
    client: FederationClient
    keyring: Keyring
    actors: ActorStore
    delivery: DeliveryWorker
    processor: InboxProcessor
    inbox_writer: InboxWriter
    directory: InstanceDirectory
    bot_wakeup: asyncio.Event
    blocks: DomainBlocks
    metrics: Metrics

    async def start(self) -> None:
        """Migrate the schema, create the service actors, read the key that signs our fetches.

        Cancelled (Ctrl-C while it migrates), the start is let finish before the
        cancellation goes on; a second one stops waiting. SQLite's migrations are
        not transactional, so a migration cut short may leave half a schema, and a
        cancelled statement goes on in SQLite's thread, whose answer then finds the
        event loop closed (it prints so at exit).
        """
        starting = asyncio.ensure_future(self._start())
        try:
            await asyncio.shield(starting)
        except asyncio.CancelledError:
            with contextlib.suppress(Exception):
                await starting
            raise

    async def _start(self) -> None:
        await db.upgrade(self.engine)
        async with self.sessions() as session, session.begin():
            await ensure_service_actors(session, bot_username=self.settings.instance.bot_username,
                                        instance_name=self.settings.instance.name, now=self.clock())
        await self.keyring.signer(INSTANCE_ACTOR)

    async def close(self) -> None:
        await self.client.close()
        await self.engine.dispose()

    def current_period(self) -> Period:
        return period_of(self.clock(), self.settings.settlement.period)

