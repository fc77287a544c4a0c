"""One running Mecene instance: its settings, database, clock and federation services.

Built once per process (by the web app or a CLI command) so that both use the
same wiring; nothing here runs at import time.
"""

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from config.settings import Settings
from federation.actors import ActorStore
from federation.client import ClientOptions, FederationClient
from federation.delivery import DeliveryOptions, DeliveryWorker
from federation.domain_blocks import DomainBlocks
from federation.follows import FollowHandlers
from federation.inbox_writer import InboxWriter
from federation.instances import InstanceDirectory
from federation.keyring import Keyring
from federation.processing import InboxProcessor
from federation.retry import RetryPolicy
from federation.urls import InstanceUrls
from server import db
from server.accounts import INSTANCE_ACTOR, ensure_service_actors
from server.bot.handlers import BotHandlers
from server.payout_inbox import PayoutHandlers
from server.received import ReceivedFlattrHandlers
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
    received: ReceivedFlattrHandlers
    inbox_writer: InboxWriter
    directory: InstanceDirectory
    bot: BotHandlers
    blocks: DomainBlocks

    @classmethod
    def build(cls, settings: Settings, clock: Clock = system_clock) -> "Instance":
        engine = db.create_engine(settings.database.url)
        sessions = db.sessionmaker(engine)
        urls = InstanceUrls(settings.base_url)
        blocks = DomainBlocks(sessions)
        client = FederationClient(_client_options(settings), blocked=blocks.is_blocked)
        keyring = Keyring(sessions, urls, clock)
        actors = ActorStore(sessions, client, lambda: keyring.cached(INSTANCE_ACTOR), clock)
        delivery = DeliveryWorker(sessions, client, keyring, _retry_policy(settings), _delivery_options(settings),
                                  clock)
        received = ReceivedFlattrHandlers(urls, settings.settlement.period)
        directory = InstanceDirectory(sessions, client, scheme=settings.scheme, clock=clock)
        payouts = PayoutHandlers(urls, directory, settings.instance.currency)
        bot = BotHandlers(urls, settings.instance.bot_username, settings.instance.currency)
        follows = FollowHandlers(urls, actors)
        handlers = {**follows.handlers(), **received.handlers(), **payouts.handlers(), **bot.handlers()}
        processor = InboxProcessor(sessions, handlers, clock, after_commit=_wake(delivery.wakeup, bot.wakeup),
                                   prefetchers={**follows.prefetchers(), **payouts.prefetchers()})
        inbox_writer = InboxWriter(engine, after_commit=processor.wakeup.set, acts_on=processor.acts_on)
        return cls(settings=settings, clock=clock, engine=engine, sessions=sessions, urls=urls, client=client,
                   keyring=keyring, actors=actors, delivery=delivery, processor=processor, received=received,
                   inbox_writer=inbox_writer, directory=directory, bot=bot, blocks=blocks)

    async def start(self) -> None:
        """Migrate the schema, create the service actors, load the key that signs our fetches."""
        await db.upgrade(self.engine)
        async with self.sessions() as session, session.begin():
            await ensure_service_actors(session, bot_username=self.settings.instance.bot_username,
                                        instance_name=self.settings.instance.name, now=self.clock())
        await self.keyring.signer(INSTANCE_ACTOR)

    async def close(self) -> None:
        await self.client.close()
        await self.engine.dispose()

    def now(self) -> datetime:
        return self.clock()

    def current_period(self) -> Period:
        return period_of(self.clock(), self.settings.settlement.period)


def _wake(*events: asyncio.Event) -> Callable[[], None]:
    """After inbox items commit, their deliveries and bot tasks are due."""
    def wake() -> None:
        for event in events:
            event.set()
    return wake


def _client_options(settings: Settings) -> ClientOptions:
    return ClientOptions(
        user_agent=f"Mecene/{VERSION} (+{settings.base_url}/)",
        allow_insecure=settings.dev.insecure,
        connect_timeout=settings.federation.connect_timeout,
        total_timeout=settings.federation.request_timeout,
        max_redirects=settings.federation.max_redirects,
        max_body_bytes=settings.federation.fetch_max_bytes,
    )


def _retry_policy(settings: Settings) -> RetryPolicy:
    return RetryPolicy(max_attempts=settings.delivery.max_attempts, base_seconds=settings.delivery.retry_base_seconds)


def _delivery_options(settings: Settings) -> DeliveryOptions:
    return DeliveryOptions(
        concurrency=settings.delivery.concurrency,
        per_host_concurrency=settings.delivery.per_host_concurrency,
        breaker_threshold=settings.delivery.breaker_threshold,
        breaker_cooldown=timedelta(seconds=settings.delivery.breaker_cooldown_seconds),
    )
