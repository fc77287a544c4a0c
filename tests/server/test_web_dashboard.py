"""A donor on the web: sign up, get a budget, flattr posts on other servers, undo one, and see where every cent went.

Real instances on loopback and a plain fediverse server; the Browser posts
forms with their CSRF tokens as a person's browser would, and the only thing
the test controls is the clock, moved to close the period.
"""

import re
from collections.abc import AsyncIterator
from urllib.parse import quote

import pytest
from markupsafe import escape
from sqlalchemy import func, select

from agreement_helper import agree
from api_client import Api, account, assert_ledger_balances
from federation.models import Delivery
from federation_harness import Federation, Node, eventually
from plain_peer import PlainPeer
from server.bot.replies import escrow_waiting
from server.models import User
from server.tokens import create_token
from settlement.models import Flattr, Payout, PeriodClose
from web_client import Browser, Page

SIGNUP = {"username": "alice", "display_name": "Alice", "password": "correct horse", "confirm": "correct horse"}
UNDO = re.compile(r'action="/flattrs/(\d+)/undo"')
#: What the dashboard names the things flattred in the test by: the titles recorded with the flattrs.
TITLES = ["Bob's first", "Bob's second", "Carl's note"]


@pytest.fixture
async def peer() -> AsyncIterator[PlainPeer]:
    async with await PlainPeer.start() as started:
        yield started


async def signed_up(node: Node) -> Browser:
    browser = Browser(node)
    page = await browser.submit("/signup", "/signup", SIGNUP)
    assert page.status == 200 and "Signed in as <strong>alice</strong>" in page.html
    return browser


async def token_for(node: Node, username: str) -> Api:
    """The same person's API access, to hold the page's figures against the API's."""
    async with node.live.sessions() as session, session.begin():
        user = await session.scalar(select(User).where(User.username == username))
        return Api(node, await create_token(session, user, "tests", node.live.clock()))


async def thing_of(api: Api, text: str) -> str:
    answer = await api.call("POST", "/api/v1/things", {"text": text})
    assert answer.status == 201, answer.body
    return answer.body["object_id"]


async def top_up(node: Node, amount: str) -> None:
    operator = await account(node, f"op{len(amount)}", admin=True)
    answer = await operator.call("POST", "/api/v1/admin/users/alice/topups", {"amount": amount})
    assert answer.status == 201, answer.body


async def rows(node: Node, model: type) -> int:
    async with node.live.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def flattr(browser: Browser, url: str) -> Page:
    return await browser.submit(f"/flattr?url={quote(url, safe='')}", "/flattr", {"url": url})


async def received(creator: Api, count: int) -> None:
    async def arrived() -> bool:
        return len((await creator.call("GET", "/api/v1/received")).body["flattrs"]) == count
    await eventually(arrived, what=f"{count} flattrs received by {creator.node.name}")


async def closed_and_paid(node: Node, label: str) -> bool:
    async with node.live.sessions() as session:
        state = await session.scalar(select(PeriodClose.state).where(PeriodClose.period == label))
        unsettled = await session.scalar(select(func.count(Payout.id)).where(Payout.state != "settled"))
    return state == "closed" and unsettled == 0


async def test_flattr_undo_close_and_see_where_every_cent_went(federation: Federation, peer: PlainPeer) -> None:
    a, b = await federation.start("a"), await federation.start("b")
    await agree(a, b)
    bob, carl = await account(b, "bob"), await account(a, "carl")
    bobs = [await thing_of(bob, "Bob's first"), await thing_of(bob, "Bob's second")]
    carls = await thing_of(carl, "Carl's note")
    peer.add_account("zoe")
    zoes = peer.add_note("zoe", "<p>Zoe has no Mecene</p>").url
    browser = await signed_up(a)
    try:
        await top_up(a, "10.00")
        saved = await browser.submit("/settings", "/settings/budget", {"amount": "4.00"})
        assert saved.url.endswith("/settings") and "Budget saved: 4.00 EUR a month." in saved.html

        form = await browser.get(f"/flattr?url={quote(bobs[0], safe='')}")
        assert form.status == 200 and form.hidden("url") == bobs[0]
        page = await flattr(browser, bobs[0])
        assert page.url == a.base_url + "/" and f"You flattred “Bob&#39;s first” by @bob@{b.host}." in page.html
        assert "4.00 EUR" in _value_now(page)
        await received(bob, 1)
        alice = await token_for(a, "alice")
        me = (await alice.call("GET", "/api/v1/me")).body
        assert me["value_now"]["each"]["amount"] + " EUR" == _value_now(page)

        [flattr_id] = UNDO.findall(page.html)
        page = await browser.submit("/", f"/flattrs/{flattr_id}/undo", {})
        assert page.url == a.base_url + "/" and "undone" in page.html and not UNDO.findall(page.html)
        await received(bob, 0)
        assert await rows(a, Flattr) == 0

        for url in [*bobs, carls, zoes]:
            assert "You flattred" in (await flattr(browser, url)).html
        page = await browser.get("/")
        assert len(UNDO.findall(page.html)) == 4 and "1.00 EUR" in _value_now(page)
        listed = (await alice.call("GET", "/api/v1/flattrs")).body
        assert {f["value_now"]["amount"] for f in listed["flattrs"]} == {"1.00"}
        assert [f["title"] for f in listed["flattrs"]] == [*TITLES, "Zoe has no Mecene"]
        for listed_flattr in listed["flattrs"]:
            assert f'<a href="{listed_flattr["url"]}" rel="nofollow noopener">{escape(listed_flattr["title"])}</a>' \
                in page.html
        await received(bob, 2)

        label = me["period"]["label"]
        for node in (a, b):
            node.clock.advance(days=40)
        await eventually(lambda: closed_and_paid(a, label), what="the period closed and paid")
        page = await browser.submit("/login", "/login", {"username": "alice", "password": "correct horse"})
        history = page.html.split('id="past"', 1)[1]
        assert f"<h3>{label}</h3>" in history and "Spent 4.00 EUR" in history and "fee 0.00 EUR" in history
        assert history.count(f"paid to {b.host}") == 2 and "(on its way)" not in history
        assert f"credited to @carl@{a.host} on this instance" in history
        assert f"held in escrow for @zoe@{peer.host} until" in history
        assert history.count("1.00 EUR") == 4
        for title in [*TITLES, "Zoe has no Mecene"]:
            assert f'rel="nofollow noopener">{escape(title)}</a>' in history
        assert 'id="wallet">6.00 EUR' in page.html and not UNDO.findall(page.html)
        for node in (a, b):
            await assert_ledger_balances(node)
    finally:
        await browser.close()


def _value_now(page: Page) -> str:
    found = re.search(r'id="value-now">([^<]+)<', page.html)
    assert found, page.html
    return found.group(1)


@pytest.mark.parametrize(("url", "status", "message"), [
    ("ftp://example.org/x", 400, "Give the http(s) address of a post"),
    ("not a url", 400, "Give the http(s) address of a post"),
    ("{b}/things/nothing-here", 422, "there is nothing at that address"),
    ("{b}/users/flattr", 422, "it is a profile (or a deleted post), not something made to flattr"),
    ("http://127.0.0.1:9/notes/1", 422, "its server did not answer. Check the address, or try again later."),
    ("{a}/things/nothing-here", 404, "There is no such thing on this instance."),
])
async def test_bad_flattrs_rerender_the_form_and_change_nothing(federation: Federation, url: str, status: int,
                                                                message: str) -> None:
    a, b = await federation.start("a"), await federation.start("b")
    browser = await signed_up(a)
    try:
        await top_up(a, "10.00")
        await browser.submit("/settings", "/settings/budget", {"amount": "5.00"})
        typed = url.format(a=a.base_url, b=b.base_url)
        deliveries = await rows(a, Delivery)
        page = await flattr(browser, typed)
        assert page.status == status and message in page.html and 'role="alert"' in page.html
        assert page.hidden("url") == typed
        assert await rows(a, Flattr) == 0 and await rows(a, Delivery) == deliveries
    finally:
        await browser.close()


async def test_no_budget_empty_wallet_repeat_and_forged_forms_change_nothing(federation: Federation) -> None:
    a, b = await federation.start("a"), await federation.start("b")
    thing = await thing_of(await account(b, "bob"), "Bob's")
    browser = await signed_up(a)
    try:
        page = await flattr(browser, thing)
        assert page.status == 409 and "Set a monthly budget in Settings first" in page.html
        await browser.submit("/settings", "/settings/budget", {"amount": "5.00"})
        page = await flattr(browser, thing)
        assert page.status == 409 and "Your wallet is empty" in page.html
        assert await rows(a, Flattr) == 0 and await rows(a, Delivery) == 0

        await top_up(a, "10.00")
        assert "You flattred" in (await flattr(browser, thing)).html
        deliveries = await rows(a, Delivery)
        page = await flattr(browser, thing)
        assert page.status == 409 and "You already flattred “Bob&#39;s”" in page.html
        assert await rows(a, Flattr) == 1 and await rows(a, Delivery) == deliveries

        page = await browser.post("/flattr", {"url": thing, "csrf": "forged"})
        assert page.status == 403 and await rows(a, Flattr) == 1
        [flattr_id] = UNDO.findall((await browser.get("/")).html)
        page = await browser.post(f"/flattrs/{flattr_id}/undo", {"csrf": "forged"})
        assert page.status == 403 and await rows(a, Flattr) == 1 and await rows(a, Delivery) == deliveries
        page = await browser.submit("/", "/flattrs/999/undo", {})
        assert page.status == 404 and "You have no flattr 999." in page.html and await rows(a, Flattr) == 1
        await assert_ledger_balances(a)
    finally:
        await browser.close()


async def test_someone_elses_flattr_cannot_be_undone(federation: Federation) -> None:
    a, b = await federation.start("a"), await federation.start("b")
    thing = await thing_of(await account(b, "bob"), "Bob's")
    browser = await signed_up(a)
    other = Browser(a)
    try:
        await top_up(a, "10.00")
        await browser.submit("/settings", "/settings/budget", {"amount": "5.00"})
        await flattr(browser, thing)
        [flattr_id] = UNDO.findall((await browser.get("/")).html)
        await other.submit("/signup", "/signup", {**SIGNUP, "username": "mallory"})
        page = await other.submit("/", f"/flattrs/{flattr_id}/undo", {})
        assert page.status == 404 and await rows(a, Flattr) == 1
    finally:
        await other.close()
        await browser.close()


async def test_visitors_log_in_and_come_back_to_the_url_they_were_sent_with(federation: Federation) -> None:
    a = await federation.start("a")
    browser = await signed_up(a)
    await browser.submit("/", "/logout", {})
    target = "https://example.social/@someone/123"
    try:
        page = await browser.get(f"/flattr?url={quote(target, safe='')}")
        assert "/login?next=" in page.url and page.status == 200
        page = await browser.submit(page.url.removeprefix(a.base_url), "/login", {
            "username": "alice", "password": "correct horse", "next": page.hidden("next")})
        assert page.url.startswith(a.base_url + "/flattr?url=") and page.hidden("url") == target
        anonymous = Browser(a)
        try:
            page = await anonymous.post("/flattr", {"url": target})
            assert "/login?next=" in page.url and await rows(a, Flattr) == 0
        finally:
            await anonymous.close()
    finally:
        await browser.close()


async def test_the_front_page_stays_a_welcome_for_visitors_and_escrow_notices_point_at_the_claim_page(
        federation: Federation) -> None:
    a = await federation.start("a")
    visitor = Browser(a)
    try:
        page = await visitor.get("/")
        assert page.status == 200 and "Support what you love" in page.html and "Your money" not in page.html
        link = re.search(r"https?://\S+/claim\b", escrow_waiting(a.base_url, "2026-01", "5.00 EUR", "2026-08-01"))
        assert link and link.group(0) == a.base_url + "/claim"
        page = await visitor.get("/claim")
        assert page.status == 200 and "escrow" in page.html and "direct message" in page.html
        assert "/login?next=%2Fclaim" in page.html
    finally:
        await visitor.close()
