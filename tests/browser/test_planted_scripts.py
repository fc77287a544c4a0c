"""In Chromium: what another server or another person planted in a page never runs, and the pages still work.

A remote Payout's thing addresses, a display name and a thing's title carry
scripts; the creator opens their page and dashboard, clicks what looks like
a link, and nothing runs. A script that got into the page all the same (put
there through the DevTools protocol, as a template's mistake would) is
stopped by the Content-Security-Policy, while the stylesheet, the forms and
the bookmarklet, which runs on other sites' pages, keep working.
"""

from collections.abc import Awaitable, Callable
from urllib.parse import quote

from people import Person
from playwright.async_api import ConsoleMessage, Dialog, expect
from sqlalchemy import update

from api_client import account
from federation_harness import Federation, Node
from server.models import User
from server.web.passwords import hash_password
from settlement.models import Earning

People = Callable[..., Awaitable[Person]]
PASSWORD = "bob's long password"
PLANTED_ADDRESSES = ["javascript:alert('uri')", " JavaScript:alert('spaced')", "java\tscript:alert('tab')",
                     "data:text/html,<script>alert('data')</script>"]
PLANTED_NAME = "<script>alert('name')</script>Bob"
PLANTED_TITLE = "<img src=x onerror=alert('title')>"


async def planted(node: Node) -> None:
    bob = await account(node, "bob")
    thing = await bob.call("POST", "/api/v1/things", {"url": "https://bob.example/song", "title": PLANTED_TITLE})
    assert thing.status == 201
    async with node.live.sessions() as session, session.begin():
        await session.execute(update(User).where(User.username == "bob").values(
            password_hash=await hash_password(PASSWORD), display_name=PLANTED_NAME))
        session.add_all([Earning(creator="bob", period="2026-01", thing_uri=uri, source="evil.example", amount=100,
                                 currency=node.live.settings.instance.currency, flattrs=1)
                         for uri in PLANTED_ADDRESSES])


async def test_planted_scripts_do_not_run_and_the_pages_still_work(federation: Federation, people: People) -> None:
    node = await federation.start("a")
    await planted(node)
    bob = await people("bob")
    dialogs: list[str] = []
    blocked: list[str] = []

    async def dismiss(dialog: Dialog) -> None:
        dialogs.append(dialog.message)
        await dialog.dismiss()

    def console(message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text:
            blocked.append(message.text)

    bob.page.on("dialog", dismiss)
    bob.page.on("console", console)
    await bob.log_in(node, "bob", PASSWORD)
    for path in ("/", "/settings", "/flattr", "/claim", "/users/bob"):
        await bob.visit(node, path)
        assert await bob.page.evaluate("getComputedStyle(document.body).fontFamily") != "", path
        assert await bob.page.evaluate("document.styleSheets[0].cssRules.length") > 0, path
    await bob.shot("creator-page")
    assert blocked == [], "a page of ours needs something its own policy forbids"

    await expect(bob.page.get_by_role("heading", level=1)).to_have_text(PLANTED_NAME)
    await expect(bob.page.get_by_role("heading", name=PLANTED_TITLE)).to_be_visible()
    earnings = bob.page.locator("table.earnings")
    for address in PLANTED_ADDRESSES:
        await expect(earnings.get_by_role("link", name=address.strip())).to_have_count(0)
        await earnings.get_by_text(address.replace("\t", " ").strip()[:12]).first.click()
    assert bob.page.url == node.base_url + "/users/bob"

    ran = await bob.page.evaluate("""() => {
        const script = document.createElement("script");
        script.textContent = "window.plantedRan = true";
        document.body.append(script);
        const link = document.createElement("a");
        link.href = "javascript:window.plantedLinkRan = true";
        link.textContent = "planted";
        document.body.append(link);
        return window.plantedRan === true;
    }""")
    await bob.page.get_by_role("link", name="planted").click()
    assert not ran and await bob.page.evaluate("window.plantedLinkRan === undefined")
    assert dialogs == [] and len(blocked) >= 2

    bookmarklet = await bob.page.get_by_role("link", name="Flattr this page").get_attribute("href")
    assert bookmarklet is not None and bookmarklet.startswith("javascript:")
    await bob.page.context.route("http://reader.example/**", lambda route: route.fulfill(
        content_type="text/html", body="<!doctype html><title>An article</title><p>Words</p>"))
    await bob.page.goto("http://reader.example/article")
    await bob.page.evaluate(bookmarklet.removeprefix("javascript:"))
    await bob.page.wait_for_url(f"{node.base_url}/flattr?url={quote('http://reader.example/article', safe='')}")
    await expect(bob.page.get_by_role("heading", level=1)).to_be_visible()
    await bob.shot("bookmarklet")
    assert dialogs == []
