"""Target 4: draining the delivery queue against a bare aiohttp client sending the same POSTs.

N queued deliveries (10,000 × MECENE_BENCH_SCALE) go to 100 inboxes spread
over 4 ports of one receiving process, 25 inboxes each: every port is one
host to the worker, so its per-host bound is observable at the receiver.
They are queued with `federation.outbox.publish`, one 1 KB Create per batch of
100 inboxes (as a post reaches its followers' servers), into a real instance's
SQLite database, then drained by `DeliveryWorker.run_once()` in a loop. The
queueing is not timed; the drain is, from the first claim to the last outcome
written. The receiver holds each answer 1 ms, a stand-in for network latency.

The baselines send the same bodies to the same URLs with the worker's
concurrency: (a) signing each request with `sign_cavage` as it goes, as any
sender must (the signed Date has to be fresh), which the target compares
with; (b) with those headers replayed, the transport alone, shown to tell
the cost of RSA signing from the rest.
"""

import asyncio
import json
import math
import tempfile
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
from sqlalchemy import func, select

from bench.receiver import Receiver
from bench.report import Figure
from bench.scale import scaled
from config.settings import load
from federation.delivery import DeliveryOptions, DeliveryWorker
from federation.models import Delivery
from federation.outbox import new_activity_id, publish
from server.accounts import create_user
from server.instance import Instance
from server.wiring import build_instance

DELIVERIES = 10_000
INBOXES = 100
PORTS = 4
LATENCY = 0.001
SENDER = "alice"
CONTENT_TYPE = "application/activity+json"
PHASE_TIMEOUT = 600.0

Headers = Mapping[str, str]


@dataclass(frozen=True)
class Post:
    url: str
    body: bytes


@dataclass(frozen=True)
class Phase:
    seconds: float
    received: int
    peak_per_host: int


async def _instance(folder: Path) -> Instance:
    """A real instance that is never served: the worker needs its database, keyring and client only."""
    instance = build_instance(load(None, {
        "MECENE_INSTANCE_DOMAIN": "127.0.0.1:9",
        "MECENE_DATABASE_URL": f"sqlite+aiosqlite:///{folder / 'sender.db'}",
        "MECENE_DEV_INSECURE": "true",
    }))
    await instance.start()
    async with instance.sessions() as session, session.begin():
        await create_user(session, SENDER, bot_username=instance.settings.instance.bot_username, now=instance.clock())
    return instance


def _activity(instance: Instance) -> dict[str, Any]:
    actor = instance.urls.actor(SENDER)
    activity_id = new_activity_id(instance.urls)
    note = {"id": f"{activity_id}/note", "type": "Note", "attributedTo": actor, "content": "flattr " * 120}
    return {"@context": "https://www.w3.org/ns/activitystreams", "id": activity_id, "type": "Create",
            "actor": actor, "object": note}


def _posts(activities: list[dict[str, Any]], inboxes: list[str]) -> list[Post]:
    """The same bytes `publish` queues, in the same order."""
    return [Post(inbox, json.dumps(activity, separators=(",", ":")).encode())
            for activity in activities for inbox in inboxes]


async def _queue(instance: Instance, activities: list[dict[str, Any]], inboxes: list[str]) -> float:
    start = time.perf_counter()
    for activity in activities:
        async with instance.sessions() as session, session.begin():
            await publish(session, sender=SENDER, activity=activity, inboxes=inboxes, now=instance.clock())
    return time.perf_counter() - start


async def _drain(worker: DeliveryWorker, expected: int) -> float:
    """Claim and attempt until the queue is empty; bounded by the rounds a full queue needs, and by time."""
    rounds = math.ceil(expected / DeliveryOptions().batch) + 10
    start = time.perf_counter()
    async with asyncio.timeout(PHASE_TIMEOUT):
        for _ in range(rounds):
            if await worker.run_once() == 0:
                break
    return time.perf_counter() - start


async def _states(instance: Instance) -> dict[str, int]:
    async with instance.sessions() as session:
        rows = await session.execute(select(Delivery.state, func.count()).group_by(Delivery.state))
        return {state: count for state, count in rows.tuples()}


async def _bare_loop(posts: list[Post], concurrency: int, headers: Callable[[int], Headers]) -> float:
    """POST every body with `concurrency` workers sharing one pooled session, as a minimal sender would."""
    pending = iter(range(len(posts)))
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as http:

        async def work() -> None:
            for i in pending:
                async with http.post(posts[i].url, data=posts[i].body, headers=headers(i)) as response:
                    await response.read()
                    if response.status != 202:
                        raise RuntimeError(f"receiver answered {response.status}")

        start = time.perf_counter()
        async with asyncio.timeout(PHASE_TIMEOUT):
            await asyncio.gather(*(work() for _ in range(concurrency)))
        return time.perf_counter() - start


async def _measured(receiver: Receiver, run: Callable[[], Awaitable[float]]) -> Phase:
    """Run one phase between a reset and a read of the receiver's counters."""
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{receiver.control}/reset") as response:
            response.raise_for_status()
        seconds = await run()
        async with http.get(f"{receiver.control}/stats") as response:
            stats = await response.json()
    return Phase(seconds, stats["received"], max(stats["peak"].values(), default=0))


async def _baselines(instance: Instance, receiver: Receiver, posts: list[Post]) -> tuple[Phase, Phase]:
    """(b) signs each request and keeps its headers, which (a) then replays pre-signed."""
    sign = await instance.keyring.signer(SENDER)
    concurrency = instance.settings.delivery.concurrency
    signed: dict[int, Headers] = {}

    def sign_now(i: int) -> Headers:
        signed[i] = sign("POST", posts[i].url, posts[i].body, CONTENT_TYPE)
        return signed[i]

    signing = await _measured(receiver, lambda: _bare_loop(posts, concurrency, sign_now))
    presigned = await _measured(receiver, lambda: _bare_loop(posts, concurrency, signed.__getitem__))
    return presigned, signing


async def _ours(instance: Instance, receiver: Receiver, activities: list[dict[str, Any]],
                inboxes: list[str]) -> Phase:
    expected = len(activities) * len(inboxes)
    queue_seconds = await _queue(instance, activities, inboxes)
    print(f"  delivery: queued {expected:,} deliveries with publish() in {queue_seconds:.1f} s (not timed)")
    drained = await _measured(receiver, lambda: _drain(instance.delivery, expected))
    states = await _states(instance)
    if states.get("delivered") != expected or drained.received != expected:
        raise AssertionError(f"expected {expected} delivered, queue has {states}, receiver got {drained.received}")
    return drained


def _report(ours: Phase, presigned: Phase, signing: Phase, bound: int, count: int) -> list[Figure]:
    for name, phase in (("Mecene worker", ours), ("bare, pre-signed", presigned), ("bare, signing", signing)):
        print(f"  delivery: {name:17} {count / phase.seconds:8,.0f}/s  peak in flight per host {phase.peak_per_host}")
    if ours.peak_per_host > bound:
        raise AssertionError(f"{ours.peak_per_host} requests in flight to one host, bound is {bound}")
    print(f"  delivery: per-host bound {bound} held (peak {ours.peak_per_host})")
    rate = count / ours.seconds
    return [
        Figure("delivery drain vs bare loop, signing each", rate, count / signing.seconds, "deliveries/s",
               "aiohttp loop + sign_cavage per request", 0.5),
        Figure("delivery drain vs bare loop, pre-signed", rate, count / presigned.seconds, "deliveries/s",
               "aiohttp loop, headers signed beforehand", 0.0),
    ]


async def run_async() -> list[Figure]:
    receiver = Receiver(PORTS, LATENCY)
    try:
        with tempfile.TemporaryDirectory(prefix="mecene-bench-") as folder:
            instance = await _instance(Path(folder))
            try:
                inboxes = [receiver.inbox(n) for n in range(INBOXES)]
                activities = [_activity(instance) for _ in range(round(scaled(DELIVERIES, INBOXES) / INBOXES))]
                posts = _posts(activities, inboxes)
                presigned, signing = await _baselines(instance, receiver, posts)
                ours = await _ours(instance, receiver, activities, inboxes)
                return _report(ours, presigned, signing, instance.settings.delivery.per_host_concurrency,
                               len(posts))
            finally:
                await instance.close()
    finally:
        receiver.close()


def run() -> list[Figure]:
    return asyncio.run(run_async())
