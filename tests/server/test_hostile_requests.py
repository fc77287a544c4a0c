"""Malformed input as a hostile client sends it, byte for byte: a clear 4xx (JSON from the API, a page for a
browser), never a 500 or a dropped connection, and nothing changed.

Several of these were a 500 on PostgreSQL only (NUL in text, a value longer than its column, an id past a
32-bit column): run the suite on both databases.
"""

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from functools import cache
from typing import Any
from urllib.parse import quote

import pytest
from aiohttp import web
from sqlalchemy import func, select
from test_web_dashboard import SIGNUP, signed_up, top_up

from api_client import Api, account
from config.settings import load
from federation.models import LocalActor
from federation_harness import Federation, Node, free_port
from server.app import create_app
from server.models import Thing, User
from server.wiring import build_instance
from settlement.models import Entry
from web_client import Browser

HUGE_IDS = [str(2**63), str(2**64), str(2**31), "-1", "0", "12abc", "١٢"]


@dataclass
class Raw:
    """An answer read off the socket: its status, media type and body."""

    status: int
    content_type: str
    body: bytes

    def json(self) -> Any:
        assert self.content_type == "application/json", (self.status, self.body[:200])
        return json.loads(self.body)

    def is_page(self) -> bool:
        return self.content_type == "text/html" and self.body.lstrip().lower().startswith(b"<!doctype html>")


async def send(node: Node, method: str, path: str, headers: dict[str, bytes] | None = None,
               body: bytes = b"") -> Raw:
    """One request written by hand, so headers may hold any bytes; a dropped connection fails the test."""
    lines = [f"{method} {path} HTTP/1.1".encode(), f"Host: {node.host}".encode(), b"Connection: close",
             f"Content-Length: {len(body)}".encode()]
    lines += [name.encode() + b": " + value for name, value in (headers or {}).items()]
    reader, writer = await asyncio.open_connection("127.0.0.1", node.port)
    try:
        writer.write(b"\r\n".join(lines) + b"\r\n\r\n" + body)
        await writer.drain()
        answer = await asyncio.wait_for(reader.read(), 10)
    finally:
        writer.close()
    assert answer, f"{method} {path}: the connection was dropped without an answer"
    head, _, content = answer.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    fields = {name.lower(): value.strip() for name, _, value in (line.partition(":") for line in header_lines)}
    return Raw(int(status_line.split()[1]), fields.get("content-type", "").split(";")[0], content)


def bearer(api: Api) -> dict[str, bytes]:
    return {"Authorization": f"Bearer {api.token}".encode(), "Content-Type": b"application/json"}


async def count(node: Node, model: type) -> int:
    async with node.live.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def aliases_of(node: Node, username: str) -> list[str]:
    async with node.live.sessions() as session:
        return list(await session.scalar(select(LocalActor.also_known_as).where(LocalActor.username == username)))


@pytest.fixture
async def node(federation: Federation) -> Node:
    return await federation.start("a")


@pytest.fixture
async def alice(node: Node) -> Api:
    return await account(node, "alice")


@pytest.fixture
async def browser(node: Node) -> AsyncIterator[Browser]:
    visitor = await signed_up(node)
    yield visitor
    await visitor.close()


@pytest.mark.parametrize("value", [b"Bearer \xff\xfe", b"Bearer mecene_caf\xe9", b"\xc3\x28 token", b"Bearer \x80"])
async def test_non_utf8_authorization_is_401(node: Node, alice: Api, value: bytes) -> None:
    answer = await send(node, "GET", "/api/v1/me", {"Authorization": value})
    assert (answer.status, answer.json()["error"]) == (401, "unauthorized")


@cache
def served() -> list[tuple[str, str, str]]:
    """(method, path, handler's module) of every route the application serves."""
    app = create_app(build_instance(load(None, {})), run_workers=False)
    return [(route.method, route.resource.canonical, route.handler.__module__) for route in app.router.routes()
            if route.resource is not None]


def page_paths() -> list[str]:
    """Every page a GET reaches without an id in its path, and the button's page for a thing."""
    return sorted({path for method, path, module in served()
                   if method == "GET" and "{" not in path and module.startswith("server.web.")}
                  | {"/flattr-button?url=https://example.org/a"})


@pytest.mark.parametrize("cookie", [b"mecene_session=\xff\xfe", b"mecene_csrf=\xff\xfe", b"mecene_csrf=caf\xe9",
                                    b"mecene_home=\xff\xfe"])
@pytest.mark.parametrize("path", page_paths())
async def test_non_utf8_cookies_still_get_a_page(node: Node, cookie: bytes, path: str) -> None:
    answer = await send(node, "GET", path, {"Cookie": cookie, "Accept": b"text/html"})
    assert answer.status < 500, (answer.status, answer.body[:200])
    assert answer.status in (303, 302) or answer.is_page(), (answer.status, answer.body[:200])


async def test_a_form_posted_with_a_non_utf8_csrf_cookie_is_a_403_page(node: Node) -> None:
    answer = await send(node, "POST", "/login", {"Cookie": b"mecene_csrf=\xff\xfe", "Accept": b"text/html",
                                                  "Content-Type": b"application/x-www-form-urlencoded"},
                        b"csrf=%ED%A0%80&username=alice&password=x")
    assert answer.status == 403 and answer.is_page()


TAKES_NO_BODY = {"/api/v1/links/codes", "/api/v1/withdrawals/{public_id}/cancel"}


def body_routes() -> list[tuple[str, str]]:
    """Every API route that reads a body, its path variables filled in."""
    return sorted((method, path.format(id="1", username="alice", public_id="W1")) for method, path, _ in served()
                  if method in ("POST", "PUT", "PATCH") and path.startswith("/api/") and path not in TAKES_NO_BODY)


@pytest.mark.parametrize(("method", "path"), body_routes())
@pytest.mark.parametrize("body", [b"[" * 60_000, b'{"a":' * 10_000 + b"1" + b"}" * 10_000])
async def test_deeply_nested_json_is_400(node: Node, method: str, path: str, body: bytes) -> None:
    admin = await account(node, "root_op", admin=True)
    answer = await send(node, method, path, bearer(admin), body)
    assert (answer.status, answer.json()["error"]) == (400, "invalid_json")


@pytest.mark.parametrize(("method", "path"), sorted(
    (method, path) for method, path, _ in served() if path.startswith("/api/") and "{id}" in path and method != "HEAD"))
@pytest.mark.parametrize("raw_id", HUGE_IDS)
async def test_ids_no_row_can_have_are_404_in_the_api(node: Node, alice: Api, method: str, path: str,
                                                      raw_id: str) -> None:
    answer = await send(node, method, path.format(id=quote(raw_id)), bearer(alice), b"{}")
    assert (answer.status, answer.json()["error"]) == (404, "not_found")


@pytest.mark.parametrize("path", ["/flattrs/{id}/undo", "/settings/links/{id}/unlink", "/settings/links/{id}/boosts"])
@pytest.mark.parametrize("raw_id", [str(2**63), str(2**64), str(2**31)])
async def test_ids_no_row_can_have_are_404_pages(browser: Browser, path: str, raw_id: str) -> None:
    csrf = (await browser.get("/settings")).hidden("csrf")
    page = await browser.post(path.format(id=raw_id), {"csrf": csrf})
    assert page.status == 404 and "<!doctype html>" in page.html.lower()


URLS_URLLIB_REFUSES = ["http://[::1", "http://[x]/", "https://ex\u2100ample.org/", "https://example.org:99999/",
                       "https://example.org/a\r\nb", "https://example.org/\x00"]


@pytest.mark.parametrize("url", [*URLS_URLLIB_REFUSES, "https://example.org/\ud800"])
async def test_flattring_a_url_urllib_refuses_is_400(node: Node, alice: Api, url: str) -> None:
    answer = await send(node, "POST", "/api/v1/flattrs", bearer(alice), json.dumps({"url": url}).encode())
    assert answer.status == 400, answer.body
    assert answer.json()["error"] in ("invalid_url", "invalid_text", "invalid_json"), answer.body


@pytest.mark.parametrize("url", URLS_URLLIB_REFUSES)
async def test_flattring_a_url_urllib_refuses_is_a_400_page(browser: Browser, url: str) -> None:
    await top_up(browser.node, "10.00")
    await browser.submit("/settings", "/settings/budget", {"amount": "5.00"})
    page = await browser.submit("/flattr", "/flattr", {"url": url})
    assert page.status == 400 and "<!doctype html>" in page.html.lower(), page.html[:300]


@pytest.mark.parametrize("url", URLS_URLLIB_REFUSES)
async def test_a_button_for_a_url_urllib_refuses_is_a_400_page(node: Node, url: str) -> None:
    answer = await send(node, "GET", "/flattr-button?url=" + quote(url, safe=""), {"Accept": b"text/html"})
    assert answer.status == 400 and answer.is_page(), answer.body[:300]


@pytest.mark.parametrize("body", [
    {"url": "http://[::1", "title": "t"},
    {"url": "https://example.org/" + "a" * 2048, "title": "t"},
    {"url": "https://example.org/a\x00", "title": "t"},
    {"url": "https://example.org/a", "title": "a\x00b"},
    {"url": "https://example.org/a", "title": "\ud800"},
    {"url": "https://example.org/a", "title": "t" * 201},
    {"text": "a\x00b"},
    {"text": "\udfff lone"},
    {"text": "x" * 5001},
])
async def test_things_the_database_cannot_store_are_400(node: Node, alice: Api, body: dict[str, str]) -> None:
    answer = await send(node, "POST", "/api/v1/things", bearer(alice), json.dumps(body).encode())
    assert answer.status == 400, answer.body
    assert answer.json()["error"] in ("invalid_url", "invalid_text", "invalid_json", "too_long"), answer.body
    assert await count(node, Thing) == 0


@pytest.mark.parametrize("alias", ["https://example.org/\ud800", "https://example.org/a\x00", "http://[::1",
                                   "https://example.org/users/bob\n", "https://example.org/" + "a" * 2048])
async def test_aliases_the_database_cannot_store_are_400(node: Node, alice: Api, alias: str) -> None:
    answer = await send(node, "PUT", "/api/v1/me/aliases", bearer(alice), json.dumps({"aliases": [alias]}).encode())
    assert answer.status == 400, answer.body
    assert await aliases_of(node, "alice") == []


@pytest.mark.parametrize("alias", ["https://example.org/a%00b", "http://[::1"])
async def test_aliases_typed_in_settings_that_cannot_be_stored_are_a_400_page(browser: Browser, alias: str) -> None:
    page = await browser.submit("/settings", "/settings/aliases", {"aliases": alias.replace("%00", "\x00")})
    assert page.status == 400 and "<!doctype html>" in page.html.lower()
    assert await aliases_of(browser.node, "alice") == []


@pytest.mark.parametrize(("path", "body"), [
    ("/api/v1/admin/users/alice/topups", {"amount": "5.00", "reference": "bank\x00"}),
    ("/api/v1/admin/users/alice/topups", {"amount": "5.00", "reference": "bank\ud800"}),
    ("/api/v1/admin/users/al%00ice/topups", {"amount": "5.00", "reference": "bank-1"}),
    ("/api/v1/admin/users/al%ED%A0%80ice/topups", {"amount": "5.00", "reference": "bank-1"}),
])
async def test_topups_the_database_cannot_store_are_refused(node: Node, alice: Api, path: str,
                                                            body: dict[str, str]) -> None:
    admin = await account(node, "root_op", admin=True)
    answer = await send(node, "POST", path, bearer(admin), json.dumps(body).encode())
    assert answer.status in (400, 404), answer.body
    assert set(answer.json()) == {"error", "reason"}
    assert await count(node, Entry) == 0


@pytest.mark.parametrize("display_name", ["A\x00lice", "A" * 201])
async def test_display_names_the_database_cannot_store_are_a_400_page(node: Node, display_name: str) -> None:
    visitor = Browser(node)
    try:
        page = await visitor.submit("/signup", "/signup", {**SIGNUP, "display_name": display_name})
    finally:
        await visitor.close()
    assert page.status == 400 and "display name" in page.html
    assert await count(node, User) == 0


@pytest.fixture
async def hostile_home() -> AsyncIterator[dict[str, str]]:
    """A home instance whose WebFinger answer advertises whatever flattr intent template the test puts in it."""
    advertised = {"template": ""}

    async def webfinger(request: web.Request) -> web.Response:
        link = {"rel": "https://w3id.org/mecene#Flattr", "template": advertised["template"]}
        return web.json_response({"subject": request.query.get("resource"), "links": [link]})

    app = web.Application()
    app.router.add_get("/.well-known/webfinger", webfinger)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    advertised["host"] = f"127.0.0.1:{port}"
    yield advertised
    await runner.cleanup()


@pytest.mark.parametrize("template", [
    "http://{host}/flattr?url={{uri}}\r\nSet-Cookie: stolen=1",
    "http://{host}/flattr?url={{uri}}\nX-Evil: 1",
    "http://{host}/flattr\x00?url={{uri}}",
    "http://{host}/\ud800?url={{uri}}",
    "http://[::1/flattr?url={{uri}}",
])
async def test_a_hostile_flattr_intent_template_is_refused_with_a_page(node: Node, hostile_home: dict[str, str],
                                                                       template: str) -> None:
    hostile_home["template"] = template.format(host=hostile_home["host"])
    visitor = Browser(node)
    try:
        form = await visitor.get("/flattr-button?url=https%3A%2F%2Fexample.org%2Fa")
        async with visitor.session.post(node.base_url + "/flattr-button", allow_redirects=False, data={
                "csrf": form.hidden("csrf"), "url": "https://example.org/a", "home": f"zoe@{hostile_home['host']}"},
                headers={"Accept": "text/html"}) as response:
            html = await response.text()
            assert response.status == 400 and "Location" not in response.headers, html[:300]
            assert "<!doctype html>" in html.lower() and "stolen" not in response.headers.get("Set-Cookie", "")
    finally:
        await visitor.close()


UNSTORABLE_SEGMENTS = ["al%00ice", "%00"]


@pytest.mark.parametrize("path", ["/users/{}", "/users/{}/followers", "/users/{}/following", "/users/{}/outbox",
                                  "/things/{}"])
@pytest.mark.parametrize("accept", [b"application/activity+json", b"text/html"])
@pytest.mark.parametrize("segment", UNSTORABLE_SEGMENTS)
async def test_a_path_segment_no_database_stores_is_as_unknown_as_any_other(node: Node, alice: Api, path: str,
                                                                            accept: bytes, segment: str) -> None:
    unknown = await send(node, "GET", path.format("nobody"), {"Accept": accept})
    answer = await send(node, "GET", path.format(segment), {"Accept": accept})
    assert answer.status == unknown.status == 404 and answer.content_type == unknown.content_type, answer.body[:200]
    assert answer.is_page() if answer.content_type == "text/html" else answer.json()["error"] == "not_found"


@pytest.mark.parametrize("segment", UNSTORABLE_SEGMENTS)
async def test_an_inbox_no_database_could_store_the_name_of_is_404(node: Node, segment: str) -> None:
    answer = await send(node, "POST", f"/users/{segment}/inbox", {"Content-Type": b"application/activity+json"},
                        b"{}")
    assert (answer.status, answer.json()["error"]) == (404, "not_found")


@pytest.mark.parametrize("resource", ["acct:al\x00ice@{host}", "http://{host}/users/al\x00ice", "acct:\x00@{host}"])
async def test_webfinger_for_a_name_no_database_stores_is_404(node: Node, alice: Api, resource: str) -> None:
    query = quote(resource.format(host=node.host), safe="")
    answer = await send(node, "GET", f"/.well-known/webfinger?resource={query}")
    assert (answer.status, answer.json()["error"]) == (404, "not_found"), answer.body


FORM = b"application/x-www-form-urlencoded"
MULTIPART = b"multipart/form-data; boundary=b"
#: A visitor's own CSRF cookie, of the shape the site issues: sent as the form's token too, it is the right one.
VISITOR_CSRF = b"a" * 43
VISITOR = {"Accept": b"text/html", "Cookie": b"mecene_csrf=" + VISITOR_CSRF}


def part(name: bytes | None, value: bytes, headers: bytes = b"") -> bytes:
    disposition = b"form-data" + (b'; name="' + name + b'"' if name is not None else b"")
    return b"--b\r\nContent-Disposition: " + disposition + b"\r\n" + headers + b"\r\n" + value + b"\r\n"


@pytest.mark.parametrize(("content_type", "fields"), [
    (FORM, b"username=al\xffice&password=x"),
    (FORM + b"; charset=no-such-charset", b"username=alice&password=x"),
    (FORM + b"; charset=unicode_escape", b"username=al\\ud800ice&password=x"),
    (MULTIPART, part(b"username", b"al\xffice") + b"--b--\r\n"),
    (MULTIPART, part(None, b"alice") + b"--b--\r\n"),
    (MULTIPART, part(b"username", b"al\\udc80ice", b"Content-Type: text/plain; charset=unicode_escape\r\n")
     + b"--b--\r\n"),
])
async def test_a_form_that_is_no_text_is_a_400_page(node: Node, content_type: bytes, fields: bytes) -> None:
    """The visitor's CSRF cookie and token are right, so only the form's text can be what is refused."""
    body = (b"csrf=" + VISITOR_CSRF + b"&" + fields if content_type.startswith(FORM)
            else part(b"csrf", VISITOR_CSRF) + fields)
    answer = await send(node, "POST", "/signup", {**VISITOR, "Content-Type": content_type}, body)
    assert answer.status == 400 and answer.is_page(), (answer.status, answer.body[:200])
    assert await count(node, User) == 0


@pytest.mark.parametrize("username", ["al\x00ice", "\x00"])
async def test_logging_in_as_a_name_no_database_stores_is_a_wrong_password(node: Node, username: str) -> None:
    visitor = Browser(node)
    try:
        page = await visitor.submit("/login", "/login", {"username": username, "password": "correct horse"})
    finally:
        await visitor.close()
    assert page.status == 400 and "Wrong username or password." in page.html


@pytest.mark.parametrize(("method", "path"), [("GET", "/no/such/page"), ("POST", "/flattrs//undo"),
                                              ("POST", "/admin/deliveries//retry"), ("PUT", "/settings/budget")])
async def test_an_address_no_page_serves_is_a_page_for_a_browser(node: Node, method: str, path: str) -> None:
    answer = await send(node, method, path, {"Accept": b"text/html"})
    assert answer.status in (404, 405) and answer.is_page(), (answer.status, answer.body[:200])


@pytest.mark.parametrize(("path", "accept"), [("/api/v1/nothing", b"text/html"), ("/no/such/page", b"application/json"),
                                              ("/no/such/page", b"*/*")])
async def test_an_address_nothing_serves_is_json_for_a_program(node: Node, path: str, accept: bytes) -> None:
    answer = await send(node, "GET", path, {"Accept": accept})
    assert (answer.status, answer.json()["error"]) == (404, "not_found")


async def test_a_form_of_more_fields_than_the_site_reads_is_a_413_page(node: Node) -> None:
    answer = await send(node, "POST", "/signup", {**VISITOR, "Content-Type": FORM},
                        b"csrf=" + VISITOR_CSRF + b"&a=1" * 2000)
    assert answer.status == 413 and answer.is_page(), (answer.status, answer.body[:200])
    assert await count(node, User) == 0
