"""The Flattr button on a creator's instance sends a donor from anywhere to their own instance's flattr intent."""

import json
import re
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import quote

import aiohttp
import pytest
from sqlalchemy import func, select

from api_client import Api, account
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
from server.accounts import create_user
from server.tokens import create_token
from server.web.button_pages import HOME_COOKIE
from server.web.creator_pages import creator_flattr_url
from settlement.flattrs import Flattr
from web_client import Browser, Page

PASSWORD = "correct horse"


@pytest.fixture
async def peer() -> AsyncIterator[PlainPeer]:
    async with await PlainPeer.start() as started:
        yield started


@pytest.fixture
async def sites(federation: Federation) -> tuple[Node, Node, str]:
    """A, the creator's instance with bob's thing; B, the donor's home with alice."""
    a, b = await federation.start("a"), await federation.start("b")
    async with a.live.sessions() as session, session.begin():
        user = await create_user(session, "bob", bot_username="flattr", now=a.live.clock(), display_name="Bob Singer")
        bob = Api(a, await create_token(session, user, "tests", a.live.clock()))
    thing = (await bob.call("POST", "/api/v1/things", {"text": "A song"})).body["object_id"]
    await account(b, "alice")
    return a, b, thing


async def donor(node: Node, name: str, budget: str = "3.00") -> Browser:
    """Someone signed up on `node` through its pages, with money in their wallet and a monthly budget."""
    browser = Browser(node)
    await browser.submit("/signup", "/signup", {"username": name, "password": PASSWORD, "confirm": PASSWORD})
    operator = await account(node, f"op{name}", admin=True)
    assert (await operator.call("POST", f"/api/v1/admin/users/{name}/topups", {"amount": "10.00"})).status == 201
    assert "Budget saved" in (await browser.submit("/settings", "/settings/budget", {"amount": budget})).html
    return browser


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
    await visitor.submit("/signup", "/signup", {"username": "dora", "password": PASSWORD, "confirm": PASSWORD})
    thing = sites[2]
    page = await visitor.get(f"/flattr-button?url={quote(thing, safe='')}")
    assert 'href="/flattr?url=' in page.html and "your account here" in page.html


async def test_the_confirm_page_shows_the_thing_its_author_and_what_one_flattr_is_worth_now(
        sites: tuple[Node, Node, str], visitor: Browser) -> None:
    a, b, thing = sites
    carl = await account(a, "carl")
    earlier = (await carl.call("POST", "/api/v1/things", {"text": "Carl's poem"})).body["object_id"]
    dora = await donor(b, "dora")
    try:
        assert "You flattred" in (await dora.submit("/flattr", "/flattr", {"url": earlier})).html
        status, location, _ = await press(visitor, thing, f"dora@{b.host}")
        assert status == 303
        confirm = await dora.get(location.removeprefix(b.base_url))
        assert confirm.status == 200 and confirm.hidden("url") == thing
        assert "<h1>Flattr “A song”</h1>" in confirm.html
        assert f'By Bob Singer <span class="handle">@bob@{a.host}</span>' in confirm.html
        assert "one flattr is worth 1.50 EUR now" in confirm.html and "among your 2 flattrs" in confirm.html
        assert "estimate until the period closes" in confirm.html and 'type="submit">Flattr it<' in confirm.html

        flattred = await dora.post("/flattr", {"url": thing, "csrf": confirm.hidden("csrf")})
        assert "You flattred “A song”" in flattred.html
        again = await dora.get(location.removeprefix(b.base_url))
        assert again.status == 200 and "You already flattred it this period" in again.html
        assert "worth 1.50 EUR now" in again.html and 'type="submit">Flattr it<' not in again.html
        refused = await dora.post("/flattr", {"url": thing, "csrf": again.hidden("csrf")})
        assert refused.status == 409 and await flattrs_of(b, "dora") == 2
    finally:
        await dora.close()


async def test_the_confirm_page_says_why_an_address_cannot_be_flattred(sites: tuple[Node, Node, str],
                                                                       visitor: Browser) -> None:
    _, b, thing = sites
    dora = await donor(b, "dora")
    try:
        gone = "http://127.0.0.1:1/notes/1"
        page = await dora.get(f"/flattr?url={quote(gone, safe='')}")
        assert page.status == 422 and "its server did not answer" in page.html and 'role="alert"' in page.html
        assert page.hidden("url") == gone and await flattrs_of(b, "dora") == 0
    finally:
        await dora.close()
    fay = Browser(b)
    try:
        await fay.submit("/signup", "/signup", {"username": "fay", "password": PASSWORD, "confirm": PASSWORD})
        page = await fay.get(f"/flattr?url={quote(thing, safe='')}")
        assert page.status == 200 and "<h1>Flattr “A song”</h1>" in page.html
        assert "Set a monthly budget" in page.html and 'type="submit">Flattr it<' not in page.html
    finally:
        await fay.close()


async def test_the_button_tells_someone_signed_in_here_that_they_already_flattred_it(
        sites: tuple[Node, Node, str]) -> None:
    a, _, thing = sites
    erin = await donor(a, "erin")
    try:
        button = f"/flattr-button?url={quote(thing, safe='')}"
        assert "You already flattred" not in (await erin.get(button)).html
        assert "You flattred" in (await erin.submit(f"/flattr?url={quote(thing, safe='')}", "/flattr",
                                                    {"url": thing})).html
        page = await erin.get(button)
        assert "You already flattred it this period from your account here" in page.html
        assert "your account here</a>" not in page.html and page.hidden("url") == thing
    finally:
        await erin.close()


async def flattrs_of(node: Node, donor_name: str) -> int:
    async with node.live.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(Flattr).where(Flattr.donor == donor_name))
                   or 0)


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
