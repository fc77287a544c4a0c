"""Domain blocks between real instances: a blocked domain's activities get 403, and nothing is delivered to it."""

import asyncio
from typing import cast

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api_client import account
from federation import delivery_queue, domain_blocks
from federation.domain_blocks import BLOCKED_DELIVERY, DomainBlocks, InvalidBlock, names_for, normalize_domain
from federation.follows import follow
from federation.models import Delivery, Follower, Following, InboxItem
from federation_harness import Federation, Node, eventually
from server.accounts import create_user
from server.social import follow_account
from settlement.models import Flattr


async def add_user(node: Node, name: str) -> None:
    async with node.live.sessions() as session, session.begin():
        await create_user(session, name, bot_username="flattr", now=node.live.clock())


async def block(node: Node, domain: str) -> None:
    """As the operator page does: the row, then this process forgets its copy of the list."""
    async with node.live.sessions() as session, session.begin():
        assert await domain_blocks.block(session, domain, "spam", node.live.clock())
    node.live.blocks.forget()


async def deliveries(node: Node) -> list[Delivery]:
    async with node.live.sessions() as session:
        return list(await session.scalars(select(Delivery).order_by(Delivery.id)))


async def followers_of(node: Node, name: str) -> list[str]:
    async with node.live.sessions() as session:
        return list(await session.scalars(select(Follower.follower_uri).where(Follower.local_username == name)))


async def test_a_blocked_domain_gets_403_and_its_activity_is_not_stored(federation: Federation) -> None:
    a, b, c = await federation.start("a"), await federation.start("b"), await federation.start("c")
    for node, name in ((a, "alice"), (b, "bob"), (c, "carol")):
        await add_user(node, name)
    await block(a, b.host)
    await follow_account(b.live, "bob", f"alice@{a.host}")
    await follow_account(c.live, "carol", f"alice@{a.host}")

    async def refused() -> bool:
        rows = await deliveries(b)
        return bool(rows) and rows[0].state == "dead"

    await eventually(refused, what="the blocked instance's follow refused")
    row = (await deliveries(b))[0]
    assert (row.attempts, row.last_status) == (1, 403) and "domain_blocked" in (row.last_error or "")
    await eventually(lambda: _followed_by(a, c), what="the follow from an instance that is not blocked")
    assert await followers_of(a, "alice") == [f"{c.base_url}/users/carol"]
    async with a.live.sessions() as session:
        stored = list(await session.scalars(select(InboxItem.actor_uri)))
    assert f"{b.base_url}/users/bob" not in stored


async def _followed_by(node: Node, other: Node) -> bool:
    return f"{other.base_url}/users/carol" in await followers_of(node, "alice")


async def test_nothing_is_delivered_to_a_blocked_domain_until_unblocked_and_retried(federation: Federation) -> None:
    a, b = await federation.start("a"), await federation.start("b")
    await add_user(a, "alice")
    await add_user(b, "bob")
    await block(a, "127.0.0.1")
    async with a.live.sessions() as session, session.begin():
        await follow(session, a.live.urls, username="alice", target_uri=f"{b.base_url}/users/bob",
                     target_inbox=f"{b.base_url}/inbox", now=a.live.clock())
    a.live.delivery.wakeup.set()

    async def skipped() -> bool:
        return (await deliveries(a))[0].state == "dead"

    await eventually(skipped, what="the delivery to the blocked domain given up")
    row = (await deliveries(a))[0]
    assert (row.attempts, row.last_status, row.last_error) == (1, None, BLOCKED_DELIVERY)
    assert await followers_of(b, "bob") == [], "nothing reached the blocked instance"

    async with a.live.sessions() as session, session.begin():
        assert await domain_blocks.unblock(session, "127.0.0.1")
        assert await delivery_queue.retry_dead(session, row.id, a.live.clock())
    a.live.blocks.forget()
    a.live.delivery.wakeup.set()

    async def accepted() -> bool:
        async with a.live.sessions() as session:
            return bool(await session.scalar(select(Following.accepted)))

    await eventually(accepted, what="the follow once unblocked")
    assert await followers_of(b, "bob") == [f"{a.base_url}/users/alice"]


@pytest.mark.parametrize(("typed", "stored"), [
    ("Example.COM.", "example.com"), (" https://example.com/path ", "example.com"),
    ("social.example:8443", "social.example:8443"), ("localhost", "localhost"), ("[::1]:8080", "[::1]:8080"),
])
def test_a_domain_is_stored_in_one_spelling(typed: str, stored: str) -> None:
    assert normalize_domain(typed) == stored


@pytest.mark.parametrize("typed", ["", "example", "exa mple.com", "example.com:http"])
def test_what_is_not_a_domain_is_refused(typed: str) -> None:
    with pytest.raises(InvalidBlock):
        normalize_domain(typed)


def test_a_host_block_covers_subdomains_and_ports_and_an_origin_block_only_its_port() -> None:
    assert "example.com" in names_for("a.b.example.com:8443")
    assert "example.com:8443" in names_for("example.com:8443")
    assert "example.com:8443" not in names_for("example.com")
    assert "ample.com" not in names_for("example.com")
    assert names_for("127.0.0.1:8080") == {"127.0.0.1", "127.0.0.1:8080"}, "no parent domains of an address"


async def test_each_process_rereads_the_list_after_a_few_seconds(federation: Federation) -> None:
    node = await federation.start("a")
    now = [0.0]
    blocks = DomainBlocks(node.live.sessions, monotonic=lambda: now[0])
    assert not await blocks.is_blocked("spam.example")
    async with node.live.sessions() as session, session.begin():
        await domain_blocks.block(session, "spam.example", "", node.live.clock())
    assert not await blocks.is_blocked("spam.example"), "the copy is trusted for a while"
    now[0] += domain_blocks.REFRESH_SECONDS
    assert await blocks.is_blocked("www.spam.example")


async def test_requests_that_find_the_list_stale_together_share_one_read(federation: Federation) -> None:
    """A busy inbox has dozens of requests in flight when the list is due again: one query, not one each."""
    node = await federation.start("a")
    opened: list[int] = []

    def counting_sessions() -> AsyncSession:
        opened.append(1)
        return node.live.sessions()

    now = [0.0]
    blocks = DomainBlocks(cast(async_sessionmaker[AsyncSession], counting_sessions), monotonic=lambda: now[0])
    async with node.live.sessions() as session, session.begin():
        await domain_blocks.block(session, "spam.example", "", node.live.clock())
    assert await asyncio.gather(*(blocks.is_blocked("spam.example") for _ in range(64))) == [True] * 64
    assert len(opened) == 1
    now[0] += domain_blocks.REFRESH_SECONDS
    assert await asyncio.gather(*(blocks.is_blocked("ham.example") for _ in range(64))) == [False] * 64
    assert len(opened) == 2
    async with node.live.sessions() as session, session.begin():
        await domain_blocks.unblock(session, "spam.example")
    blocks.forget()
    assert not await blocks.is_blocked("spam.example"), "a change made here is seen at once"
    assert len(opened) == 3


async def test_nothing_is_fetched_from_a_blocked_domain(federation: Federation) -> None:
    """Flattring a thing there is refused before any request, with the reason; unblocked, the same flattr works."""
    a, b = await federation.start("a"), await federation.start("b")
    thing = (await (await account(b, "bob")).call("POST", "/api/v1/things", {"text": "A note"})).body["object_id"]
    alice = await account(a, "alice")
    await block(a, b.host)
    answer = await alice.call("POST", "/api/v1/flattrs", {"url": thing})
    assert (answer.status, answer.body["error"]) == (422, "domain_blocked")
    assert "does not federate with that domain" in answer.body["reason"]
    async with a.live.sessions() as session:
        assert list(await session.scalars(select(Flattr))) == []
    async with a.live.sessions() as session, session.begin():
        assert await domain_blocks.unblock(session, b.host)
    a.live.blocks.forget()
    assert (await alice.call("POST", "/api/v1/flattrs", {"url": thing})).status == 201


@pytest.mark.parametrize("typed", ["spam\x00.example", "spam\udcff.example", "http://[::1", "spam\u2100.example",
                                   "a" * 300 + ".example"])
def test_a_domain_no_database_stores_is_refused(typed: str) -> None:
    with pytest.raises(InvalidBlock):
        normalize_domain(typed)


@pytest.mark.parametrize("reason", ["spam\x00waves", "spam\udcffwaves", "spam\nwaves", "spam\twaves"])
async def test_a_reason_no_database_stores_blocks_nothing(federation: Federation, reason: str) -> None:
    node = await federation.start("a")
    with pytest.raises(InvalidBlock):
        async with node.live.sessions() as session, session.begin():
            await domain_blocks.block(session, "spam.example", reason, node.live.clock())
    async with node.live.sessions() as session:
        assert await domain_blocks.listed(session) == []
