"""An inbox item that fails waits and is tried again, a peer away does not use up its tries, and nothing is lost.

Payouts come from a real Mecene instance; follows from a plain fediverse
server. Faults are injected where the receiver asks the network (a peer
away) or runs a handler (a bug), and taken away again.
"""

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from sqlalchemy import delete, select

from agreement_helper import agree
from cli_process import ROOT, mecene, run_here
from federation.fetch_errors import FetchError
from federation.models import INBOX_ATTEMPTS, Follower, InboxItem, KnownInstance
from federation_harness import Federation, Node, eventually
from plain_peer import AS_CONTEXT, PlainPeer
from server.accounts import create_user
from test_payout_validation import answer_to, bob_earned, line, payout, send


@pytest.fixture
async def peer() -> AsyncIterator[PlainPeer]:
    async with await PlainPeer.start() as started:
        started.add_account("pat")
        yield started


def failing(times: int, real: Callable[..., Awaitable[Any]], error: Exception) -> Callable[..., Awaitable[Any]]:
    """`real`, whose first `times` calls raise `error`."""
    calls = 0

    async def maybe(*args: Any, **kwargs: Any) -> Any:
        nonlocal calls
        calls += 1
        if calls <= times:
            raise error
        return await real(*args, **kwargs)

    return maybe


async def item(node: Node, activity_id: str) -> InboxItem | None:
    async with node.live.sessions() as session:
        return await session.scalar(select(InboxItem).where(InboxItem.activity_id == activity_id))


async def test_a_payout_from_a_sender_that_is_briefly_away_is_credited_and_answered(
        federation: Federation) -> None:
    """The receiver had forgotten what the sender's NodeInfo said, and it did not answer for a while."""
    sender, receiver = await federation.start("sender"), await federation.start("receiver")
    await agree(sender, receiver)
    async with receiver.live.sessions() as session, session.begin():
        await create_user(session, "bob", bot_username="flattr", now=receiver.live.clock())
        await session.execute(delete(KnownInstance).where(KnownInstance.host == sender.host))
    directory = receiver.live.directory
    directory.info = failing(INBOX_ATTEMPTS + 2, directory.info, FetchError("peer unreachable", code="unreachable",
                                                                           transient=True))
    document = payout(sender, receiver, [line(receiver, "1")])
    await send(sender, receiver, document)
    answer = await answer_to(receiver, document["id"], timeout=30)
    assert answer["type"] == "Accept" and await bob_earned(receiver) == 50
    stored = await item(receiver, document["id"])
    assert stored is not None and (stored.state, stored.attempts) == ("done", INBOX_ATTEMPTS + 2)


def follow(peer: PlainPeer, receiver: Node) -> dict[str, Any]:
    actor = peer.actor_uri("pat")
    return {"@context": AS_CONTEXT, "id": f"{actor}/follows/1", "type": "Follow", "actor": actor,
            "object": f"{receiver.base_url}/users/bob"}


async def follow_until_failed(peer: PlainPeer, receiver: Node, *, failures: int) -> dict[str, Any]:
    """A Follow to bob, delivered while the Follow handler raises its first `failures` times, once it is failed."""
    async with receiver.live.sessions() as session, session.begin():
        await create_user(session, "bob", bot_username="flattr", now=receiver.live.clock())
    handlers = receiver.live.processor._handlers
    handlers["Follow"] = failing(failures, handlers["Follow"], ValueError("a bug in the handler"))
    activity = follow(peer, receiver)
    assert await peer.deliver("pat", f"{receiver.base_url}/inbox", activity) == 202

    async def failed() -> bool:
        stored = await item(receiver, activity["id"])
        return stored is not None and stored.state == "failed"

    await eventually(failed, what="the item given up after its attempts")
    return activity


async def test_a_failed_item_is_tried_again_when_its_activity_arrives_again(federation: Federation,
                                                                              peer: PlainPeer) -> None:
    receiver = await federation.start("receiver")
    real = receiver.live.processor._handlers["Follow"]
    activity = await follow_until_failed(peer, receiver, failures=100)
    stored = await item(receiver, activity["id"])
    assert stored is not None and stored.attempts == INBOX_ATTEMPTS and "a bug" in (stored.error or "")
    receiver.live.processor._handlers["Follow"] = real
    assert await peer.deliver("pat", f"{receiver.base_url}/inbox", activity) == 202

    async def followed() -> bool:
        async with receiver.live.sessions() as session:
            return await session.scalar(select(Follower.follower_uri)) == peer.actor_uri("pat")

    await eventually(followed, what="the follow, processed when it arrived again")


async def test_an_operator_lists_failed_items_and_tries_one_again(federation: Federation, peer: PlainPeer) -> None:
    receiver = await federation.start("receiver")
    activity = await follow_until_failed(peer, receiver, failures=INBOX_ATTEMPTS)
    stored = await item(receiver, activity["id"])
    assert stored is not None
    env = {"MECENE_DATABASE_URL": receiver.database_url, "MECENE_INSTANCE_DOMAIN": receiver.host,
           "PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"}
    listed = await asyncio.to_thread(mecene, env, "inbox", "--failed")
    assert listed.returncode == 0, listed.stderr
    assert f"{stored.id}\tfailed\t{INBOX_ATTEMPTS}\tnow\t{activity['id']}\tValueError: a bug in the handler" in (
        listed.stdout)
    missing = await run_here(env, "inbox", "--retry", str(stored.id + 1000))
    assert missing.returncode == 1 and "no failed inbox item" in missing.stderr
    retried = await run_here(env, "inbox", "--retry", str(stored.id))
    assert retried.returncode == 0, retried.stderr
    receiver.live.processor.wakeup.set()

    async def followed() -> bool:
        async with receiver.live.sessions() as session:
            return await session.scalar(select(Follower.follower_uri)) == peer.actor_uri("pat")

    await eventually(followed, what="the follow, processed after the operator's retry")
