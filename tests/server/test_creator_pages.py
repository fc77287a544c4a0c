"""The creator's page at their actor URL: HTML for a browser, the actor JSON (with its payment link) for servers."""

import re
from collections.abc import AsyncIterator

import aiohttp
import pytest
from sqlalchemy import select

from api_client import Api, account, assert_ledger_balances
from federation.client import AP_ACCEPT
from federation_harness import Federation, Node, eventually
from server.creator_things import THINGS_PER_PAGE
from server.models import User
from server.web.charts import BOTTOM, HEIGHT, TOP
from server.web.passwords import hash_password
from settlement.models import Earning
from web_client import Browser

PASSWORD = "correct horse"


async def with_password(node: Node, api: Api, username: str) -> Api:
    async with node.live.sessions() as session, session.begin():
        user = await session.scalar(select(User).where(User.username == username))
        user.password_hash = await hash_password(PASSWORD)
    return api


async def logged_in(node: Node, username: str) -> Browser:
    browser = Browser(node)
    page = await browser.submit("/login", "/login", {"username": username, "password": PASSWORD})
    assert f"Signed in as <strong>{username}</strong>" in page.html
    return browser


@pytest.fixture
async def node(federation: Federation) -> Node:
    return await federation.start("a")


@pytest.fixture
async def visitor(node: Node) -> AsyncIterator[Browser]:
    browser = Browser(node)
    yield browser
    await browser.close()


async def get_json(url: str, accept: str) -> tuple[int, str, dict]:
    async with aiohttp.ClientSession() as http, http.get(url, headers={"Accept": accept}) as resp:
        return resp.status, resp.content_type, await resp.json(content_type=None)


async def test_a_browser_gets_the_public_page_with_things_and_buttons(node: Node, visitor: Browser) -> None:
    bob = await account(node, "bob")
    note = (await bob.call("POST", "/api/v1/things", {"text": "My first song"})).body["object_id"]
    page_thing = (await bob.call("POST", "/api/v1/things", {"url": "https://bob.example/post", "title": "A post",
                                                            "text": "Words"})).body["object_id"]
    gone = (await bob.call("POST", "/api/v1/things", {"text": "Withdrawn"})).body["id"]
    await bob.call("DELETE", f"/api/v1/things/{gone}")

    page = await visitor.get("/users/bob")
    assert page.status == 200
    assert "<h1>bob</h1>" in page.html and f"@bob@{node.host}" in page.html
    assert "My first song" in page.html and '<a href="https://bob.example/post">A post</a>' in page.html
    assert "Withdrawn" not in page.html
    for thing in (note, page_thing):
        button = f"{node.base_url}/flattr-button?url={thing.replace(':', '%3A').replace('/', '%2F')}"
        assert f'href="{button}"' in page.html
        image = f"{node.base_url}/static/flattr-button.svg"
        assert f"&lt;a href=&#34;{button}&#34;&gt;&lt;img src=&#34;{image}" in page.html
    assert f"{node.base_url}/static/button.js" in page.html
    assert page.html.count("0 flattrs in ") == 2
    assert "Your earnings" not in page.html

    assert (await visitor.get("/users/nobody")).status == 404
    assert (await visitor.get("/static/button.js")).status == 200


async def test_servers_keep_the_actor_document_with_a_payment_link(node: Node) -> None:
    await account(node, "bob")
    status, media, actor = await get_json(f"{node.base_url}/users/bob", AP_ACCEPT)
    assert (status, media, actor["type"]) == (200, "application/activity+json", "Person")
    assert actor["attachment"] == [{"type": "Link", "name": "Flattr", "href": f"{node.base_url}/users/bob#flattr",
                                    "rel": "payment", "mediaType": "text/html"}]
    for accept in ("application/ld+json", "*/*", "text/html, application/activity+json"):
        assert (await get_json(f"{node.base_url}/users/bob", accept))[2]["id"] == f"{node.base_url}/users/bob"
    status, _, service = await get_json(f"{node.base_url}/users/instance", AP_ACCEPT)
    assert status == 200 and service["attachment"] == []


async def test_only_the_creator_sees_their_earnings_chart(node: Node, visitor: Browser) -> None:
    operator, alice = await account(node, "op", admin=True), await account(node, "alice")
    bob = await with_password(node, await account(node, "bob"), "bob")
    thing = (await bob.call("POST", "/api/v1/things", {"text": "A song worth paying for"})).body["object_id"]
    assert (await operator.call("POST", "/api/v1/admin/users/alice/topups", {"amount": "10.00"})).status == 201
    assert (await alice.call("PUT", "/api/v1/me/budget", {"amount": "4.00"})).status == 200
    assert (await alice.call("POST", "/api/v1/flattrs", {"url": thing})).status == 201
    period = node.live.current_period().label
    assert "1 flattr in " + period in (await visitor.get("/users/bob")).html

    node.clock.advance(days=40)
    await eventually(lambda: _earned(node, "bob"), what="the period closed with bob's earnings")
    await assert_ledger_balances(node)

    owner = await logged_in(node, "bob")
    try:
        page = (await owner.get("/users/bob")).html
    finally:
        await owner.close()
    assert "Your earnings" in page and "<svg" in page
    assert '<title id="chart-periods-title">Earnings per period</title>' in page and "<desc id=" in page
    assert f'<tr><th scope="row">{period}</th><td class="amount">4.00</td></tr>' in page
    assert "A song worth paying for" in page and "javascript:void(location.href=" in page
    assert f'height="{HEIGHT - TOP - BOTTOM}"' in page

    for outsider in (visitor, await logged_in(node, await _other_creator(node))):
        html = (await outsider.get("/users/bob")).html
        assert "Your earnings" not in html and "<svg" not in html and "4.00" not in html
        if outsider is not visitor:
            await outsider.close()


async def _earned(node: Node, creator: str) -> bool:
    async with node.live.sessions() as session:
        return await session.scalar(select(Earning.id).where(Earning.creator == creator)) is not None


async def _other_creator(node: Node) -> str:
    await with_password(node, await account(node, "carol"), "carol")
    return "carol"


async def test_many_things_come_a_page_at_a_time_newest_first(node: Node, visitor: Browser) -> None:
    bob = await with_password(node, await account(node, "bob"), "bob")
    for n in range(THINGS_PER_PAGE + 2):
        assert (await bob.call("POST", "/api/v1/things", {"text": f"Song number {n}."})).status == 201
    first = await visitor.get("/users/bob")
    assert first.html.count('class="card thing"') == THINGS_PER_PAGE
    assert f"Song number {THINGS_PER_PAGE + 1}." in first.html and "Song number 1." not in first.html
    older = re.search(r'href="(/users/bob\?before=\d+)"', first.html)
    assert older, "a link to the older things"
    rest = await visitor.get(older.group(1))
    assert rest.html.count('class="card thing"') == 2 and "Song number 0." in rest.html
    assert ">Older things</a>" in first.html and ">Older things</a>" not in rest.html
    for wrong in ("abc", "0", "-1", "99999999999999999999"):
        refused = await visitor.get(f"/users/bob?before={wrong}")
        assert refused.status == 400 and "no such page of things" in refused.html
    creator = await logged_in(node, "bob")
    try:
        own = await creator.get("/things")
        assert own.html.count('class="card thing"') == THINGS_PER_PAGE
        link = re.search(r'href="(/things\?before=\d+)"', own.html)
        assert link and (await creator.get(link.group(1))).html.count('class="card thing"') == 2
    finally:
        await creator.close()
