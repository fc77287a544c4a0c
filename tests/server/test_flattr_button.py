"""The Flattr button on a creator's instance sends a donor from anywhere to their own instance's flattr intent."""

import json
import re
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import quote

import aiohttp
import pytest

from api_client import account
from federation.client import ClientOptions, FederationClient, UnsafeAddress
from federation.intents import (
    FLATTR_INTENT_REL,
    IntentError,
    discover_flattr_intent,
    fill,
    flattr_intent_link,
    parse_home,
)
from federation.urls import InstanceUrls
from federation.vocab import payment_link
from federation_harness import Federation, Node
from plain_peer import PlainPeer
from server.web.button_pages import HOME_COOKIE
from server.web.creator_pages import creator_flattr_url
from web_client import Browser, Page


@pytest.fixture
async def peer() -> AsyncIterator[PlainPeer]:
    async with await PlainPeer.start() as started:
        yield started


@pytest.fixture
async def sites(federation: Federation) -> tuple[Node, Node, str]:
    """A, the creator's instance with bob's thing; B, the donor's home with alice."""
    a, b = await federation.start("a"), await federation.start("b")
    bob = await account(a, "bob")
    thing = (await bob.call("POST", "/api/v1/things", {"text": "A song"})).body["object_id"]
    await account(b, "alice")
    return a, b, thing


@pytest.fixture
async def visitor(sites: tuple[Node, Node, str]) -> AsyncIterator[Browser]:
    browser = Browser(sites[0])
    yield browser
    await browser.close()


async def press(browser: Browser, thing: str, home: str, **changed: str) -> tuple[int, str, Page]:
    """Open the button's page, type `home` and submit, without following the answer's redirect."""
    form = await browser.get(f"/flattr-button?url={quote(thing, safe='')}")
    data = {"csrf": form.hidden("csrf"), "url": form.hidden("url"), "home": home, **changed}
    async with browser.session.post(browser.node.base_url + "/flattr-button", data=data, allow_redirects=False,
                                    headers={"Accept": "text/html"}) as resp:
        page = Page(resp.status, str(resp.url), await resp.text())
        return resp.status, resp.headers.get("Location", ""), page


def remembered(browser: Browser) -> str | None:
    return next((cookie.value for cookie in browser.session.cookie_jar if cookie.key == HOME_COOKIE), None)


async def test_webfinger_advertises_the_flattr_intent(sites: tuple[Node, Node, str]) -> None:
    _, b, _ = sites
    for resource in (f"acct:alice@{b.host}", f"acct:127.0.0.1@{b.host}"):
        async with aiohttp.ClientSession() as http, http.get(
                f"{b.base_url}/.well-known/webfinger", params={"resource": resource}) as resp:
            jrd = await resp.json(content_type=None)
        assert {"rel": FLATTR_INTENT_REL, "template": f"{b.base_url}/flattr?url={{uri}}"} in jrd["links"]
    assert FLATTR_INTENT_REL == "https://w3id.org/mecene#Flattr"


@pytest.mark.parametrize("home", ["alice@{host}", "@alice@{host}", "acct:alice@{host}", "{host}", "http://{host}/"])
async def test_the_button_sends_the_donor_to_their_home_instance(sites: tuple[Node, Node, str], visitor: Browser,
                                                               home: str) -> None:
    _, b, thing = sites
    typed = home.format(host=b.host)
    status, location, _ = await press(visitor, thing, typed)
    assert (status, location) == (303, f"{b.base_url}/flattr?url={quote(thing, safe='')}")
    assert remembered(visitor) is not None
    again = await visitor.get(f"/flattr-button?url={quote(thing, safe='')}")
    assert again.hidden("home") == typed and "A song" in again.html


async def test_a_link_may_fill_the_form_but_never_redirects(sites: tuple[Node, Node, str], visitor: Browser) -> None:
    _, b, thing = sites
    page = await visitor.get(f"/flattr-button?url={quote(thing, safe='')}&home=alice@{b.host}")
    assert page.status == 200 and page.url.startswith(visitor.node.base_url)
    assert page.hidden("home") == f"alice@{b.host}"


@pytest.mark.parametrize(("home", "status", "message"), [
    ("nobody@{host}", 404, "knows no account nobody@"),
    ("zoe@{peer}", 400, "is not a Mecene instance"),
    ("{peer}", 400, "did not answer as a Mecene instance"),
    ("not an address!", 400, "Type your account like alice@example.org"),
    ("", 400, "Type your account like alice@example.org"),
    ("alice@127.0.0.1:1", 502, "did not answer"),
])
async def test_bad_addresses_get_a_page_saying_why_and_change_nothing(
        sites: tuple[Node, Node, str], visitor: Browser, peer: PlainPeer, home: str, status: int, message: str) -> None:
    _, b, thing = sites
    peer.add_account("zoe")
    answer, location, page = await press(visitor, thing, home.format(host=b.host, peer=peer.host))
    assert (answer, location) == (status, "")
    assert message in page.html and 'role="alert"' in page.html and page.hidden("url") == thing
    assert remembered(visitor) is None


async def test_a_button_without_a_web_address_or_a_forged_post_is_refused(sites: tuple[Node, Node, str],
                                                                         visitor: Browser) -> None:
    _, b, thing = sites
    for target in ("", "javascript:alert(1)", "ftp://example.org/x"):
        page = await visitor.get(f"/flattr-button?url={quote(target, safe='')}")
        assert page.status == 400 and "names no web address" in page.html
    status, location, page = await press(visitor, thing, f"alice@{b.host}", csrf="forged")
    assert (status, location) == (403, "") and remembered(visitor) is None


async def test_someone_signed_in_here_may_flattr_from_this_account(sites: tuple[Node, Node, str],
                                                                   visitor: Browser) -> None:
    await visitor.submit("/signup", "/signup", {"username": "dora", "password": "correct horse",
                                                "confirm": "correct horse"})
    thing = sites[2]
    page = await visitor.get(f"/flattr-button?url={quote(thing, safe='')}")
    assert 'href="/flattr?url=' in page.html and "your account here" in page.html


async def test_private_addresses_are_refused_unless_insecure(sites: tuple[Node, Node, str]) -> None:
    _, b, thing = sites
    async with FederationClient(ClientOptions(user_agent="test")) as strict:
        with pytest.raises(UnsafeAddress):
            await discover_flattr_intent(strict, parse_home(f"alice@{b.host}"), scheme="http")
    async with FederationClient(ClientOptions(user_agent="test", allow_insecure=True)) as dev:
        template = await discover_flattr_intent(dev, parse_home(f"alice@{b.host}"), scheme="http")
    assert fill(template, thing) == f"{b.base_url}/flattr?url={quote(thing, safe='')}"


@pytest.mark.parametrize("typed", ["alice@", "@home.example", "home example", "a@b@", "x" * 400 + ".example"])
def test_malformed_home_addresses(typed: str) -> None:
    with pytest.raises(IntentError):
        parse_home(typed)


def test_the_template_gets_the_url_and_unknown_variables_are_emptied() -> None:
    assert fill("https://h.example/f?url={uri}&o={object}&x={on-success}", "https://a.example/t?a=1&b=2") == (
        "https://h.example/f?url=https%3A%2F%2Fa.example%2Ft%3Fa%3D1%26b%3D2"
        "&o=https%3A%2F%2Fa.example%2Ft%3Fa%3D1%26b%3D2&x=")


def test_docs_protocol_shows_exactly_the_intent_and_payment_link_built() -> None:
    text = (Path(__file__).resolve().parents[2] / "docs" / "protocol.md").read_text()
    blocks = dict(re.findall(r"^```json (\w+)\n(.*?)^```", text, flags=re.M | re.S))
    assert json.loads(blocks["flattr_intent"]) == flattr_intent_link("https://donor.example")
    assert json.loads(blocks["payment_link"]) == payment_link(creator_flattr_url(
        InstanceUrls("https://author.example"), "bob"))
