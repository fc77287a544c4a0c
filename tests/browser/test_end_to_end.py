"""The issue's whole story in Chromium, across two instances: sign up, top up through an operator, flattr a post
on another instance, see what it is worth, close the period and see the earnings chart on the creator's page.

Everything a person does goes through the pages, found by their labels and
roles; only the creator's note is made through the JSON API, as a client app
would, and the clocks are moved forward by the test to end the period.
"""

import re
from collections.abc import Awaitable, Callable

from people import Person
from playwright.async_api import expect
from sqlalchemy import update

from agreement_helper import agree
from api_client import Api, account, assert_ledger_balances
from federation_harness import Federation, Node
from server.models import User
from server.web.passwords import hash_password

People = Callable[..., Awaitable[Person]]
PASSWORD = "a long enough password"


async def with_password(node: Node, name: str, *, admin: bool = False) -> str:
    """An account made by the operator's commands (`mecene user add`, `mecene user password`); its API token."""
    api = await account(node, name, admin=admin)
    async with node.live.sessions() as session, session.begin():
        await session.execute(update(User).where(User.username == name).values(
            password_hash=await hash_password(PASSWORD)))
    assert api.token is not None
    return api.token


async def wait_for_close(olga: Person, node: Node, period: str) -> None:
    """The operator's periods page, reloaded until the period's row says closed."""
    await olga.visit(node, "/admin/periods")
    row = olga.page.get_by_role("row", name=re.compile(rf"^{period}\b"))
    for _ in range(60):
        if "closed" in (await row.inner_text() if await row.count() else ""):
            break
        await olga.page.wait_for_timeout(500)
        await olga.page.reload()
    await expect(row).to_contain_text("closed")
    await olga.shot("period-closed")


async def test_sign_up_top_up_flattr_close_and_see_the_chart(federation: Federation, people: People) -> None:
    a, b = await federation.start("a"), await federation.start("b")
    await agree(a, b)
    await with_password(a, "olga", admin=True)
    carla_app = Api(b, await with_password(b, "carla"))
    posted = await carla_app.call("POST", "/api/v1/things", {"text": "Carla's first note"})
    assert posted.status == 201, posted.body
    note = posted.body["object_id"]

    dora, olga, carla = await people("dora"), await people("olga"), await people("carla")
    await dora.sign_up(a, "dora", PASSWORD)
    await olga.log_in(a, "olga", PASSWORD)
    await olga.top_up(a, "dora", "20.00", "transfer-42")

    await dora.visit(a, "/settings")
    await dora.page.get_by_label(re.compile(r"^Amount in")).fill("10.00")
    await dora.page.get_by_role("button", name="Save budget").click()
    await dora.shot("budget")
    await dora.page.get_by_role("link", name="Flattr a URL").click()
    await dora.page.get_by_label("Address").fill(note)
    await dora.page.get_by_role("button", name="Flattr it").click()
    await dora.shot("flattred")
    await dora.visit(a, "/")
    await expect(dora.page.get_by_role("row", name="Carla's first note")).to_contain_text("10.00 EUR")
    await dora.shot("dashboard")
    period = a.live.current_period().label

    for node in (a, b):
        node.clock.advance(days=40)
    await olga.log_in(a, "olga", PASSWORD)
    await wait_for_close(olga, a, period)

    await carla.log_in(b, "carla", PASSWORD)
    await carla.visit(b, "/users/carla")
    chart = carla.page.get_by_role("img", name=re.compile("Earnings per period"))
    for _ in range(40):
        if await chart.count():
            break
        await carla.page.wait_for_timeout(500)
        await carla.page.reload()
    await expect(chart).to_be_visible()
    await expect(carla.page.get_by_role("region", name="Your earnings")).to_contain_text("10.00")
    await carla.shot("earnings-chart")
    await assert_ledger_balances(a)
    await assert_ledger_balances(b)
