"""Building one instance: its federation services, and the handlers its inbox processor runs.

The only module that knows every inbox handler (follows, flattrs, payouts,
the bot), so that `server.instance` stays the plain object services take.
"""

import asyncio
import socket
from collections.abc import Callable
from datetime import timedelta

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
from server.accounts import INSTANCE_ACTOR
from server.bot.handlers import BotHandlers
from server.instance import VERSION, Clock, Instance, system_clock
from server.metrics import Metrics
from server.settling.agreement_inbox import AgreementHandlers
from server.settling.clearing_inbox import ClearingHandlers
from server.settling.flattr_inbox import ReceivedFlattrHandlers
from server.settling.payout_inbox import PayoutHandlers
from server.settling.statement_exchange import StatementHandlers


def build_instance(settings: Settings, clock: Clock = system_clock, port: int | None = None) -> Instance:
    """Every service of one instance, and the inbox handlers that its processor runs.

    `port`: the one `mecene serve` listens on, when not the configured one; with
    the host's name it names this process to the delivery queue.
    """
    engine = db.create_engine(settings.database.url)
    sessions = db.sessionmaker(engine)
    urls = InstanceUrls(settings.base_url)
    blocks = DomainBlocks(sessions)
    client = FederationClient(_client_options(settings), blocked=blocks.is_blocked)
    keyring = Keyring(sessions, urls, clock)
    actors = ActorStore(sessions, client, lambda: keyring.cached(INSTANCE_ACTOR), clock)
    delivery = DeliveryWorker(sessions, client, keyring, _retry_policy(settings), _delivery_options(settings, port),
                              clock)
    directory = InstanceDirectory(sessions, client, scheme=settings.scheme, clock=clock)
    payouts = PayoutHandlers(urls, directory)
    agreements = AgreementHandlers(urls, directory, settings.instance.accepted_currencies)
    clearings = ClearingHandlers(urls, directory)
    statements = StatementHandlers(directory)
    bot = BotHandlers(urls, settings.instance.bot_username, settings.instance.currency)
    follows = FollowHandlers(urls, actors)
    flattrs = ReceivedFlattrHandlers(urls, settings.settlement.period)
    handlers = {**follows.handlers(), **flattrs.handlers(), **payouts.handlers(), **agreements.handlers(),
                **clearings.handlers(), **statements.handlers(), **bot.handlers()}
    processor = InboxProcessor(sessions, handlers, clock, after_commit=_wake(delivery.wakeup, bot.wakeup),
                               prefetchers={**follows.prefetchers(), **payouts.prefetchers(),
                                            **agreements.prefetchers(), **clearings.prefetchers(),
                                            **statements.prefetchers()},
                               retry_base=timedelta(seconds=settings.federation.inbox_retry_base_seconds))
    inbox_writer = InboxWriter(engine, after_commit=processor.wakeup.set, acts_on=processor.acts_on,
                               answers_copies=lambda activity: any(
                                   kind.answers_copies(activity) for kind in (payouts, clearings, agreements)))
    return Instance(settings=settings, clock=clock, engine=engine, sessions=sessions, urls=urls, client=client,
                    keyring=keyring, actors=actors, delivery=delivery, processor=processor,
                    inbox_writer=inbox_writer, directory=directory, bot_wakeup=bot.wakeup, blocks=blocks,
                    metrics=Metrics())


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


def _delivery_options(settings: Settings, port: int | None) -> DeliveryOptions:
    return DeliveryOptions(
        lease=timedelta(seconds=settings.delivery.lease_seconds),
        worker=f"{socket.gethostname()}:{port or settings.server.port}"[:128],
        concurrency=settings.delivery.concurrency,
        per_host_concurrency=settings.delivery.per_host_concurrency,
        breaker_threshold=settings.delivery.breaker_threshold,
        breaker_cooldown=timedelta(seconds=settings.delivery.breaker_cooldown_seconds),
    )
