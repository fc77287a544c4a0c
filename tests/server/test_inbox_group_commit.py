"""The inbox's group commit: concurrent deliveries share transactions, and none is answered before it is stored.

A plain Mastodon-like peer signs every delivery; the receiver is a real
instance on loopback. The writes of inbox rows are observed where the writer
makes them (`InboxWriter.insert_rows`); a failing write is a fault injected there.
"""

import asyncio
import json
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from federation import inbox_writer
from federation.inbox import Incoming, parse_activity
from federation.inbox_writer import MAX_BATCH, InboxUnavailable
from federation.models import InboxItem
from federation_harness import Federation, Node
from plain_peer import AS_CONTEXT, PlainPeer


@pytest.fixture
async def peer() -> AsyncIterator[PlainPeer]:
    async with await PlainPeer.start() as started:
        started.add_account("pat")
        yield started


def like(peer: PlainPeer, name: str) -> dict[str, Any]:
    actor = peer.actor_uri("pat")
    return {"@context": AS_CONTEXT, "id": f"{actor}/likes/{name}", "type": "Like", "actor": actor,
            "object": f"{actor}/statuses/1"}


def incoming(peer: PlainPeer, name: str) -> Incoming:
    """A Like as the inbox hands it to the writer once its signature is checked."""
    return parse_activity(json.dumps(like(peer, name)).encode())


async def stored_ids(node: Node) -> list[str]:
    async with node.live.sessions() as session:
        return list(await session.scalars(select(InboxItem.activity_id)))


@dataclass
class Inserts:
    """Each INSERT of inbox rows as the writer sent it: its size, and the connection it went through."""

    sizes: list[int] = field(default_factory=list)
    connections: list[AsyncConnection] = field(default_factory=list)


@contextmanager
def inbox_inserts(node: Node, failing: int = 0, failure: Exception | None = None) -> Iterator[Inserts]:
    """The writer's INSERTs of inbox rows, observed; the first `failing` of them fail with `failure`."""
    writer = node.live.inbox_writer
    insert_rows = writer.insert_rows
    seen = Inserts()

    async def observed(connection: AsyncConnection, rows: list[dict[str, Any]]) -> None:
        seen.sizes.append(len(rows))
        seen.connections.append(connection)
        if len(seen.sizes) <= failing:
            raise failure or OSError("disk full")
        await insert_rows(connection, rows)

    writer.insert_rows = observed
    try:
        yield seen
    finally:
        writer.insert_rows = insert_rows


async def test_concurrent_deliveries_are_stored_once_each_in_shared_commits(
        federation: Federation, peer: PlainPeer) -> None:
    receiver = await federation.start("receiver")
    inbox = f"{receiver.base_url}/inbox"
    assert await peer.deliver("pat", inbox, like(peer, "first")) == 202
    with inbox_inserts(receiver) as inserts:
        statuses = await asyncio.gather(*(peer.deliver("pat", inbox, like(peer, str(n))) for n in range(200)))
    assert statuses == [202] * 200
    ids = await stored_ids(receiver)
    assert sorted(ids) == sorted([like(peer, "first")["id"]] + [like(peer, str(n))["id"] for n in range(200)])
    assert len(inserts.sizes) < 100, (f"{len(inserts.sizes)} INSERTs for 200 concurrent deliveries: "
                                      "requests were not grouped")


async def test_the_same_activity_delivered_concurrently_is_stored_once(federation: Federation, peer: PlainPeer) -> None:
    receiver = await federation.start("receiver")
    inbox = f"{receiver.base_url}/inbox"
    again = like(peer, "again")
    statuses = await asyncio.gather(*(peer.deliver("pat", inbox, again) for _ in range(30)),
                                    *(peer.deliver("pat", inbox, like(peer, str(n))) for n in range(30)))
    assert statuses == [202] * 60
    ids = await stored_ids(receiver)
    assert ids.count(again["id"]) == 1 and len(ids) == 31


async def test_copies_of_an_activity_queued_together_are_stored_once(
        federation: Federation, peer: PlainPeer) -> None:
    """The stores are queued before the writer runs; its INSERTs skip the copies, and every request is answered."""
    receiver = await federation.start("receiver")
    writer, now = receiver.live.inbox_writer, receiver.live.clock()
    copies = [incoming(peer, name) for name in ("a", "b", "a", "a", "b", "c")]
    await asyncio.gather(*(writer.store(incoming, now) for incoming in copies))
    await writer.store(copies[0], now)
    assert sorted(await stored_ids(receiver)) == sorted(like(peer, name)["id"] for name in ("a", "b", "c"))


async def test_a_batch_takes_half_of_what_waits_and_at_most_max_batch(
        federation: Federation, peer: PlainPeer) -> None:
    """64 queued at once: 32 answered after the first commit, the rest after the next ones, none left behind."""
    receiver = await federation.start("receiver")
    writer, now = receiver.live.inbox_writer, receiver.live.clock()
    with inbox_inserts(receiver) as inserts:
        await asyncio.gather(*(writer.store(incoming(peer, str(n)), now) for n in range(64)))
        await asyncio.gather(*(writer.store(incoming(peer, f"backlog-{n}"), now) for n in range(2 * MAX_BATCH + 1)))
    assert inserts.sizes[:6] == [32, 16, 8, 4, 2, 1] and sum(inserts.sizes) == 64 + 2 * MAX_BATCH + 1
    assert max(inserts.sizes) == MAX_BATCH
    assert len(await stored_ids(receiver)) == 64 + 2 * MAX_BATCH + 1


async def test_activities_arriving_while_the_writer_pauses_share_its_commit(
        federation: Federation, peer: PlainPeer, monkeypatch: pytest.MonkeyPatch) -> None:
    """A lightly loaded inbox: three activities a few milliseconds apart, one commit (the pause lengthened here)."""
    receiver = await federation.start("receiver")
    writer, now = receiver.live.inbox_writer, receiver.live.clock()
    monkeypatch.setattr(inbox_writer, "GATHER_SECONDS", 0.5)
    with inbox_inserts(receiver) as inserts:
        stores = []
        for n in range(3):
            stores.append(asyncio.create_task(writer.store(incoming(peer, str(n)), now)))
            await asyncio.sleep(0.05)
        await asyncio.gather(*stores)
    assert inserts.sizes == [3]
    assert len(await stored_ids(receiver)) == 3


async def test_the_pause_ends_once_gather_rows_are_queued(
        federation: Federation, peer: PlainPeer, monkeypatch: pytest.MonkeyPatch) -> None:
    """A burst does not wait out the pause: its GATHER_ROWS-th activity ends it, and all are committed together."""
    receiver = await federation.start("receiver")
    writer, now = receiver.live.inbox_writer, receiver.live.clock()
    monkeypatch.setattr(inbox_writer, "GATHER_SECONDS", 60.0)
    with inbox_inserts(receiver) as inserts:
        first = asyncio.create_task(writer.store(incoming(peer, "first"), now))
        await asyncio.sleep(0.05)
        async with asyncio.timeout(10):
            await asyncio.gather(first, *(writer.store(incoming(peer, str(n)), now)
                                          for n in range(inbox_writer.GATHER_ROWS - 1)))
    assert inserts.sizes == [inbox_writer.GATHER_ROWS]


async def test_a_failed_commit_answers_503_to_its_batch_and_the_peers_retry_succeeds(
        federation: Federation, peer: PlainPeer) -> None:
    """The batch is written again once, on another connection; when that fails too, its requests hear 503."""
    receiver = await federation.start("receiver")
    inbox = f"{receiver.base_url}/inbox"
    assert await peer.deliver("pat", inbox, like(peer, "key-fetched")) == 202
    likes = [like(peer, str(n)) for n in range(40)]
    with inbox_inserts(receiver, failing=2) as inserts:
        statuses = await asyncio.gather(*(peer.deliver("pat", inbox, activity) for activity in likes))
    refused = [activity for activity, status in zip(likes, statuses, strict=True) if status == 503]
    assert set(statuses) <= {202, 503} and len(refused) == inserts.sizes[0] == inserts.sizes[1]
    accepted = {activity["id"] for activity, status in zip(likes, statuses, strict=True) if status == 202}
    assert set(await stored_ids(receiver)) == accepted | {like(peer, "key-fetched")["id"]}
    retried = await asyncio.gather(*(peer.deliver("pat", inbox, activity) for activity in refused))
    assert retried == [202] * len(refused)
    assert len(await stored_ids(receiver)) == 41


async def test_lone_activities_share_one_connection_until_it_has_idled(
        federation: Federation, peer: PlainPeer, monkeypatch: pytest.MonkeyPatch) -> None:
    """No checkout, ping and reset per lone activity; after IDLE_SECONDS unused, a connection the pool has checked."""
    receiver = await federation.start("receiver")
    inbox = f"{receiver.base_url}/inbox"
    with inbox_inserts(receiver) as inserts:
        for n in range(3):
            assert await peer.deliver("pat", inbox, like(peer, str(n))) == 202
        monkeypatch.setattr(inbox_writer, "IDLE_SECONDS", 0.0)
        assert await peer.deliver("pat", inbox, like(peer, "after-a-pause")) == 202
    first = inserts.connections[0]
    assert inserts.sizes == [1, 1, 1, 1] and inserts.connections[1:3] == [first, first]
    assert inserts.connections[3] is not first
    assert len(await stored_ids(receiver)) == 4


async def test_a_connection_dropped_while_kept_costs_no_peer_a_503(federation: Federation, peer: PlainPeer) -> None:
    """The batch that meets a broken connection is written again on one the pool has checked."""
    receiver = await federation.start("receiver")
    inbox = f"{receiver.base_url}/inbox"
    assert await peer.deliver("pat", inbox, like(peer, "before")) == 202
    with inbox_inserts(receiver, failing=1, failure=ConnectionResetError("server closed the connection")) as inserts:
        statuses = await asyncio.gather(*(peer.deliver("pat", inbox, like(peer, str(n))) for n in range(20)))
    assert statuses == [202] * 20
    assert inserts.sizes[0] == inserts.sizes[1] and inserts.connections[1] is not inserts.connections[0]
    assert len(await stored_ids(receiver)) == 21


async def test_a_row_the_database_refuses_fails_alone_and_its_batch_is_stored(
        federation: Federation, peer: PlainPeer) -> None:
    """A row-level failure (a value the database will not take) splits the batch until the row is alone."""
    receiver = await federation.start("receiver")
    writer, now = receiver.live.inbox_writer, receiver.live.clock()
    insert_rows = writer.insert_rows
    poison = like(peer, "poison")["id"]
    sizes: list[int] = []

    async def refusing(connection: AsyncConnection, rows: list[dict[str, Any]]) -> None:
        sizes.append(len(rows))
        if any(row["activity_id"] == poison for row in rows):
            raise ValueError("invalid byte sequence for encoding UTF8")
        await insert_rows(connection, rows)

    writer.insert_rows = refusing
    try:
        names = ["poison", *map(str, range(30))]
        outcomes = await asyncio.gather(*(writer.store(incoming(peer, name), now) for name in names),
                                        return_exceptions=True)
    finally:
        writer.insert_rows = insert_rows
    assert isinstance(outcomes[0], InboxUnavailable) and outcomes[1:] == [None] * 30
    assert sorted(await stored_ids(receiver)) == sorted(like(peer, str(n))["id"] for n in range(30))
    assert sizes[0] == 16, "the poisoned row was queued with others, in the first half taken"


async def test_stopping_stores_what_is_queued_then_refuses(federation: Federation, peer: PlainPeer) -> None:
    receiver = await federation.start("receiver")
    writer, now = receiver.live.inbox_writer, receiver.live.clock()
    queued = [asyncio.create_task(writer.store(incoming(peer, str(n)), now)) for n in range(20)]
    await asyncio.sleep(0)
    await writer.stop()
    assert all(task.done() and task.exception() is None for task in queued)
    assert len(await stored_ids(receiver)) == 20
    with pytest.raises(InboxUnavailable):
        await writer.store(incoming(peer, "late"), now)
    assert await peer.deliver("pat", f"{receiver.base_url}/inbox", like(peer, "late")) == 503


async def test_an_activity_nothing_acts_on_is_stored_done_and_left_alone(federation: Federation,
                                                                          peer: PlainPeer) -> None:
    """A Like has no handler here: stored done in its own commit, so the inbox processor never reads it."""
    receiver = await federation.start("receiver")
    inbox = f"{receiver.base_url}/inbox"
    follow = {"@context": AS_CONTEXT, "id": f"{peer.actor_uri('pat')}/follows/1", "type": "Follow",
              "actor": peer.actor_uri("pat"), "object": f"{receiver.base_url}/users/instance"}
    assert await peer.deliver("pat", inbox, like(peer, "liked")) == 202
    assert await peer.deliver("pat", inbox, follow) == 202
    async with receiver.live.sessions() as session:
        rows = {row.type: row for row in await session.execute(select(
            InboxItem.activity["type"].as_string().label("type"), InboxItem.state, InboxItem.received_at,
            InboxItem.processed_at))}
    assert rows["Like"].state == "done" and rows["Like"].processed_at == rows["Like"].received_at
    assert rows["Follow"].processed_at != rows["Follow"].received_at
