"""In Chromium: two operators make an agreement on their /admin/peers pages, one of them on a phone."""

from collections.abc import Awaitable, Callable

from people import Person
from playwright.async_api import expect
from sqlalchemy import select, update

from api_client import account
from federation_harness import Federation, Node, eventually
from server.models import User
from server.web.passwords import hash_password
from settlement.models import Agreement

People = Callable[..., Awaitable[Person]]
PASSWORD = "operator horse battery"


async def operator_of(node: Node, people: People, name: str, **window: int) -> Person:
    await account(node, name, admin=True)
    async with node.live.sessions() as session, session.begin():
        await session.execute(update(User).where(User.username == name).values(
            password_hash=await hash_password(PASSWORD)))
    person = await people(name, **window)
    await person.log_in(node, name, PASSWORD)
    return person


async def in_force(node: Node) -> bool:
    async with node.live.sessions() as session:
        return await session.scalar(select(Agreement.state)) == "in_force"


async def test_an_operator_on_a_phone_proposes_and_the_other_accepts(federation: Federation,
                                                                     people: People) -> None:
    a, b = await federation.start("a"), await federation.start("b")
    olga = await operator_of(a, people, "olga", width=375, height=740)
    await olga.visit(a, "/admin")
    await olga.page.get_by_role("navigation", name="Operator").get_by_role("link", name="Agreements").click()
    await expect(olga.page.get_by_role("heading", level=1)).to_have_text("Agreements")
    proposal = olga.page.get_by_role("form", name="Propose an agreement")
    await proposal.get_by_label("Instance").fill(b.host)
    await proposal.get_by_label("Your credit limit").fill("500.00")
    await proposal.get_by_label("IBAN").fill("DE89 3704 0044 0532 0130 00")
    await proposal.get_by_label("Account holder").fill("Mecene A e.V.")
    await proposal.get_by_role("button", name="Propose").click()
    await expect(olga.page.get_by_role("status")).to_contain_text(f"Proposed to {b.host} in EUR")
    await expect(olga.page.get_by_role("row", name=b.host)).to_contain_text("proposed")
    assert await olga.page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), \
        "the agreements page scrolls sideways on a phone"
    await olga.shot("proposed")

    bert = await operator_of(b, people, "bert")
    await bert.visit(b, "/admin/peers")
    await expect(bert.page.get_by_role("row", name=a.host)).to_contain_text("offered", timeout=10_000)
    accept = bert.page.get_by_role("form", name=f"Accept the offer of {a.host} in EUR")
    await accept.get_by_label("Your credit limit").fill("300.00")
    await accept.get_by_label("Or instructions").fill("PayPal to treasurer@b.example")
    await accept.get_by_role("button", name="Accept").click()
    await expect(bert.page.get_by_role("row", name=a.host)).to_contain_text("in_force")
    await expect(bert.page.get_by_role("row", name=a.host)).to_contain_text("IBAN DE89 3704 0044 0532 0130 00")
    await bert.shot("accepted")

    await eventually(lambda: in_force(a), what="the Accept booked on a")
    await olga.page.reload()
    row = olga.page.get_by_role("row", name=b.host)
    await expect(row).to_contain_text("in_force")
    await expect(row).to_contain_text("PayPal to treasurer@b.example")
    await olga.shot("in-force")
