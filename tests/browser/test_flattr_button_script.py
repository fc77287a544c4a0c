"""The script variant of the Flattr button in Chromium, on a blog of its own: a typo is never remembered, the
right home is, the donor confirms on their home instance what the button showed, and Alt+click asks again
without Chromium downloading the link.
"""

from collections.abc import AsyncIterator, Awaitable, Callable
from urllib.parse import quote

import pytest
from aiohttp import web
from people import Person
from playwright.async_api import Dialog, Download, expect
from sqlalchemy import update

from api_client import account
from federation_harness import Federation, Node, free_port
from server.models import User
from server.web.passwords import hash_password

People = Callable[..., Awaitable[Person]]
PASSWORD = "a long enough password"


@pytest.fixture
async def blog() -> AsyncIterator[tuple[str, list[str]]]:
    """A site on another origin whose page carries the snippet; its HTML is set by the test."""
    page: list[str] = [""]
    app = web.Application()

    async def serve(_: web.Request) -> web.Response:
        return web.Response(text=page[0], content_type="text/html")

    app.router.add_get("/post", serve)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        yield f"http://127.0.0.1:{port}/post", page
    finally:
        await runner.cleanup()


async def with_money(node: Node, name: str) -> None:
    """An account with a password, 10.00 in its wallet and a budget of 4.00, made as an operator would."""
    api = await account(node, name)
    async with node.live.sessions() as session, session.begin():
        await session.execute(update(User).where(User.username == name).values(
            password_hash=await hash_password(PASSWORD)))
    operator = await account(node, f"op{name}", admin=True)
    assert (await operator.call("POST", f"/api/v1/admin/users/{name}/topups", {"amount": "10.00"})).status == 201
    assert (await api.call("PUT", "/api/v1/me/budget", {"amount": "4.00"})).status == 200


async def test_the_script_button_checks_the_home_before_remembering_it_and_alt_click_asks_again(
        federation: Federation, people: People, blog: tuple[str, list[str]]) -> None:
    a, b = await federation.start("a"), await federation.start("b")
    bob = await account(a, "bob")
    thing = (await bob.call("POST", "/api/v1/things", {"text": "A harbour song"})).body["object_id"]
    await with_money(b, "dora")
    blog_url, html = blog
    button = f"{a.base_url}/flattr-button?url={quote(thing, safe='')}"
    html[0] = (f'<!doctype html><title>A blog</title><h1>A post</h1><a class="mecene-flattr" href="{button}">'
               f'Flattr this</a><script async src="{a.base_url}/static/button.js"></script>')

    dora = await people("dora")
    await dora.log_in(b, "dora", PASSWORD)
    answers = [f"nobody@{b.host}", f"dora@{b.host}", f"dora@{b.host}"]
    prompts: list[str] = []
    downloads: list[Download] = []

    async def answer(dialog: Dialog) -> None:
        prompts.append(dialog.default_value)
        await dialog.accept(answers[len(prompts) - 1])

    dora.page.on("dialog", answer)
    dora.page.on("download", lambda download: downloads.append(download))

    async def press(alt: bool = False) -> None:
        await dora.page.goto(blog_url)
        flattr = dora.page.get_by_role("button", name="Flattr this")
        await expect(flattr).to_have_attribute("data-mecene-href", button)
        await flattr.click(modifiers=["Alt"] if alt else None)
        await dora.page.wait_for_url(f"{a.base_url}/flattr-button?**")

    async def remembered() -> str | None:
        await dora.page.goto(blog_url)
        stored: str | None = await dora.page.evaluate("window.localStorage.getItem('mecene-home')")
        return stored

    await press()
    await expect(dora.page.get_by_label("Your account or your Mecene instance")).to_have_value(f"nobody@{b.host}")
    await dora.shot("typo-on-the-button-page")
    assert await remembered() is None

    await press()
    assert await remembered() == f"dora@{b.host}"
    await press()
    await dora.page.get_by_role("button", name="Continue to my instance").click()
    await dora.page.wait_for_url(f"{b.base_url}/flattr?url=**")
    await expect(dora.page.get_by_role("heading", level=1)).to_have_text("Flattr “A harbour song”")
    await expect(dora.page.get_by_text(f"@bob@{a.host}")).to_be_visible()
    await expect(dora.page.locator("#value")).to_contain_text("one flattr is worth 4.00 EUR now")
    await dora.shot("confirm")
    await dora.page.get_by_role("button", name="Flattr it").click()
    await expect(dora.page.get_by_role("status")).to_contain_text("You flattred “A harbour song”")
    assert prompts == ["", ""]

    await press(alt=True)
    assert prompts == ["", "", f"dora@{b.host}"]
    await dora.page.get_by_role("button", name="Continue to my instance").click()
    await expect(dora.page.get_by_role("status")).to_contain_text("You already flattred it this period")
    await expect(dora.page.get_by_role("button", name="Flattr it")).to_have_count(0)
    await dora.shot("already-flattred")
    assert downloads == []
