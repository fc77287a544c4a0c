"""A property-based fuzz of the HTML forms: no post gets a 5xx, and a refused one (4xx) is a page and changes no row.

Each form is posted with the viewer's valid CSRF token, so every post reaches
its handler's own validation: a visitor's (log in, sign up, the Flattr
button), alice's (settings, flattring by URL, undoing a flattr, offering,
editing and deleting things) and the operator's (top-ups, domain blocks, dead
letters), with fields of any text, urlencoded or multipart, as Hypothesis
tries them. Every table is read before and after each post (`rows`, shared
with the API's fuzz). Addresses point only
at this instance or at a closed local port, never at a host to look up.
Bounded in examples, it stays in the default suite.
"""

from dataclasses import dataclass
from urllib.parse import quote

import aiohttp
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select, update
from test_api_fuzz import AMOUNTS, IDS, TEXT, Shop, open_shop, rows, url_strategy

from federation.intents import IntentError, parse_home
from federation_harness import Federation, Node
from server.models import User, WebSession
from server.web.passwords import hash_password
from server.web.rendering import ANONYMOUS_COOKIE
from server.web.sessions import COOKIE, open_session
from settlement import ledger

PASSWORD = "correct horse"
#: A token of the shape `secrets.token_urlsafe` gives, so the page takes it as a visitor's own CSRF cookie.
VISITOR_CSRF = "v" * 43
FIELD_TEXT = TEXT | st.sampled_from(["", " ", "alice", "root_op", PASSWORD, "a\x00b", "\x00", "١٢", "5.00", "-1", "on"])


@dataclass(frozen=True)
class Viewer:
    """Whoever posts: the cookies a browser of theirs would send and the CSRF token its pages carry."""

    cookies: str
    csrf: str


@dataclass(frozen=True, repr=False)
class Site:
    """The API fuzz's instance, with a password for everyone and a browser session for alice and the operator."""

    shop: Shop
    visitor: Viewer
    alice: Viewer
    operator: Viewer

    @property
    def node(self) -> Node:
        return self.shop.node


async def signed_in(node: Node, username: str) -> Viewer:
    """A browser session of `username`, opened as the login form opens one."""
    async with node.live.sessions() as session, session.begin():
        token = await open_session(session, username, node.live.clock())
    async with node.live.sessions() as session:
        csrf = await session.scalar(select(WebSession.csrf_token).where(WebSession.username == username))
    return Viewer(f"{COOKIE}={token}", csrf)


@pytest.fixture
async def site(federation: Federation) -> Site:
    shop = await open_shop(federation)
    async with shop.node.live.sessions() as session, session.begin():
        await session.execute(update(User).values(password_hash=await hash_password(PASSWORD)))
    return Site(shop, Viewer(f"{ANONYMOUS_COOKIE}={VISITOR_CSRF}", VISITOR_CSRF),
                await signed_in(shop.node, "alice"), await signed_in(shop.node, "root_op"))


async def post(site: Site, viewer: Viewer, path: str, fields: dict[str, str], multipart: bool) -> tuple[int, str, str]:
    """The form as a browser posts it, with the viewer's cookies and CSRF token: (status, media type, body)."""
    form = aiohttp.FormData({"csrf": viewer.csrf, **fields}, default_to_multipart=multipart)
    async with aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar()) as http, http.post(
            site.node.base_url + path, data=form, allow_redirects=False,
            headers={"Cookie": viewer.cookies, "Accept": "text/html"}) as response:
        return response.status, response.content_type, await response.text()


async def check(site: Site, viewer: Viewer, path: str, fields: dict[str, str], multipart: bool) -> None:
    """The property: no 5xx; a refusal is a page and leaves every row as it was; the books balance."""
    before = await rows(site.node)
    status, media_type, body = await post(site, viewer, path, fields, multipart)
    assert status < 500, body[:300]
    if status >= 400:
        assert media_type == "text/html" and body.lstrip().lower().startswith("<!doctype html>"), body[:300]
        assert await rows(site.node) == before
    async with site.node.live.sessions() as session:
        assert await ledger.check(session) == []


def fields_of(names: dict[str, st.SearchStrategy[str]]) -> st.SearchStrategy[dict[str, str]]:
    """Any of the form's fields, each of any text: a browser may leave one out, a client anything."""
    return st.fixed_dictionaries({}, optional=names)


def homes(site: Site) -> st.SearchStrategy[str]:
    """Where a donor may say they live: here, or text that names no host (so none is looked up).

    Not a server that is down: the page then answers 502 and asks to try again, as a gateway should.
    """
    return (st.sampled_from([f"alice@{site.node.host}", f"@alice@{site.node.host}", site.node.host])
            | FIELD_TEXT.filter(lambda text: not _is_home(text)))


def _is_home(text: str) -> bool:
    try:
        parse_home(text)
    except IntentError:
        return False
    return True


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
async def test_no_visitor_form_gets_a_5xx_and_a_refused_one_changes_nothing(site: Site, data: st.DataObject) -> None:
    urls = url_strategy(site.shop)
    password = data.draw(FIELD_TEXT | st.just(PASSWORD) | st.text(min_size=10, max_size=12), label="password")
    path, fields = data.draw(st.sampled_from([
        ("/login", fields_of({"username": FIELD_TEXT, "next": FIELD_TEXT | st.just("/settings")})),
        ("/signup", fields_of({"username": FIELD_TEXT | st.from_regex(r"[a-z0-9_]{1,30}", fullmatch=True),
                               "display_name": FIELD_TEXT, "confirm": FIELD_TEXT | st.just(password)})),
        ("/flattr-button", fields_of({"url": urls | FIELD_TEXT, "home": homes(site)})),
    ]).flatmap(lambda form: st.tuples(st.just(form[0]), form[1])), label="form")
    await check(site, site.visitor, path, {**fields, "password": password}, data.draw(st.booleans(), label="multipart"))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
async def test_no_form_of_a_donor_gets_a_5xx_and_a_refused_one_changes_nothing(site: Site,
                                                                             data: st.DataObject) -> None:
    urls = url_strategy(site.shop)
    link_id = quote(data.draw(st.just("1") | IDS, label="link id"), safe="")
    flattr_id = quote(data.draw(st.just("1") | IDS, label="flattr id"), safe="")
    token = quote(data.draw(st.sampled_from(site.shop.tokens) | TEXT, label="thing token"), safe="")
    thing = fields_of({"url": urls | FIELD_TEXT, "title": FIELD_TEXT, "text": FIELD_TEXT})
    path, fields = data.draw(st.sampled_from([
        ("/settings/budget", fields_of({"amount": AMOUNTS | FIELD_TEXT})),
        ("/settings/like", fields_of({"also_send_like": FIELD_TEXT})),
        ("/settings/link-code", fields_of({"back": st.sampled_from(["/settings", "/claim"]) | FIELD_TEXT})),
        (f"/settings/links/{link_id}/unlink", fields_of({})),
        (f"/settings/links/{link_id}/boosts", fields_of({"auto_flattr_boosts": st.just("on") | FIELD_TEXT})),
        ("/settings/aliases", fields_of({"aliases": urls | FIELD_TEXT | st.lists(urls, max_size=11).map(" ".join)})),
        ("/flattr", fields_of({"url": urls | FIELD_TEXT})),
        (f"/flattrs/{flattr_id}/undo", fields_of({})),
        ("/things/new", thing),
        (f"/things/{token}/edit", thing),
        (f"/things/{token}/delete", fields_of({})),
    ]).flatmap(lambda form: st.tuples(st.just(form[0]), form[1])), label="form")
    await check(site, site.alice, path, fields, data.draw(st.booleans(), label="multipart"))


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
async def test_no_form_of_the_operator_gets_a_5xx_and_a_refused_one_changes_nothing(site: Site,
                                                                                  data: st.DataObject) -> None:
    domains = st.sampled_from(["spam.example", "Spam.Example.", "https://spam.example/x", "spam.example:8443",
                               "[::1]:80", "localhost", "a" * 300 + ".example"]) | FIELD_TEXT
    path, fields = data.draw(st.sampled_from([
        ("/admin/topups", fields_of({"username": st.sampled_from(["alice", "bob", "nobody"]) | FIELD_TEXT,
                                     "amount": AMOUNTS | FIELD_TEXT, "reference": FIELD_TEXT})),
        ("/admin/blocks", fields_of({"domain": domains, "reason": FIELD_TEXT})),
        ("/admin/blocks/remove", fields_of({"domain": domains})),
        (f"/admin/deliveries/{quote(data.draw(IDS, label='delivery id'), safe='')}/retry", fields_of({})),
    ]).flatmap(lambda form: st.tuples(st.just(form[0]), form[1])), label="form")
    await check(site, site.operator, path, fields, data.draw(st.booleans(), label="multipart"))
