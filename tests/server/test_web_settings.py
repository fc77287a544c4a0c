"""Settings and the claim page on the web: each form saves one thing, refuses bad input, and needs its CSRF token.

A Mastodon-shaped peer plays the account linked by a code from the settings
page; auto-flattr of its boosts and unlinking reach it as Mastodon would see.
"""

import re
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import func, select
from test_mastodon_bot import answers
from test_web_dashboard import SIGNUP, rows, signed_up, top_up

from api_client import assert_ledger_balances
from federation.models import LocalActor
from federation_harness import Federation, Node, eventually
from mastodon_peer import MastodonPeer, mecene_bot
from server.models import LinkCode, LinkedAccount, User
from settlement.models import Budget, PeriodClose
from web_client import Browser


@pytest.fixture
async def peer() -> AsyncIterator[MastodonPeer]:
    async with await MastodonPeer.start() as started:
        yield started


@pytest.fixture
async def node(federation: Federation) -> Node:
    return await federation.start("a")


@pytest.fixture
async def browser(node: Node) -> AsyncIterator[Browser]:
    visitor = await signed_up(node)
    yield visitor
    await visitor.close()


async def budget_row(node: Node) -> tuple[int, int] | None:
    async with node.live.sessions() as session:
        row = (await session.execute(select(Budget.amount, func.count()).group_by(Budget.amount))).first()
        return None if row is None else (int(row[0]), int(row[1]))


async def aliases(node: Node) -> list[str]:
    async with node.live.sessions() as session:
        return list(await session.scalar(select(LocalActor.also_known_as).where(LocalActor.username == "alice")))


async def test_budget_is_parsed_like_every_amount(node: Node, browser: Browser) -> None:
    async with browser.session.post(node.base_url + "/settings/budget", allow_redirects=False, data={
            "csrf": (await browser.get("/settings")).hidden("csrf"), "amount": "2.50"}) as response:
        assert response.status == 303 and response.headers["Location"] == "/settings"
    page = await browser.get("/settings")
    assert "Budget saved: 2.50 EUR a month." in page.html and page.hidden("amount") == "2.50"
    assert "Budget saved" not in (await browser.get("/settings")).html
    for typed, message in [("5,00", "Write decimals with a dot: &#34;5.00&#34; rather than &#34;5,00&#34;."),
                           ("-1", "cannot be negative"), ("5.001", "at most 2 decimals"), ("", "Enter an amount")]:
        page = await browser.submit("/settings", "/settings/budget", {"amount": typed})
        assert page.status == 400 and message in page.html and 'role="alert"' in page.html, typed
        assert page.hidden("amount") == typed
        assert await budget_row(node) == (250, 1)
    assert "Budget saved: 0.00 EUR" in (await browser.submit("/settings", "/settings/budget", {"amount": "0"})).html


async def test_also_send_like_and_aliases(node: Node, browser: Browser) -> None:
    page = await browser.submit("/settings", "/settings/like", {"also_send_like": "on"})
    assert "Saved: your flattrs also send a Like." in page.html and 'value="on"\n        checked' in page.html
    async with node.live.sessions() as session:
        assert await session.scalar(select(User.also_send_like).where(User.username == "alice")) is True
    await browser.submit("/settings", "/settings/like", {})
    async with node.live.sessions() as session:
        assert await session.scalar(select(User.also_send_like).where(User.username == "alice")) is False

    wanted = "https://social.example/users/alice\nhttps://other.example/@alice"
    page = await browser.submit("/settings", "/settings/aliases", {"aliases": wanted})
    assert "Aliases saved: 2 accounts." in page.html
    assert await aliases(node) == ["https://social.example/users/alice", "https://other.example/@alice"]
    for typed, message in [("not-an-actor", "must be the http(s) id of an actor"),
                           (f"{node.base_url}/users/bob", "is on this instance")]:
        page = await browser.submit("/settings", "/settings/aliases", {"aliases": typed})
        assert page.status == 400 and message in page.html and typed in page.html
        assert len(await aliases(node)) == 2


@pytest.mark.parametrize("action", ["/settings/budget", "/settings/like", "/settings/link-code", "/settings/aliases",
                                    "/settings/links/1/unlink", "/settings/links/1/boosts"])
async def test_every_settings_form_refuses_a_forged_post(node: Node, browser: Browser, action: str) -> None:
    await browser.submit("/settings", "/settings/budget", {"amount": "3.00"})
    before = [await rows(node, model) for model in (Budget, LinkCode, LinkedAccount)] + [await aliases(node)]
    page = await browser.post(action, {"csrf": "forged", "amount": "9.00", "also_send_like": "on",
                                       "aliases": "https://x.example/users/a"})
    assert page.status == 403 and "came from another site" in page.html
    assert [await rows(node, model) for model in (Budget, LinkCode, LinkedAccount)] + [await aliases(node)] == before
    assert await budget_row(node) == (300, 1)


async def test_visitors_are_sent_to_log_in(node: Node) -> None:
    visitor = Browser(node)
    try:
        page = await visitor.get("/settings")
        assert "/login?next=" in page.url and page.hidden("next") == "/settings"
    finally:
        await visitor.close()


async def test_link_a_mastodon_account_flattr_its_boosts_and_unlink(node: Node, browser: Browser,
                                                                    peer: MastodonPeer) -> None:
    zoe, bot = peer.add_account("zoe"), mecene_bot(node.base_url)
    page = await browser.submit("/settings", "/settings/link-code", {"back": "/settings"})
    found = re.search(r"Your link code is ([A-Z0-9]{4}-[A-Z0-9]{4})", page.html)
    assert found and f"Write: @flattr@{node.host} {found.group(1)}" in page.html
    assert await peer.direct_message("zoe", bot, found.group(1)) == 202
    [reply] = await answers(peer, "zoe", 1)
    assert "Linked" in reply["content"]
    page = await browser.get("/settings")
    assert f"@zoe@{peer.host}" in page.html and "Boosts: not flattred" in page.html
    [link_id] = re.findall(r'action="/settings/links/(\d+)/unlink"', page.html)

    page = await browser.submit("/settings", f"/settings/links/{link_id}/boosts", {"auto_flattr_boosts": "on"})
    assert f"Boosts of {zoe} are now flattred for you." in page.html and "Boosts: flattred automatically" in page.html
    await eventually(lambda: _follows(peer, zoe), what="the bot's Follow at the peer")
    page = await browser.submit("/settings", f"/settings/links/{link_id}/boosts", {"auto_flattr_boosts": "off"})
    assert "are no longer flattred" in page.html
    await eventually(lambda: _undone_follows(peer), what="the Undo{Follow} at the peer")

    page = await browser.submit("/settings", "/settings/links/999/unlink", {})
    assert page.status == 404 and await rows(node, LinkedAccount) == 1
    page = await browser.submit("/settings", f"/settings/links/{link_id}/unlink", {})
    assert f"Unlinked {zoe}" in page.html and await rows(node, LinkedAccount) == 0
    [*_, goodbye] = await answers(peer, "zoe", 2)
    assert "unlinked this account" in goodbye["content"]


async def _follows(peer: MastodonPeer, actor: str) -> bool:
    return any(follow["object"] == actor for follow in peer.activities("Follow"))


async def _undone_follows(peer: MastodonPeer) -> bool:
    return any(undo["object"]["type"] == "Follow" for undo in peer.activities("Undo")
               if isinstance(undo.get("object"), dict))


async def test_the_claim_page_shows_what_escrow_holds_for_an_alias(federation: Federation, peer: MastodonPeer) -> None:
    a = await federation.start("a")
    peer.clock = a.clock
    yan = peer.add_account("yan")
    donor = await signed_up(a)
    try:
        await top_up(a, "10.00")
        await donor.submit("/settings", "/settings/budget", {"amount": "5.00"})
        note = peer.add_note("yan", "<p>Flattr me</p>").url
        assert "You flattred" in (await donor.submit("/flattr", "/flattr", {"url": note})).html
        label = (await donor.get("/")).html.split("This period (", 1)[1].split(",", 1)[0]
        a.clock.advance(days=40)
        await eventually(lambda: _closed(a, label), what="the period closed")
    finally:
        await donor.close()
    creator = Browser(a)
    try:
        await creator.submit("/signup", "/signup", {**SIGNUP, "username": "yves"})
        await creator.submit("/settings", "/settings/aliases", {"aliases": yan})
        page = await creator.get("/claim")
        assert page.status == 200 and f"@yan@{peer.host}" in page.html and "alias (needs to name you back)" in page.html
        assert "5.00 EUR" in page.html and f"{a.base_url}/users/yves" in page.html
        page = await creator.submit("/claim", "/settings/link-code", {"back": "/claim"})
        assert page.url == a.base_url + "/claim" and "Your link code is" in page.html
        await assert_ledger_balances(a)
    finally:
        await creator.close()


async def _closed(node: Node, label: str) -> bool:
    async with node.live.sessions() as session:
        return await session.scalar(select(PeriodClose.state).where(PeriodClose.period == label)) == "closed"
