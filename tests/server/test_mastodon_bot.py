"""Mastodon users talk to the bot: link by a code in a DM, flattr by mention or by URL, unlink.

A Mastodon-shaped peer sends what Mastodon sends, signed, to real instances
on loopback; the answers it receives are checked for the shape Mastodon
shows as a direct message.
"""

from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select, update

from api_client import Api, account, assert_ledger_balances
from federation.models import Delivery, InboxItem
from federation_harness import Federation, Node, eventually
from mastodon_peer import Account, MastodonPeer, mecene_bot
from plain_peer import AS_PUBLIC
from server.models import BotCodeTry, BotTask, ReceivedFlattr


@pytest.fixture
async def peer() -> AsyncIterator[MastodonPeer]:
    async with await MastodonPeer.start() as started:
        yield started


async def donor(node: Node, name: str = "alice") -> Api:
    admin, api = await account(node, f"op_{name}", admin=True), await account(node, name)
    assert (await admin.call("POST", f"/api/v1/admin/users/{name}/topups", {"amount": "10.00"})).status == 201
    assert (await api.call("PUT", "/api/v1/me/budget", {"amount": "5.00"})).status == 200
    return api


async def new_code(api: Api) -> str:
    answer = await api.call("POST", "/api/v1/links/codes")
    assert answer.status == 201, answer.body
    assert f"@flattr@{api.node.host}" in answer.body["how"] and answer.body["expires_at"]
    return answer.body["code"]


async def answers(peer: MastodonPeer, name: str, count: int) -> list[dict[str, Any]]:
    """Wait for `count` DMs to `name`, check each has the direct shape, return them."""
    await eventually(lambda: _at_least(peer, name, count), what=f"{count} DMs to {name}")
    notes = peer.direct_messages(name)
    for note in notes:
        assert_direct(note, peer.actor_uri(name), f"@{name}@{peer.host}", f"{peer.base_url}/@{name}")
    return notes


async def _at_least(peer: MastodonPeer, name: str, count: int) -> bool:
    return len(peer.direct_messages(name)) >= count


def assert_direct(note: dict[str, Any], recipient: str, handle: str, profile: str) -> None:
    """Mastodon's direct shape: only the recipient addressed and mentioned, the text opening with the mention."""
    assert note["type"] == "Note" and note["to"] == [recipient] and note.get("cc", []) == []
    assert AS_PUBLIC not in note["to"] + note.get("cc", [])
    assert {"type": "Mention", "href": recipient, "name": handle} in note["tag"]
    assert note["content"].startswith(f'<p><span class="h-card"><a href="{profile}" class="u-url mention">@<span>')


async def link(peer: MastodonPeer, name: str, bot: Account, api: Api) -> None:
    before = len(peer.direct_messages(name))
    assert await peer.direct_message(name, bot, f"here is my code {await new_code(api)}") == 202
    [*_, reply] = await answers(peer, name, before + 1)
    assert "Linked" in reply["content"]


async def links_of(api: Api) -> list[str]:
    answer = await api.call("GET", "/api/v1/links")
    assert answer.status == 200
    return [row["actor"] for row in answer.body["links"]]


async def settled(node: Node) -> None:
    """Every inbox item and bot task handled: what was going to be queued is queued."""
    async def done() -> bool:
        async with node.live.sessions() as session:
            items = await session.scalar(select(func.count()).where(InboxItem.state == "pending"))
            tasks = await session.scalar(select(func.count()).where(BotTask.state == "pending"))
        return items == 0 and tasks == 0
    await eventually(done, what="inbox and bot tasks drained")


async def queued_to(node: Node, inbox: str) -> int:
    async with node.live.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(Delivery).where(Delivery.inbox_url == inbox)))


async def test_link_by_dm_and_flattr_by_mention_here_and_on_another_instance(
        federation: Federation, peer: MastodonPeer) -> None:
    a, b = await federation.start("a"), await federation.start("b")
    alice, bob = await donor(a), await account(b, "bob")
    thing = (await bob.call("POST", "/api/v1/things", {"text": "Worth a flattr"})).body
    bot = mecene_bot(a.base_url)
    zoe = peer.add_account("zoe")
    peer.add_account("yan")
    post = peer.add_note("yan", "<p>A post on Mastodon</p>")

    await link(peer, "zoe", bot, alice)
    assert await links_of(alice) == [zoe]

    assert await peer.reply("zoe", bot, thing["object_id"], "great essay") == 202
    [*_, answer] = await answers(peer, "zoe", 2)
    assert f"Flattred {thing['object_id']}" in answer["content"] and "Flattrs this month: 1" in answer["content"]
    assert "5.00 EUR" in answer["content"]
    await eventually(lambda: _received(b, 1), what="B records the flattr from alice")

    assert await peer.reply("zoe", bot, post.id, visibility="public") == 202
    [*_, answer] = await answers(peer, "zoe", 3)
    assert f"Flattred {post.id}" in answer["content"] and "2.50 EUR" in answer["content"]
    await eventually(lambda: _flattr_at(peer, post.id), what="the Flattr at the peer")
    flattred = (await alice.call("GET", "/api/v1/flattrs")).body["flattrs"]
    assert sorted(f["url"] for f in flattred) == sorted([thing["object_id"], post.id])
    for node in (a, b):
        await assert_ledger_balances(node)


async def _received(node: Node, expected: int) -> bool:
    async with node.live.sessions() as session:
        return await session.scalar(select(func.count()).select_from(ReceivedFlattr)) == expected


async def _flattr_at(peer: MastodonPeer, object_id: str) -> bool:
    return any(flattr["object"] == object_id for flattr in peer.activities("Flattr"))


async def test_a_dm_with_a_post_url_flattrs_it_once(federation: Federation, peer: MastodonPeer) -> None:
    a = await federation.start("a")
    alice, bot = await donor(a), mecene_bot(a.base_url)
    peer.add_account("zoe")
    peer.add_account("yan")
    post = peer.add_note("yan", "<p>Link me</p>")
    await link(peer, "zoe", bot, alice)

    assert await peer.direct_message("zoe", bot, f"please flattr {post.url}") == 202
    [*_, answer] = await answers(peer, "zoe", 2)
    assert f"Flattred {post.id}" in answer["content"]
    assert await peer.direct_message("zoe", bot, post.url) == 202
    [*_, answer] = await answers(peer, "zoe", 3)
    assert "already flattred" in answer["content"]
    assert len((await alice.call("GET", "/api/v1/flattrs")).body["flattrs"]) == 1
    await assert_ledger_balances(a)


async def test_an_unlinked_account_hears_how_to_link_once_a_day(federation: Federation, peer: MastodonPeer) -> None:
    a = await federation.start("a")
    alice, bot = await donor(a), mecene_bot(a.base_url)
    peer.add_account("zoe")
    peer.add_account("yan")
    post = peer.add_note("yan", "<p>Nice</p>")

    assert await peer.reply("zoe", bot, post.id) == 202
    [answer] = await answers(peer, "zoe", 1)
    assert "link code" in answer["content"]
    assert await peer.reply("zoe", bot, post.id) == 202
    assert await peer.direct_message("zoe", bot, "hello?") == 202
    await settled(a)
    assert await queued_to(a, f"{peer.actor_uri('zoe')}/inbox") == 1

    peer.clock = a.clock
    a.clock.advance(days=1, minutes=1)
    assert await peer.reply("zoe", bot, post.id) == 202
    await answers(peer, "zoe", 2)
    assert (await alice.call("GET", "/api/v1/flattrs")).body["flattrs"] == []


async def test_wrong_expired_and_reused_codes_link_nothing(federation: Federation, peer: MastodonPeer) -> None:
    a = await federation.start("a")
    alice, bot = await donor(a), mecene_bot(a.base_url)
    zoe, yan = peer.add_account("zoe"), peer.add_account("yan")

    assert await peer.direct_message("zoe", bot, "ABCD-EFGH") == 202
    [answer] = await answers(peer, "zoe", 1)
    assert "did not work" in answer["content"]

    expired = await new_code(alice)
    a.clock.advance(minutes=16)
    assert await peer.direct_message("zoe", bot, expired) == 202
    await answers(peer, "zoe", 2)
    assert "did not work" in peer.direct_messages("zoe")[-1]["content"]
    assert await links_of(alice) == []

    code = await new_code(alice)
    assert await peer.direct_message("zoe", bot, code.lower().replace("-", "")) == 202
    await answers(peer, "zoe", 3)
    assert await links_of(alice) == [zoe]
    assert await peer.direct_message("yan", bot, code) == 202
    [answer] = await answers(peer, "yan", 1)
    assert "did not work" in answer["content"]
    assert yan not in await links_of(alice)


async def test_a_message_full_of_code_shaped_words_links_nothing(federation: Federation,
                                                                   peer: MastodonPeer) -> None:
    """1,000 code-shaped words around one real code linked the sender to that code's account."""
    a = await federation.start("a")
    alice, bot = await donor(a), mecene_bot(a.base_url)
    peer.add_account("zoe")
    words = " ".join(f"{n:04d}".translate(str.maketrans("01", "XY")) + "-WXYZ" for n in range(1000))
    assert await peer.direct_message("zoe", bot, f"{words} {await new_code(alice)}") == 202
    [answer] = await answers(peer, "zoe", 1)
    assert "more than one code" in answer["content"]
    assert await links_of(alice) == []


async def test_an_account_that_sent_five_wrong_codes_is_not_heard_for_a_day(federation: Federation,
                                                                             peer: MastodonPeer) -> None:
    a = await federation.start("a")
    alice, bot = await donor(a), mecene_bot(a.base_url)
    zoe = peer.add_account("zoe")
    for attempt in range(1, 6):
        assert await peer.direct_message("zoe", bot, f"WXYZ-{attempt + 1}ABC") == 202
        await answers(peer, "zoe", attempt)
        assert "did not work" in peer.direct_messages("zoe")[-1]["content"]
    assert await peer.direct_message("zoe", bot, await new_code(alice)) == 202
    await answers(peer, "zoe", 6)
    assert "Too many codes" in peer.direct_messages("zoe")[-1]["content"]
    assert await links_of(alice) == []
    async with a.live.sessions() as session, session.begin():
        await session.execute(update(BotCodeTry).values(tried_at=a.live.clock() - timedelta(hours=25)))
    assert await peer.direct_message("zoe", bot, await new_code(alice)) == 202
    await answers(peer, "zoe", 7)
    assert await links_of(alice) == [zoe]


async def test_a_forged_sender_is_refused_and_links_nothing(federation: Federation, peer: MastodonPeer) -> None:
    a = await federation.start("a")
    alice, bot = await donor(a), mecene_bot(a.base_url)
    zoe = peer.add_account("zoe")
    peer.add_account("mallory")
    code = await new_code(alice)

    assert await peer.direct_message("mallory", bot, code, actor=zoe) == 401
    await settled(a)
    assert await links_of(alice) == []
    assert await peer.direct_message("zoe", bot, code) == 202
    await answers(peer, "zoe", 1)
    assert await links_of(alice) == [zoe]


async def test_unlink_from_mastodon_and_from_the_api(federation: Federation, peer: MastodonPeer) -> None:
    a = await federation.start("a")
    alice, bot = await donor(a), mecene_bot(a.base_url)
    peer.add_account("zoe")
    peer.add_account("yan")
    post = peer.add_note("yan", "<p>Later</p>")

    await link(peer, "zoe", bot, alice)
    assert await peer.direct_message("zoe", bot, "unlink") == 202
    [*_, answer] = await answers(peer, "zoe", 2)
    assert f"no longer flattrs for alice@{a.host}" in answer["content"]
    assert await links_of(alice) == []

    await link(peer, "zoe", bot, alice)
    [row] = (await alice.call("GET", "/api/v1/links")).body["links"]
    assert (await alice.call("DELETE", f"/api/v1/links/{row['id']}")).status == 200
    assert (await alice.call("DELETE", f"/api/v1/links/{row['id']}")).status == 404
    [*_, answer] = await answers(peer, "zoe", 4)
    assert "unlinked this account" in answer["content"]

    assert await peer.reply("zoe", bot, post.id) == 202
    [*_, answer] = await answers(peer, "zoe", 5)
    assert "link code" in answer["content"]
    assert (await alice.call("GET", "/api/v1/flattrs")).body["flattrs"] == []


async def test_the_bot_answers_in_the_language_of_the_message_when_it_speaks_it(federation: Federation,
                                                                               peer: MastodonPeer) -> None:
    a = await federation.start("a")
    alice, bot = await donor(a), mecene_bot(a.base_url)
    peer.add_account("zoe")
    assert await peer.direct_message("zoe", bot, "ABCD-EFGH", language="fr") == 202
    [french] = await answers(peer, "zoe", 1)
    assert "Désolé, ce code n’a pas fonctionné" in french["content"] and set(french["contentMap"]) == {"fr"}
    assert await peer.direct_message("zoe", bot, "ABCD-EFGJ", language="es") == 202
    [_, spanish] = await answers(peer, "zoe", 2)
    assert "Sorry, that code did not work" in spanish["content"] and set(spanish["contentMap"]) == {"en"}
    assert await peer.direct_message("zoe", bot, await new_code(alice), language="fr") == 202
    [*_, linked] = await answers(peer, "zoe", 3)
    assert f"Lié : ce compte flattre désormais pour alice@{a.host}" in linked["content"]
    assert await links_of(alice) == [peer.actor_uri("zoe")]


async def test_a_flattr_asked_in_french_is_answered_in_french(federation: Federation, peer: MastodonPeer) -> None:
    a = await federation.start("a")
    alice, bot = await donor(a), mecene_bot(a.base_url)
    peer.add_account("zoe")
    peer.add_account("yan")
    await link(peer, "zoe", bot, alice)
    post = peer.add_note("yan", "<p>Bonjour</p>")
    assert await peer.direct_message("zoe", bot, post.url, language="fr") == 202
    [*_, answer] = await answers(peer, "zoe", 2)
    assert "est flattré. Flattrs ce mois-ci : 1 ; un flattr vaut 5,00\u00a0€" in answer["content"]
    assert set(answer["contentMap"]) == {"fr"}
    await assert_ledger_balances(a)


async def test_a_flattr_the_bot_cannot_make_is_explained_once(federation: Federation, peer: MastodonPeer) -> None:
    a = await federation.start("a")
    alice, bot = await donor(a), mecene_bot(a.base_url)
    peer.add_account("zoe")
    await link(peer, "zoe", bot, alice)
    nowhere = "http://127.0.0.1:9/statuses/1"
    assert await peer.direct_message("zoe", bot, nowhere) == 202
    [*_, answer] = await answers(peer, "zoe", 2)
    assert answer["content"].count("Could not flattr") == 1 and nowhere in answer["content"]
    assert (await alice.call("GET", "/api/v1/flattrs")).body["flattrs"] == []
