"""The delivery worker: claims due rows of `fed_deliveries`, signs and POSTs them.

Rows are claimed with a lease (`locked_until`), so several processes on one
database share the queue and a crashed one only delays its rows by the lease.
Each attempt is signed afresh (new Date); a batch's outcomes are written in
one transaction with its hosts' circuit-breaker state.
"""

import asyncio
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import bindparam, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from common.sql import rowcount
from common.supervision import supervise
from federation import host_health
from federation.client import BlockedDomain, FederationClient, FetchError, PostResult, UnsafeAddress
from federation.domain_blocks import BLOCKED_DELIVERY
from federation.keyring import Keyring
from federation.models import DELIVERY_STATES, Delivery, HostHealth
from federation.retry import RetryPolicy, is_permanent
from federation.wakeup import sleep_until_woken

DELIVERED = DELIVERY_STATES.move("queued", "delivered")
RETRIED = DELIVERY_STATES.move("queued", "queued")
GIVEN_UP = DELIVERY_STATES.move("queued", "dead")
NOT_UNDERSTOOD = DELIVERY_STATES.move("queued", "not_understood")


@dataclass(frozen=True)
class DeliveryOptions:
    concurrency: int = 16
    per_host_concurrency: int = 4
    breaker_threshold: int = 10
    breaker_cooldown: timedelta = timedelta(seconds=60)
    lease: timedelta = timedelta(minutes=2)
    #: Who this process is to the queue (host:port): the name its claims carry.
    worker: str = ""
    batch: int = 200


@dataclass(frozen=True)
class Outcome:
    delivered: bool
    permanent: bool
    status: int | None
    error: str | None
    retry_after: float | None = None


class DeliveryWorker:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], client: FederationClient, keyring: Keyring,
                 policy: RetryPolicy, options: DeliveryOptions, clock: Callable[[], datetime]) -> None:
        self._sessions = sessions
        self._client = client
        self._keyring = keyring
        self._policy = policy
        self._options = options
        self._clock = clock
        self._slots = asyncio.Semaphore(options.concurrency)
        self._host_slots: defaultdict[str, asyncio.Semaphore] = defaultdict(
            lambda: asyncio.Semaphore(options.per_host_concurrency))
        self._breaker = host_health.Breaker(options.breaker_threshold, options.breaker_cooldown)
        self.wakeup = asyncio.Event()

    async def run_once(self) -> int:
        """Attempt every delivery due now; returns how many were attempted.

        The batch's outcomes are written in one transaction: one commit per
        delivery made the writers queue up behind SQLite's single write lock.
        """
        claimed = await self._claim()
        outcomes = await asyncio.gather(*(self._attempt(row) for row in claimed))
        if claimed:
            await self._record(list(zip(claimed, outcomes, strict=True)))
        return len(claimed)

    async def run(self, poll_seconds: float) -> None:
        """Take back our own claims, then drain the queue, then sleep until woken or until the next poll.

        A failed round is waited out; the claims are taken back in the first round that succeeds.
        """
        reclaimed = False

        async def round_() -> None:
            nonlocal reclaimed
            if not reclaimed:
                await self.reclaim()
                reclaimed = True
            if await self.run_once() < self._options.batch:
                await sleep_until_woken(self.wakeup, poll_seconds)

        await supervise("delivery", round_)

    async def reclaim(self) -> int:
        """Free the claims this process made before it stopped (a crash leaves them leased); how many."""
        async with self._sessions() as session, session.begin():
            freed = await session.execute(update(Delivery).where(
                Delivery.locked_by == self._options.worker, Delivery.state == DELIVERED.source,
                Delivery.locked_until.is_not(None)).values(locked_until=None, locked_by=None))
        return rowcount(freed)

    async def _claim(self) -> list[Delivery]:
        now = self._clock()
        free = or_(Delivery.locked_until.is_(None), Delivery.locked_until < now)
        async with self._sessions() as session, session.begin():
            open_hosts = select(HostHealth.host).where(HostHealth.open_until > now)
            due = (select(Delivery.id)
                   .where(Delivery.state == DELIVERED.source, Delivery.next_attempt_at <= now, free,
                          Delivery.host.not_in(open_hosts))
                   .order_by(Delivery.next_attempt_at).limit(self._options.batch))
            ids = list(await session.scalars(due))
            if not ids:
                return []
            claimed = await session.scalars(
                update(Delivery).where(Delivery.id.in_(ids), free, Delivery.state == DELIVERED.source)
                .values(locked_until=now + self._options.lease, locked_by=self._options.worker).returning(Delivery))
            return list(claimed)

    async def _attempt(self, row: Delivery) -> Outcome:
        async with self._slots, self._host_slots[row.host]:
            return await self._send(row)

    async def _send(self, row: Delivery) -> Outcome:
        try:
            signer = await self._keyring.signer(row.sender_username)
            result: PostResult = await self._client.post(row.inbox_url, row.body.encode(), signer=signer)
        except BlockedDomain:
            return Outcome(False, True, None, BLOCKED_DELIVERY)
        except UnsafeAddress as exc:
            return Outcome(False, True, None, exc.safe_message)
        except FetchError as exc:
            return Outcome(False, not exc.transient, exc.status, exc.safe_message)
        if 200 <= result.status < 300:
            return Outcome(True, False, result.status, None)
        return Outcome(False, is_permanent(result.status), result.status,
                       f"HTTP {result.status}: {result.body_excerpt}", result.retry_after)

    async def _record(self, results: list[tuple[Delivery, Outcome]]) -> None:
        """Every outcome in one executemany, every host's breaker in one more: a batch costs a few statements."""
        now = self._clock()
        hosts: defaultdict[str, list[host_health.Attempt]] = defaultdict(list)
        for row, outcome in results:
            hosts[row.host].append((outcome.delivered, outcome.permanent))
        async with self._sessions() as session, session.begin():
            await session.execute(_NEXT_STATE, [self._next_state(row, outcome, now) for row, outcome in results])
            await host_health.record(session, hosts, self._breaker, now)

    def _next_state(self, row: Delivery, outcome: Outcome, now: datetime) -> dict[str, object]:
        attempts = row.attempts + 1
        values: dict[str, object] = {"b_id": row.id, "b_attempts": attempts, "b_status": outcome.status,
                                     "b_error": outcome.error, "b_state": RETRIED.target, "b_finished": None,
                                     "b_next": row.next_attempt_at}
        if outcome.delivered:
            return values | {"b_state": DELIVERED.target, "b_finished": now}
        if row.may_be_unknown and _refused(outcome):
            return values | {"b_state": NOT_UNDERSTOOD.target, "b_finished": now}
        delay = None if outcome.permanent else self._policy.delay(attempts, outcome.retry_after)
        if delay is None:
            return values | {"b_state": GIVEN_UP.target, "b_finished": now}
        return values | {"b_next": now + delay}


def _refused(outcome: Outcome) -> bool:
    """The peer read the request and turned it down for good (a permanent 4xx), rather than being unreachable.

    From a server that may not know the activity's type this is the answer
    itself: Fedify says `400 Invalid activity.` where Mastodon ignores the type.
    """
    return outcome.permanent and outcome.status is not None and 400 <= outcome.status < 500


_DELIVERIES = Delivery.__table__
_NEXT_STATE = (update(_DELIVERIES).where(_DELIVERIES.c.id == bindparam("b_id"))
               .values(attempts=bindparam("b_attempts"), locked_until=None, locked_by=None,
                       last_status=bindparam("b_status"),
                       last_error=bindparam("b_error"), state=bindparam("b_state"),
                       finished_at=bindparam("b_finished"), next_attempt_at=bindparam("b_next")))

