"""Addresses from other servers are links on a page only when a browser would open them as web pages.

A remote instance's Payout names the things it pays for, and a flattr names
whatever thing was flattred: the rows those write are planted here as they
would arrive, hostile addresses included, and the pages are read over HTTP.
"""

from html.parser import HTMLParser

import pytest
from sqlalchemy import select

from api_client import Api, account
from federation_harness import Federation, Node
from server.models import User
from server.web.links import web_url
from server.web.passwords import hash_password
from settlement.models import Earning, Flattr
from web_client import Browser

PASSWORD = "correct horse"
SAFE = "https://blog.example/post"
HOSTILE = [
    "javascript:alert(document.cookie)",
    " JavaScript:alert(1)",
    "java\tscript:alert(2)",
    "java\nscript:alert(3)",
    "JAVASCRIPT:alert(4)",
    "\x01\x1f javascript:alert(5)",
    "&#106;avascript:alert(6)",
    "data:text/html,<script>alert(7)</script>",
    "vbscript:msgbox(8)",
    "https:no-host",
]


class _Addresses(HTMLParser):
    """Every address an element of the page would load or follow."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.found += [value or "" for name, value in attrs if name in ("href", "src", "action", "formaction")]


def addresses(html: str) -> list[str]:
    parser = _Addresses()
    parser.feed(html)
    return parser.found


def assert_only_web_links(html: str, allowed: tuple[str, ...] = ()) -> None:
    for address in addresses(html):
        assert address.startswith(("/", "#")) or web_url(address) == address or address in allowed, address


async def creator(node: Node, username: str) -> Api:
    api = await account(node, username)
    async with node.live.sessions() as session, session.begin():
        user = await session.scalar(select(User).where(User.username == username))
        user.password_hash = await hash_password(PASSWORD)
    return api


async def logged_in(node: Node, username: str) -> Browser:
    browser = Browser(node)
    page = await browser.submit("/login", "/login", {"username": username, "password": PASSWORD})
    assert f"Signed in as <strong>{username}</strong>" in page.html
    return browser


@pytest.mark.parametrize("web", [SAFE, "HTTPS://blog.example/other", "\x00 http://blog.example/x \x1f"])
def test_web_addresses_are_kept_as_a_browser_reads_them(web: str) -> None:
    assert web_url(web) == web.strip("".join(chr(code) for code in range(0x21))).replace("HTTPS", "https")


@pytest.mark.parametrize("address", [*HOSTILE, "/relative", "//blog.example/x", "mailto:a@b.example", ""])
def test_anything_else_is_no_web_address(address: str) -> None:
    assert web_url(address) is None


async def test_earnings_from_a_payout_show_hostile_addresses_as_text(federation: Federation) -> None:
    node = await federation.start("a")
    bob = await creator(node, "bob")
    async with node.live.sessions() as session, session.begin():
        session.add_all([Earning(creator="bob", period="2026-01", thing_uri=uri, source="evil.example",
                                 amount=100 + index, currency=node.live.settings.instance.currency, flattrs=1)
                         for index, uri in enumerate([SAFE, *HOSTILE])])
    browser = await logged_in(node, "bob")
    try:
        page = await browser.get("/users/bob")
    finally:
        await browser.close()
    assert page.status == 200 and "Your earnings" in page.html
    bookmarklet = next(address for address in addresses(page.html) if address.startswith("javascript:void("))
    assert_only_web_links(page.html, allowed=(bookmarklet,))
    assert f'<a href="{SAFE}">{SAFE}</a>' in page.html
    assert "alert(document.cookie)" in page.html and "&lt;script&gt;alert(7)" in page.html

    things = (await bob.call("GET", "/api/v1/earnings")).body["periods"][0]["things"]
    assert [thing["url"] for thing in things] == [*reversed(HOSTILE), SAFE]


async def test_flattred_addresses_on_the_dashboard_and_in_the_api(federation: Federation) -> None:
    node = await federation.start("a")
    alice = await creator(node, "alice")
    period = node.live.current_period().label
    async with node.live.sessions() as session, session.begin():
        session.add_all([Flattr(donor="alice", thing_uri=uri, author_uri=uri, period=period,
                                activity_id=f"{node.base_url}/flattrs/{index}", created_at=node.live.clock())
                         for index, uri in enumerate([SAFE, *HOSTILE])])
    browser = await logged_in(node, "alice")
    try:
        page = await browser.get("/")
    finally:
        await browser.close()
    assert page.status == 200 and "alert(document.cookie)" in page.html
    assert_only_web_links(page.html)
    assert f'<a href="{SAFE}" rel="nofollow noopener">{SAFE}</a>' in page.html

    flattrs = (await alice.call("GET", "/api/v1/flattrs")).body["flattrs"]
    assert {flattr["url"] for flattr in flattrs} == {SAFE, *HOSTILE}


async def test_the_api_says_which_addresses_are_unverified(federation: Federation) -> None:
    node = await federation.start("a")
    document = (await Api(node, None).call("GET", "/api/v1/openapi.json")).body
    assert "Unverified addresses" in document["info"]["description"]
    schemas = document["components"]["schemas"]
    earned = schemas["Earnings"]["properties"]["periods"]["items"]["properties"]["things"]["items"]
    for url in (schemas["Flattr"]["properties"]["url"], earned["properties"]["url"]):
        assert "unverified" in url["description"]
