"""Issue 18 in Chromium: a creator offers a thing from their page, a donor flattrs it from the thing's page, the
creator sees who did, then edits the thing and deletes it.

The two accounts and the donor's money are set up as the operator's commands
and the API would; everything after is done through the pages, found by
their labels and roles.
"""

import re
from collections.abc import Awaitable, Callable

from people import Person
from playwright.async_api import expect
from sqlalchemy import update

from api_client import account, assert_ledger_balances
from federation_harness import Federation, Node
from server.models import User
from server.web.passwords import hash_password

People = Callable[..., Awaitable[Person]]
PASSWORD = "a long enough password"


async def with_password(node: Node, name: str) -> None:
    async with node.live.sessions() as session, session.begin():
        await session.execute(update(User).where(User.username == name).values(
            password_hash=await hash_password(PASSWORD)))


async def fits_a_phone(person: Person) -> None:
    """At 320 px wide the page scrolls only down, never sideways."""
    await person.page.set_viewport_size({"width": 320, "height": 700})
    widths = await person.page.evaluate("[document.documentElement.scrollWidth, document.documentElement.clientWidth]")
    assert widths[0] <= widths[1], widths
    await person.shot("phone")
    await person.page.set_viewport_size({"width": 1100, "height": 800})


async def test_a_creator_offers_a_thing_sees_it_flattred_edits_and_deletes_it(federation: Federation,
                                                                              people: People) -> None:
    node = await federation.start("a")
    operator, dora_app = await account(node, "op", admin=True), await account(node, "dora")
    await account(node, "bob")
    assert (await operator.call("POST", "/api/v1/admin/users/dora/topups", {"amount": "10.00"})).status == 201
    assert (await dora_app.call("PUT", "/api/v1/me/budget", {"amount": "4.00"})).status == 200
    for name in ("bob", "dora"):
        await with_password(node, name)
    bob, dora = await people("bob"), await people("dora")

    await bob.log_in(node, "bob", PASSWORD)
    await bob.page.get_by_role("link", name="My page").click()
    await bob.page.get_by_role("link", name="Offer your first thing").click()
    await bob.page.get_by_label("Web address").fill("https://bob.example/song")
    await bob.page.get_by_role("button", name="Offer it").click()
    await expect(bob.page.get_by_role("alert")).to_contain_text("A thing with a URL needs a title.")
    await expect(bob.page.get_by_label("Web address")).to_have_value("https://bob.example/song")
    await fits_a_phone(bob)
    await bob.page.get_by_label("Title", exact=True).fill("A song")
    await bob.page.get_by_label("Text", exact=True).fill("Recorded live\nin one take")
    await bob.page.get_by_role("button", name="Offer it").click()
    await expect(bob.page.get_by_role("heading", level=1)).to_have_text("A song")
    await expect(bob.page.get_by_role("status")).to_contain_text("You offered “A song”.")
    await bob.shot("offered")
    thing_page = bob.page.url
    assert re.fullmatch(rf"{node.base_url}/things/[\w-]+", thing_page), thing_page

    await dora.log_in(node, "dora", PASSWORD)
    await dora.page.goto(thing_page)
    await expect(dora.page.get_by_role("link", name="bob", exact=True)).to_have_attribute("href", "/users/bob")
    await dora.page.get_by_role("link", name="Flattr this", exact=True).click()
    await dora.page.get_by_role("link", name="Flattr it from your account here").click()
    await dora.page.get_by_role("button", name="Flattr it").click()
    await expect(dora.page.get_by_role("status")).to_contain_text("You flattred “A song” by @bob@")
    await dora.shot("flattred")

    period = node.live.current_period().label
    await bob.page.reload()
    flattred = bob.page.get_by_role("region", name=f"Flattred in {period}")
    await expect(flattred).to_contain_text(f"1 flattr in {period}.")
    await expect(flattred.get_by_role("link", name=f"@dora@{node.host}")).to_be_visible()
    await fits_a_phone(bob)

    await bob.page.get_by_role("link", name="Edit", exact=True).click()
    await bob.page.get_by_label("Title", exact=True).fill("A better song")
    await bob.page.get_by_role("button", name="Save changes").click()
    await expect(bob.page.get_by_role("heading", level=1)).to_have_text("A better song")
    await expect(bob.page.get_by_role("status")).to_contain_text("Saved “A better song”.")
    await expect(bob.page.get_by_role("region", name=f"Flattred in {period}")).to_contain_text(f"@dora@{node.host}")
    await bob.shot("edited")

    await bob.page.get_by_role("link", name="Delete", exact=True).click()
    await expect(bob.page.get_by_role("heading", level=1)).to_have_text("Delete “A better song”?")
    await bob.page.get_by_role("button", name="Delete it").click()
    await expect(bob.page.get_by_role("status")).to_contain_text("You deleted “A better song”.")
    await expect(bob.page.get_by_text("You offer nothing yet.")).to_be_visible()
    await bob.shot("deleted")
    await dora.page.goto(thing_page)
    await expect(dora.page.get_by_role("heading", level=1)).to_have_text("This thing was deleted")
    await dora.shot("gone")
    await assert_ledger_balances(node)
