"""The creator's side: Flattr and Undo{Flattr} from another server, and the bogus ones that change nothing."""

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select

from api_client import account
from federation import flattr_vocab
from federation_harness import Federation, Node, eventually
from plain_peer import PlainPeer
from server.models import ReceivedFlattr


@pytest.fixture
async def peer() -> AsyncIterator[PlainPeer]:
    async with await PlainPeer.start() as started:
        yield started


async def received(node: Node) -> list[tuple[str, str, str]]:
    async with node.live.sessions() as session:
        rows = await session.scalars(select(ReceivedFlattr).order_by(ReceivedFlattr.id))
        return [(row.activity_id, row.donor_uri, row.period) for row in rows]


async def settled(node: Node) -> bool:
    """The inbox worker has processed everything that arrived."""
    await node.live.processor.run_once()
    return True


def flattr_from(peer: PlainPeer, name: str, serial: int, thing: str, author: str) -> dict[str, Any]:
    return flattr_vocab.flattr(f"{peer.base_url}/users/{name}/flattrs/{serial}", peer.actor_uri(name), thing, author,
                               "2026-11", datetime(2026, 11, 24, 12, 0, tzinfo=UTC))


async def test_flattrs_from_a_remote_donor_are_recorded_once_and_undone_by_them_only(
        federation: Federation, peer: PlainPeer) -> None:
    node = await federation.start("b")
    bob = await account(node, "bob")
    thing = (await bob.call("POST", "/api/v1/things", {"text": "Flattr me"})).body["object_id"]
    author = f"{node.base_url}/users/bob"
    inbox = f"{node.base_url}/users/bob/inbox"
    for name in ("zoe", "yuri"):
        peer.add_account(name)

    flattr = flattr_from(peer, "zoe", 1, thing, author)
    assert await peer.deliver("zoe", inbox, flattr) == 202
    await eventually(lambda: _count(node, 1), what="the flattr recorded")
    assert await peer.deliver("zoe", inbox, flattr) == 202
    assert await peer.deliver("zoe", inbox, flattr_from(peer, "zoe", 2, thing, author)) == 202
    assert await peer.deliver("zoe", inbox, flattr_from(peer, "zoe", 3, f"{node.base_url}/things/nope", author)) == 202
    assert await peer.deliver("zoe", inbox, flattr_from(peer, "zoe", 4, f"{peer.base_url}/x", author)) == 202
    await settled(node)
    assert await received(node) == [(flattr["id"], peer.actor_uri("zoe"), "2026-11")]

    foreign_undo = flattr_vocab.undo(f"{peer.base_url}/users/yuri/undo/1", peer.actor_uri("yuri"), flattr)
    assert await peer.deliver("yuri", inbox, foreign_undo) == 202
    await settled(node)
    assert len(await received(node)) == 1

    undo = flattr_vocab.undo(f"{peer.base_url}/users/zoe/undo/1", peer.actor_uri("zoe"), flattr)
    assert await peer.deliver("zoe", inbox, undo) == 202
    await eventually(lambda: _count(node, 0), what="the flattr withdrawn")


async def test_a_flattr_signed_by_someone_else_is_refused(federation: Federation, peer: PlainPeer) -> None:
    node = await federation.start("b")
    bob = await account(node, "bob")
    thing = (await bob.call("POST", "/api/v1/things", {"text": "Flattr me"})).body["object_id"]
    peer.add_account("zoe")
    peer.add_account("mallory")
    forged = flattr_from(peer, "zoe", 1, thing, f"{node.base_url}/users/bob")
    assert await peer.deliver("mallory", f"{node.base_url}/inbox", forged) == 401
    await settled(node)
    assert await received(node) == []


async def _count(node: Node, expected: int) -> bool:
    return len(await received(node)) == expected
