"""Auto-flattr of boosts: the bot follows a linked account whose user opted in, and flattrs its public boosts.

The Mastodon-shaped peer accepts the bot's Follow and boosts as Mastodon
does (`Announce` to the followers' shared inbox); turning it off sends the
peer an `Undo{Follow}`.
"""

from collections.abc import AsyncIterator

import pytest
from sqlalchemy import select
from test_mastodon_bot import donor, link, settled

from api_client import Api, assert_ledger_balances
from federation.models import Following
from federation_harness import Federation, Node, eventually
from mastodon_peer import MastodonPeer, mecene_bot


@pytest.fixture
async def peer() -> AsyncIterator[MastodonPeer]:
    async with await MastodonPeer.start() as started:
        yield started


async def set_auto_flattr(api: Api, enabled: bool) -> dict[str, object]:
    [row] = (await api.call("GET", "/api/v1/links")).body["links"]
    answer = await api.call("PATCH", f"/api/v1/links/{row['id']}", {"auto_flattr_boosts": enabled})
    assert answer.status == 200, answer.body
    return answer.body


async def flattred(api: Api) -> list[str]:
    return sorted(flattr["url"] for flattr in (await api.call("GET", "/api/v1/flattrs")).body["flattrs"])


async def accepted(node: Node, target: str) -> bool:
    async with node.live.sessions() as session:
        return bool(await session.scalar(select(Following.accepted).where(Following.target_uri == target)))


async def test_boosts_are_flattred_only_while_opted_in(federation: Federation, peer: MastodonPeer) -> None:
    a = await federation.start("a")
    alice, bot = await donor(a), mecene_bot(a.base_url)
    zoe = peer.add_account("zoe")
    peer.add_account("yan")
    before, during, private, after = (peer.add_note("yan", f"<p>{n}</p>") for n in range(4))
    await link(peer, "zoe", bot, alice)
    assert await peer.boost("zoe", before.id, bot) == 202
    await settled(a)
    assert await flattred(alice) == []

    assert (await set_auto_flattr(alice, True))["auto_flattr_boosts"] is True
    await eventually(lambda: _follows(peer, "zoe", 1), what="the bot's Follow at the peer")
    [follow] = peer.activities("Follow")
    assert follow["actor"] == bot.actor and follow["object"] == zoe
    assert await peer.accept_follows("zoe") == 1
    await eventually(lambda: accepted(a, zoe), what="the Follow accepted")
    direct_messages = len(peer.direct_messages("zoe"))

    assert await peer.boost("zoe", during.id, bot) == 202
    assert await peer.boost("zoe", private.id, bot, public=False) == 202
    await eventually(lambda: _flattred_is(alice, [during.id]), what="the boosted post flattred")
    await settled(a)
    assert await flattred(alice) == [during.id]
    assert len(peer.direct_messages("zoe")) == direct_messages

    assert (await set_auto_flattr(alice, False))["auto_flattr_boosts"] is False
    await eventually(lambda: _undone(peer, follow["id"]), what="the Undo{Follow} at the peer")
    assert await peer.boost("zoe", after.id, bot) == 202
    await settled(a)
    assert await flattred(alice) == [during.id]
    await assert_ledger_balances(a)


async def test_unlinking_unfollows(federation: Federation, peer: MastodonPeer) -> None:
    a = await federation.start("a")
    alice, bot = await donor(a), mecene_bot(a.base_url)
    peer.add_account("zoe")
    await link(peer, "zoe", bot, alice)
    await set_auto_flattr(alice, True)
    await eventually(lambda: _follows(peer, "zoe", 1), what="the bot's Follow at the peer")
    [follow] = peer.activities("Follow")
    assert await peer.direct_message("zoe", bot, "unlink") == 202
    await eventually(lambda: _undone(peer, follow["id"]), what="the Undo{Follow} at the peer")


async def _follows(peer: MastodonPeer, name: str, count: int) -> bool:
    return len([f for f in peer.activities("Follow") if f["object"] == peer.actor_uri(name)]) == count


async def _undone(peer: MastodonPeer, follow_id: str) -> bool:
    return any(undo["object"]["id"] == follow_id for undo in peer.activities("Undo"))


async def _flattred_is(api: Api, urls: list[str]) -> bool:
    return await flattred(api) == urls
