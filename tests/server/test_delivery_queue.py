"""The delivery queue: late peers, restarts, dead letters and the circuit breaker."""

import asyncio
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select, update

from federation.follows import follow
from federation.models import Delivery, Follower, Following, HostHealth
from federation.outbox import new_activity_id, publish
from federation.vocab import activity
from federation_harness import Federation, Node, eventually
from server.accounts import create_user

ROOT = Path(__file__).resolve().parents[2]


async def add_user(node: Node, name: str) -> None:
    async with node.live.sessions() as session, session.begin():
        await create_user(session, name, bot_username="flattr", now=node.live.clock())


async def deliveries(node: Node) -> list[Delivery]:
    async with node.live.sessions() as session:
        return list(await session.scalars(select(Delivery).order_by(Delivery.id)))


async def queue_follow(a: Node, b: Node) -> None:
    async with a.live.sessions() as session, session.begin():
        await follow(session, a.live.urls, username="alice", target_uri=f"{b.base_url}/users/bob",
                     target_inbox=f"{b.base_url}/inbox", now=a.live.clock())
    a.live.delivery.wakeup.set()


async def test_queued_delivery_survives_restart_and_reaches_a_late_peer(federation: Federation) -> None:
    a = await federation.start("a")
    b = await federation.reserve("b")
    await add_user(a, "alice")
    await queue_follow(a, b)

    async def failed_twice() -> bool:
        rows = await deliveries(a)
        return rows[0].attempts >= 2 and rows[0].state == "queued"

    await eventually(failed_twice, what="retries against the absent peer")
    failing = (await deliveries(a))[0]
    assert failing.last_status is None and failing.last_error, "a connection failure is recorded for the operator"
    await federation.stop("a")
    await federation.start("b")
    await add_user(b, "bob")
    await federation.start("a")

    async def followed() -> bool:
        async with b.live.sessions() as session:
            return await session.scalar(select(Follower.follower_uri)) == f"{a.base_url}/users/alice"

    await eventually(followed, what="the follow after restart")

    async def accepted() -> bool:
        async with a.live.sessions() as session:
            return bool(await session.scalar(select(Following.accepted)))

    await eventually(accepted, what="the accept back")
    assert (await deliveries(a))[0].state == "delivered"


async def test_permanent_refusal_becomes_a_dead_letter(federation: Federation) -> None:
    a, b = await federation.start("a"), await federation.start("b")
    await add_user(a, "alice")
    async with a.live.sessions() as session, session.begin():
        note = activity(new_activity_id(a.live.urls), "Like", f"{a.base_url}/users/alice", f"{b.base_url}/x")
        await publish(session, sender="alice", activity=note, inboxes=[f"{b.base_url}/users/ghost/inbox"],
                      now=a.live.clock())
    a.live.delivery.wakeup.set()

    async def dead() -> bool:
        return (await deliveries(a))[0].state == "dead"

    await eventually(dead, what="dead letter")
    row = (await deliveries(a))[0]
    assert (row.attempts, row.last_status) == (1, 404)
    listed = operator(a, "deliveries", "--dead")
    assert listed.returncode == 0 and f"{row.id}\tdead\t1\t" in listed.stdout and "ghost/inbox" in listed.stdout
    assert operator(a, "deliveries", "--retry", str(row.id)).returncode == 0
    await eventually(dead, what="the retried dead letter refused again")
    assert (await deliveries(a))[0].attempts == 1, "a retried dead letter starts its attempts afresh"


def operator(node: Node, *args: str) -> subprocess.CompletedProcess[str]:
    """`mecene` run by the operator in another process against the running instance's database."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith("MECENE_")}
    environ.update(MECENE_DATABASE_URL=node.database_url, MECENE_INSTANCE_DOMAIN=node.host,
                   MECENE_DEV_INSECURE="true", PYTHONPATH=str(ROOT))
    return subprocess.run([sys.executable, "-m", "server.cli", *args], env=environ, capture_output=True,
                          text=True, timeout=60, cwd=ROOT)


async def test_circuit_breaker_holds_deliveries_to_a_failing_host(federation: Federation) -> None:
    a = await federation.start("a", MECENE_DELIVERY_BREAKER_THRESHOLD="2",
                               MECENE_DELIVERY_BREAKER_COOLDOWN_SECONDS="3600")
    b = await federation.reserve("b")
    await add_user(a, "alice")
    await queue_follow(a, b)

    async def circuit_open() -> bool:
        async with a.live.sessions() as session:
            health = await session.get(HostHealth, b.host)
            return health is not None and health.open_until is not None

    await eventually(circuit_open, what="circuit opens")
    attempts = (await deliveries(a))[0].attempts
    assert attempts == 2
    a.live.clock.advance(seconds=30)
    assert await a.live.delivery.run_once() == 0, "an open circuit holds the host's deliveries"
    assert (await deliveries(a))[0].attempts == attempts


async def test_a_process_started_again_takes_back_its_own_claims_at_once(federation: Federation) -> None:
    """Claims of a process that died wait out their lease, unless the same process (host and port) comes back."""
    a = await federation.start("a")
    b = await federation.reserve("b")
    await add_user(a, "alice")
    async with a.live.sessions() as session, session.begin():
        await follow(session, a.live.urls, username="alice", target_uri=f"{b.base_url}/users/bob",
                     target_inbox=f"{b.base_url}/inbox", now=a.live.clock())
        worker = a.live.delivery._options.worker
        await session.execute(update(Delivery).values(locked_by=worker,
                                                      locked_until=a.live.clock() + timedelta(hours=1)))
    await federation.stop("a")
    await federation.start("b")
    await add_user(b, "bob")
    await federation.start("a")

    async def followed() -> bool:
        return await followers(b) == [f"{a.base_url}/users/alice"]

    await eventually(followed, what="the follow, its claim taken back by the restarted process")
    assert (await deliveries(a))[0].locked_by is None


async def test_claims_of_another_process_wait_for_their_lease(federation: Federation) -> None:
    a, b = await federation.start("a"), await federation.start("b")
    await add_user(a, "alice")
    await add_user(b, "bob")
    async with a.live.sessions() as session, session.begin():
        await follow(session, a.live.urls, username="alice", target_uri=f"{b.base_url}/users/bob",
                     target_inbox=f"{b.base_url}/inbox", now=a.live.clock())
        await session.execute(update(Delivery).values(locked_by="elsewhere:8080",
                                                      locked_until=a.live.clock() + timedelta(minutes=5)))
    assert await a.live.delivery.reclaim() == 0
    a.live.delivery.wakeup.set()
    await asyncio.sleep(1)
    assert await followers(b) == []
    a.clock.advance(minutes=6)
    a.live.delivery.wakeup.set()

    async def followed() -> bool:
        return await followers(b) == [f"{a.base_url}/users/alice"]

    await eventually(followed, what="the follow, once the other process's lease ran out")


async def followers(node: Node) -> list[str]:
    async with node.live.sessions() as session:
        return list(await session.scalars(select(Follower.follower_uri)))
