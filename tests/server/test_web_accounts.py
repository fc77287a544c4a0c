"""Signing up, logging in and out on the web: sessions in cookies, CSRF on every form, nothing changed on refusal."""

from collections.abc import AsyncIterator
from urllib.parse import quote

import pytest
from sqlalchemy import func, select

from federation_harness import Federation, Node
from server.models import User, WebSession
from web_client import Browser


@pytest.fixture
async def node(federation: Federation) -> Node:
    return await federation.start("a")


@pytest.fixture
async def browser(node: Node) -> AsyncIterator[Browser]:
    visitor = Browser(node)
    yield visitor
    await visitor.close()


async def count(node: Node, model: type) -> int:
    async with node.live.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


SIGNUP = {"username": "alice", "display_name": "Alice", "password": "correct horse", "confirm": "correct horse"}


async def test_sign_up_logs_in_and_log_out_ends_the_session(node: Node, browser: Browser) -> None:
    page = await browser.submit("/signup", "/signup", SIGNUP)
    assert page.status == 200 and page.url.endswith("/")
    assert "Signed in as <strong>alice</strong>" in page.html
    async with node.live.sessions() as session:
        stored = await session.scalar(select(User.password_hash).where(User.username == "alice"))
    assert stored is not None and stored.startswith("$argon2id$") and "correct horse" not in stored
    cookie = next(c for c in browser.session.cookie_jar if c.key == "mecene_session")
    assert cookie["httponly"] and cookie["samesite"] == "Lax"

    page = await browser.submit("/", "/logout", {})
    assert page.status == 200 and "Log in" in page.html and "Signed in" not in page.html
    assert await count(node, WebSession) == 0
    replayed = Browser(node)
    replayed.session.cookie_jar.update_cookies({"mecene_session": cookie.value})
    try:
        assert "Signed in" not in (await replayed.get("/")).html
    finally:
        await replayed.close()


async def test_log_in_with_the_password_and_return_where_asked(node: Node, browser: Browser) -> None:
    await browser.submit("/signup", "/signup", SIGNUP)
    await browser.submit("/", "/logout", {})
    page = await browser.submit("/login", "/login", {"username": "alice", "password": "correct horse",
                                                     "next": "/signup"})
    assert page.url.endswith("/signup") and "Signed in as <strong>alice</strong>" in page.html


@pytest.mark.parametrize("target", ["//evil.example/", "https://evil.example/", "/\\evil.example"])
async def test_login_never_sends_anyone_to_another_site(node: Node, browser: Browser, target: str) -> None:
    await browser.submit("/signup", "/signup", SIGNUP)
    page = await browser.submit("/login", "/login", {"username": "alice", "password": "correct horse",
                                                     "next": target})
    assert page.url == node.base_url + "/"


OFF_SITE = ["/\t/evil.example/x", "/\n/evil.example/x", "/\r/evil.example/x", "/\x00/evil.example",
            "/\x1f/evil.example", "/\x7f/evil.example", "/ /evil.example", "//evil.example", "///evil.example",
            "/\\evil.example", "\\\\evil.example", "/x\\..\\\\evil.example", "\\/evil.example",
            "https://evil.example/", "HTTPS:evil.example", "javascript:alert(1)", " //evil.example",
            "evil.example", "", "?next=/", "#top"]
ON_SITE = ["/", "/settings", "/users/bob?x=1#flattr", "/flattr?url=https%3A%2F%2Fa.example%2F%2Fb",
           "/claim/%2F%2Fevil.example"]


@pytest.mark.parametrize(("target", "landing"), [(target, "/") for target in OFF_SITE]
                         + [(target, target) for target in ON_SITE])
async def test_login_goes_only_to_a_path_of_this_site(node: Node, browser: Browser, target: str,
                                                      landing: str) -> None:
    await browser.submit("/signup", "/signup", SIGNUP)
    await browser.submit("/", "/logout", {})
    csrf = (await browser.get("/login")).hidden("csrf")
    async with browser.session.post(node.base_url + "/login", allow_redirects=False, data={
            "csrf": csrf, "username": "alice", "password": "correct horse", "next": target}) as answer:
        assert answer.status == 303 and answer.headers["Location"] == landing
    form = await browser.get("/login?next=" + quote(target, safe=""))
    assert form.hidden("next") == landing


async def test_wrong_password_and_unknown_name_get_the_same_answer(node: Node, browser: Browser) -> None:
    await browser.submit("/signup", "/signup", SIGNUP)
    await browser.submit("/", "/logout", {})
    wrong = await browser.submit("/login", "/login", {"username": "alice", "password": "wrong horse!"})
    unknown = await browser.submit("/login", "/login", {"username": "nobody", "password": "wrong horse!"})
    for page in (wrong, unknown):
        assert page.status == 400 and "Wrong username or password." in page.html and "Signed in" not in page.html
    assert await count(node, WebSession) == 0


@pytest.mark.parametrize(("changes", "message"), [
    ({"password": "short", "confirm": "short"}, "at least 10 characters"),
    ({"confirm": "another horse"}, "The two passwords differ."),
    ({"username": "Not Valid!"}, "lower-case letters"),
    ({"username": "flattr"}, "reserved"),
])
async def test_bad_sign_ups_are_refused_and_create_nothing(node: Node, browser: Browser, changes: dict[str, str],
                                                           message: str) -> None:
    users = await count(node, User)
    page = await browser.submit("/signup", "/signup", {**SIGNUP, **changes})
    assert page.status == 400 and message in page.html
    assert await count(node, User) == users and await count(node, WebSession) == 0


async def test_a_taken_username_is_refused(node: Node, browser: Browser) -> None:
    await browser.submit("/signup", "/signup", SIGNUP)
    other = Browser(node)
    try:
        page = await other.submit("/signup", "/signup", SIGNUP)
    finally:
        await other.close()
    assert page.status == 400 and "is taken" in page.html
    assert await count(node, User) == 1 + await _service_users(node)


async def _service_users(node: Node) -> int:
    async with node.live.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(User).where(User.username != "alice")) or 0)


async def test_forms_without_the_right_csrf_token_change_nothing(node: Node, browser: Browser) -> None:
    await browser.get("/signup")
    page = await browser.post("/signup", {**SIGNUP, "csrf": "forged"})
    assert page.status == 403 and "came from another site" in page.html
    assert await count(node, WebSession) == 0
    await browser.submit("/signup", "/signup", SIGNUP)
    page = await browser.post("/logout", {"csrf": "forged"})
    assert page.status == 403 and await count(node, WebSession) == 1


async def test_closed_registrations_refuse_sign_ups(federation: Federation) -> None:
    node = await federation.start("b", MECENE_INSTANCE_OPEN_REGISTRATIONS="false")
    visitor = Browser(node)
    try:
        page = await visitor.get("/signup")
        assert page.status == 403 and "does not take sign-ups" in page.html
    finally:
        await visitor.close()


async def test_repeated_wrong_passwords_lock_the_account_for_a_while(node: Node, browser: Browser) -> None:
    await browser.submit("/signup", "/signup", SIGNUP)
    await browser.submit("/", "/logout", {})
    for _ in range(10):
        wrong = await browser.submit("/login", "/login", {"username": "alice", "password": "wrong horse!"})
        assert wrong.status == 400
    refused = await browser.submit("/login", "/login", {"username": "alice", "password": "correct horse"})
    assert refused.status == 429 and "Too many failed attempts" in refused.html and "Signed in" not in refused.html
    assert await count(node, WebSession) == 0

    node.clock.advance(minutes=16)
    page = await browser.submit("/login", "/login", {"username": "alice", "password": "correct horse"})
    assert page.status == 200 and "Signed in as <strong>alice</strong>" in page.html
