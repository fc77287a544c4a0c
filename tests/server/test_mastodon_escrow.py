"""Mastodon creators and the money held for them: escrow notices, claiming escrow by a code or a two-way alias.

A donor here flattrs posts on a Mastodon-shaped peer, which has no Mecene, so
the closed periods hold the shares in escrow; the author links the account to
a Mecene account by code and the money arrives there, at once and at every
later settlement. Until then the bot tells the author once per period, by DM,
unless they answered "stop". Or the author's actor and a Mecene actor name
each other (`alsoKnownAs`, or a profile field on the Mastodon side).
"""

import asyncio
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import func, select
from test_mastodon_bot import answers, donor, link

from api_client import Api, account, assert_ledger_balances
from federation.models import Delivery
from federation_harness import Federation, Node, eventually
from mastodon_peer import MastodonPeer, mecene_bot
from server.settling.alias_claims import claim_by_alias
from settlement.models import PeriodClose, Share


@pytest.fixture
async def peer() -> AsyncIterator[MastodonPeer]:
    async with await MastodonPeer.start() as started:
        yield started


async def close_period(node: Node, label: str) -> None:
    node.clock.advance(days=40)
    await eventually(lambda: _closed(node, label), what=f"period {label} closed")


async def _closed(node: Node, label: str) -> bool:
    async with node.live.sessions() as session:
        return await session.scalar(select(PeriodClose.state).where(PeriodClose.period == label)) == "closed"


async def escrowed(node: Node) -> int:
    async with node.live.sessions() as session:
        return int(await session.scalar(select(func.coalesce(func.sum(Share.amount), 0)).where(
            Share.destination == "escrow", Share.settled_at.is_(None))))


async def earned(api: Api) -> str:
    answer = await api.call("GET", "/api/v1/earnings")
    assert answer.status == 200, answer.body
    return answer.body["total"]["amount"]


async def label_of(api: Api) -> str:
    return (await api.call("GET", "/api/v1/me")).body["period"]["label"]


async def test_linking_by_code_claims_escrow_now_and_at_later_settlements(federation: Federation,
                                                                          peer: MastodonPeer) -> None:
    a = await federation.start("a")
    peer.clock = a.clock
    alice, yves, bot = await donor(a), await account(a, "yves"), mecene_bot(a.base_url)
    peer.add_account("yan")
    first = peer.add_note("yan", "<p>Escrow me</p>")
    assert (await alice.call("POST", "/api/v1/flattrs", {"url": first.url})).status == 201
    await close_period(a, await label_of(alice))
    assert await escrowed(a) == 500 and await earned(yves) == "0.00"
    await answers(peer, "yan", 1)

    await link(peer, "yan", bot, yves)
    [_, reply] = await answers(peer, "yan", 2)
    assert "5.00 EUR held for your posts is now credited" in reply["content"]
    assert await earned(yves) == "5.00" and await escrowed(a) == 0

    second = peer.add_note("yan", "<p>Later</p>")
    assert (await alice.call("POST", "/api/v1/flattrs", {"url": second.url})).status == 201
    await close_period(a, await label_of(alice))
    await eventually(lambda: _earned_is(yves, "10.00"), what="the later escrow claimed at the tick")
    assert await escrowed(a) == 0
    await assert_ledger_balances(a)


async def test_the_tick_claims_only_for_linked_accounts(federation: Federation, peer: MastodonPeer) -> None:
    a = await federation.start("a")
    peer.clock = a.clock
    alice, yves, bot = await donor(a), await account(a, "yves"), mecene_bot(a.base_url)
    peer.add_account("yan")
    peer.add_account("zoe")
    assert (await alice.call("POST", "/api/v1/flattrs", {"url": peer.add_note("yan", "<p>Y</p>").url})).status == 201
    await close_period(a, await label_of(alice))
    await link(peer, "zoe", bot, yves)
    assert (await alice.call("POST", "/api/v1/flattrs", {"url": peer.add_note("zoe", "<p>Z</p>").url})).status == 201
    await close_period(a, await label_of(alice))

    await eventually(lambda: _earned_is(yves, "5.00"), what="zoe's escrow claimed at the tick")
    assert await escrowed(a) == 500
    await assert_ledger_balances(a)


async def _earned_is(api: Api, amount: str) -> bool:
    return await earned(api) == amount


async def test_one_escrow_notice_per_period_until_stop(federation: Federation, peer: MastodonPeer) -> None:
    a = await federation.start("a")
    peer.clock = a.clock
    alice, bot = await donor(a), mecene_bot(a.base_url)
    operator = await account(a, "op_more", admin=True)
    assert (await operator.call("POST", "/api/v1/admin/users/alice/topups", {"amount": "10.00"})).status == 201
    peer.add_account("yan")
    peer.add_account("zoe")
    first = await label_of(alice)
    assert (await alice.call("POST", "/api/v1/flattrs", {"url": peer.add_note("yan", "<p>1</p>").url})).status == 201
    await close_period(a, first)
    [notice] = await answers(peer, "yan", 1)
    assert f"flattred your posts in {first}: 5.00 EUR waits for you" in notice["content"]
    assert "link code" in notice["content"] and "stop" in notice["content"]
    assert f"{a.base_url}/claim " in notice["content"]

    second = await label_of(alice)
    assert (await alice.call("POST", "/api/v1/flattrs", {"url": peer.add_note("yan", "<p>2</p>").url})).status == 201
    await close_period(a, second)
    [_, notice] = await answers(peer, "yan", 2)
    assert f"in {second}: 5.00 EUR" in notice["content"]

    assert await peer.direct_message("yan", bot, "Stop") == 202
    [*_, reply] = await answers(peer, "yan", 3)
    assert "no more messages" in reply["content"]
    for author in ("yan", "zoe"):
        post = peer.add_note(author, "<p>3</p>")
        assert (await alice.call("POST", "/api/v1/flattrs", {"url": post.url})).status == 201
    await close_period(a, await label_of(alice))
    [notice] = await answers(peer, "zoe", 1)
    assert "2.50 EUR waits" in notice["content"]
    assert await bot_messages_to(a, f"{peer.actor_uri('yan')}/inbox") == 3
    assert len(peer.direct_messages("yan")) == 3


async def bot_messages_to(node: Node, inbox: str) -> int:
    """Everything the bot ever queued to `inbox`, delivered or not."""
    async with node.live.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(Delivery).where(
            Delivery.inbox_url == inbox, Delivery.sender_username == "flattr")))


async def test_a_two_way_alias_claims_escrow(federation: Federation, peer: MastodonPeer) -> None:
    a = await federation.start("a")
    peer.clock = a.clock
    alice, yves, xena = await donor(a), await account(a, "yves"), await account(a, "xena")
    for name in ("yan", "zoe"):
        peer.add_account(name)
        assert (await alice.call("POST", "/api/v1/flattrs", {"url": peer.add_note(name, "<p>!</p>").url})).status == 201
    await close_period(a, await label_of(alice))
    yan, zoe, yves_actor = peer.actor_uri("yan"), peer.actor_uri("zoe"), f"{a.base_url}/users/yves"
    peer.profiles["zoe"] = {"alsoKnownAs": [f"{a.base_url}/users/xena"]}
    assert (await xena.call("PUT", "/api/v1/me/aliases", {"aliases": [yan]})).status == 200

    assert await claim_by_alias(a.live) == 0
    assert await escrowed(a) == 500

    answer = await yves.call("PUT", "/api/v1/me/aliases", {"aliases": [yan, yan]})
    assert answer.status == 200 and answer.body == {"aliases": [yan]}
    assert (await yves.call("GET", "/api/v1/me/aliases")).body == {"aliases": [yan]}
    assert (await yves.call("GET", "/users/yves")).body["alsoKnownAs"] == [yan]
    peer.profiles["yan"] = {"attachment": [{"type": "PropertyValue", "name": "Mecene", "value": (
        f'<a href="{yves_actor}" target="_blank" rel="nofollow noopener me" translate="no">'
        f'<span class="invisible">http://</span><span class="">{yves_actor.removeprefix("http://")}</span></a>')}]}
    await eventually(lambda: _earned_is(yves, "2.50"), what="yan's escrow claimed by the alias at the tick")
    assert await earned(xena) == "0.00" and await escrowed(a) == 250

    assert (await xena.call("PUT", "/api/v1/me/aliases", {"aliases": [zoe]})).status == 200
    await eventually(lambda: _earned_is(xena, "2.50"), what="zoe's escrow claimed by alsoKnownAs")
    await assert_ledger_balances(a)


async def test_aliases_are_looked_at_once_per_interval_not_at_every_tick(federation: Federation,
                                                                         peer: MastodonPeer) -> None:
    a = await federation.start("a", MECENE_SETTLEMENT_ALIAS_CHECK_MINUTES="60")
    peer.clock = a.clock
    alice, yves = await donor(a), await account(a, "yves")
    peer.add_account("yan")
    assert (await alice.call("POST", "/api/v1/flattrs", {"url": peer.add_note("yan", "<p>!</p>").url})).status == 201
    fetched = peer.actor_fetches["yan"]
    await close_period(a, await label_of(alice))
    await eventually(lambda: _fetched_since(peer, fetched), what="the alias look after the close")

    yan, fetched = peer.actor_uri("yan"), peer.actor_fetches["yan"]
    peer.profiles["yan"] = {"alsoKnownAs": [f"{a.base_url}/users/yves"]}
    assert (await yves.call("PUT", "/api/v1/me/aliases", {"aliases": [yan]})).status == 200
    await asyncio.sleep(1.5)
    assert await escrowed(a) == 500 and peer.actor_fetches["yan"] == fetched

    a.clock.advance(minutes=61)
    await eventually(lambda: _earned_is(yves, "5.00"), what="the alias looked at again once the interval passed")
    await assert_ledger_balances(a)


async def _fetched_since(peer: MastodonPeer, count: int) -> bool:
    return peer.actor_fetches["yan"] > count


async def test_aliases_must_be_remote_actor_ids(federation: Federation) -> None:
    a = await federation.start("a")
    yves = await account(a, "yves")
    for wrong in ("https://elsewhere.example/users/y", ["ftp://x/y"], [f"{a.base_url}/users/alice"], ["x"] * 11):
        answer = await yves.call("PUT", "/api/v1/me/aliases", {"aliases": wrong})
        assert answer.status == 400, wrong
    assert (await yves.call("GET", "/api/v1/me/aliases")).body == {"aliases": []}
