"""The inbox processor's batches: one transaction for many items, each item atomic on its own.

A plain Mastodon-like peer sends signed Follows to a real instance on loopback;
each processed Follow records a follower and queues one Accept, so an item
processed twice, or half-applied, shows in the rows. The processor is held
back by a fault on its look for pending items while the Follows arrive, so
they are all pending together and make one batch; the failures are faults
injected on the instance's engine.
"""

import asyncio
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import event, select

from federation.models import INBOX_ATTEMPTS, Follower, InboxItem, OutboxItem
from federation_harness import Federation, Node, eventually
from plain_peer import AS_CONTEXT, PlainPeer
from server.accounts import create_user

FOLLOWERS = ("ann", "ben", "cat", "dan", "eve")

Fault = Callable[[str, Any], BaseException | None]


@pytest.fixture
async def peer() -> AsyncIterator[PlainPeer]:
    async with await PlainPeer.start() as started:
        for name in FOLLOWERS:
            started.add_account(name)
        yield started


def follow_id(peer: PlainPeer, name: str) -> str:
    return f"{peer.actor_uri(name)}/follows/1"


def is_claim(statement: str) -> bool:
    return statement.startswith("UPDATE fed_inbox_items")


def is_pending_read(statement: str) -> bool:
    """The processor's look for pending items, the start of each of its runs: the tests' own reads have no LIMIT."""
    return statement.startswith("SELECT") and "FROM fed_inbox_items" in statement and "LIMIT" in statement


class EngineFaults:
    """Faults on an instance's engine: the processor's runs refused while `holding`, per statement, at commit."""

    def __init__(self) -> None:
        self.holding = True
        self.statement_fault: Fault = lambda _statement, _parameters: None
        self.commit_fault: Callable[[], BaseException | None] = lambda: None
        self.statements: list[tuple[str, Any]] = []

    def release(self) -> None:
        """Let the processor run again, and record the statements from now on."""
        self.statements.clear()
        self.holding = False

    def before_execute(self, conn, cursor, statement, parameters, context, executemany) -> None:  # type: ignore[no-untyped-def]
        self.statements.append((statement, parameters))
        if self.holding and is_pending_read(statement):
            raise OSError("database unavailable")
        if is_claim(statement):
            conn.info["claimed"] = True
        error = self.statement_fault(statement, parameters)
        if error is not None:
            raise error

    def commit(self, conn) -> None:  # type: ignore[no-untyped-def]
        error = self.commit_fault() if conn.info.pop("claimed", False) else None
        if error is not None:
            raise error

    def rollback(self, conn) -> None:  # type: ignore[no-untyped-def]
        if not conn.invalidated:
            conn.info.pop("claimed", None)


@contextmanager
def engine_faults(node: Node) -> Iterator[EngineFaults]:
    faults, engine = EngineFaults(), node.live.engine.sync_engine
    listeners = [("before_cursor_execute", faults.before_execute), ("commit", faults.commit),
                 ("rollback", faults.rollback)]
    for name, listener in listeners:
        event.listen(engine, name, listener)
    try:
        yield faults
    finally:
        for name, listener in listeners:
            event.remove(engine, name, listener)


async def follows_pending_together(node: Node, peer: PlainPeer) -> list[int]:
    """Deliver a Follow from each follower while the processor is held; the ids of their inbox items."""
    for name in FOLLOWERS:
        follow = {"@context": AS_CONTEXT, "id": follow_id(peer, name), "type": "Follow",
                  "actor": peer.actor_uri(name), "object": f"{node.base_url}/users/bob"}
        assert await peer.deliver(name, f"{node.base_url}/users/bob/inbox", follow) == 202
    async with node.live.sessions() as session:
        rows = (await session.scalars(select(InboxItem).order_by(InboxItem.id))).all()
    assert [(row.state, row.attempts) for row in rows] == [("pending", 0)] * len(FOLLOWERS)
    return [row.id for row in rows]


async def receiver(federation: Federation) -> Node:
    node = await federation.start("b")
    async with node.live.sessions() as session, session.begin():
        await create_user(session, "bob", bot_username="flattr", now=node.live.clock())
    return node


async def items(node: Node) -> list[tuple[str, int]]:
    async with node.live.sessions() as session:
        rows = await session.scalars(select(InboxItem).order_by(InboxItem.id))
        return [(row.state, row.attempts) for row in rows]


async def settled(node: Node, expected: list[tuple[str, int]]) -> bool:
    node.live.processor.wakeup.set()
    return await items(node) == expected


async def followers(node: Node) -> list[str]:
    async with node.live.sessions() as session:
        return sorted(await session.scalars(select(Follower.follower_uri)))


async def accepted_follows(node: Node) -> list[str]:
    """The Follow each queued Accept answers, once per Accept."""
    async with node.live.sessions() as session:
        activities = await session.scalars(select(OutboxItem.activity))
        return sorted(a["object"]["id"] for a in activities if a.get("type") == "Accept")


async def test_a_failing_item_is_rolled_back_alone_and_the_rest_of_its_batch_commits(
        federation: Federation, peer: PlainPeer) -> None:
    node = await receiver(federation)
    doomed = follow_id(peer, "cat")
    with engine_faults(node) as faults:
        ids = await follows_pending_together(node, peer)
        faults.statement_fault = lambda statement, parameters: OSError("disk full") if (
            statement.startswith("INSERT INTO fed_outbox_items") and doomed in str(parameters)) else None
        faults.release()
        expected = [("failed", INBOX_ATTEMPTS) if name == "cat" else ("done", 0) for name in FOLLOWERS]
        await eventually(lambda: settled(node, expected), what="every item processed or given up")
    claims = [parameters for statement, parameters in faults.statements if is_claim(statement)]
    assert set(ids) <= set(claims[0]), "the pending items were not claimed in one batch"
    assert await followers(node) == sorted(peer.actor_uri(name) for name in FOLLOWERS if name != "cat")
    assert await accepted_follows(node) == sorted(follow_id(peer, name) for name in FOLLOWERS if name != "cat")
    async with node.live.sessions() as session:
        error = await session.scalar(select(InboxItem.error).where(InboxItem.id == ids[FOLLOWERS.index("cat")]))
    assert error == "OSError: disk full"


async def test_a_batch_whose_commit_fails_keeps_nothing_and_each_item_is_then_processed_once(
        federation: Federation, peer: PlainPeer) -> None:
    node = await receiver(federation)
    failed_commits: list[OSError] = []

    def first_commit_fails() -> OSError | None:
        if failed_commits:
            return None
        failed_commits.append(OSError("fsync failed"))
        return failed_commits[0]

    with engine_faults(node) as faults:
        await follows_pending_together(node, peer)
        faults.commit_fault = first_commit_fails
        faults.release()
        await eventually(lambda: settled(node, [("done", 0)] * len(FOLLOWERS)), what="every item processed")
    assert len(failed_commits) == 1
    assert await followers(node) == sorted(peer.actor_uri(name) for name in FOLLOWERS)
    assert await accepted_follows(node) == sorted(follow_id(peer, name) for name in FOLLOWERS)


async def test_a_processor_stopped_mid_batch_leaves_every_item_to_be_processed_once_after_a_restart(
        federation: Federation, peer: PlainPeer) -> None:
    node = await receiver(federation)
    third = follow_id(peer, FOLLOWERS[2])
    stopped: list[asyncio.CancelledError] = []

    def stop_at_the_third(statement: str, parameters: Any) -> asyncio.CancelledError | None:
        if stopped or not (statement.startswith("INSERT INTO fed_outbox_items") and third in str(parameters)):
            return None
        stopped.append(asyncio.CancelledError())
        return stopped[0]

    with engine_faults(node) as faults:
        await follows_pending_together(node, peer)
        faults.statement_fault = stop_at_the_third
        faults.release()
        node.live.processor.wakeup.set()
        await eventually(lambda: _true(stopped), what="the processor stopped at the third item")
    assert await items(node) == [("pending", 0)] * len(FOLLOWERS)
    assert await followers(node) == []
    assert await accepted_follows(node) == []

    await federation.stop("b")
    node = await federation.start("b")
    await eventually(lambda: settled(node, [("done", 0)] * len(FOLLOWERS)), what="every item processed")
    assert await followers(node) == sorted(peer.actor_uri(name) for name in FOLLOWERS)
    assert await accepted_follows(node) == sorted(follow_id(peer, name) for name in FOLLOWERS)


async def _true(flags: list[Any]) -> bool:
    return bool(flags)
