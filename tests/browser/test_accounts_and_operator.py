"""In Chromium: signing up, logging out and in, and an operator crediting a donor's wallet from the operator pages."""

from collections.abc import Awaitable, Callable
from urllib.parse import quote

from people import Person
from playwright.async_api import Route, expect
from sqlalchemy import update

from api_client import account, assert_ledger_balances
from federation_harness import Federation, Node
from server.models import User
from server.web.passwords import hash_password
from settlement import wallets

People = Callable[..., Awaitable[Person]]
OPERATOR_PASSWORD = "operator horse battery"


async def operator_account(node: Node, name: str = "olga") -> None:
    """What `mecene user add NAME --admin` and `mecene user password NAME` leave in the database."""
    await account(node, name, admin=True)
    async with node.live.sessions() as session, session.begin():
        await session.execute(update(User).where(User.username == name).values(
            password_hash=await hash_password(OPERATOR_PASSWORD)))


async def test_sign_up_log_out_and_log_in_again(federation: Federation, people: People) -> None:
    node = await federation.start("a")
    dora = await people("dora")
    await dora.sign_up(node, "dora", "dora's long password")
    await expect(dora.page.get_by_role("heading", level=1)).to_have_text("Hello, dora")
    await dora.log_out()
    await dora.visit(node, "/login")
    await dora.page.get_by_label("Username").fill("dora")
    await dora.page.get_by_label("Password", exact=True).fill("not her password")
    await dora.page.get_by_role("button", name="Log in").click()
    await expect(dora.page.get_by_role("alert")).to_have_text("Wrong username or password.")
    await dora.shot("refused")
    await dora.log_in(node, "dora", "dora's long password")


async def test_a_sign_up_with_a_short_password_is_refused_on_the_page(federation: Federation,
                                                                       people: People) -> None:
    node = await federation.start("a")
    eve = await people("eve")
    await eve.visit(node, "/signup")
    await eve.page.get_by_label("Username").fill("eve")
    for label in ("Password", "Password again"):
        await eve.page.get_by_label(label, exact=True).evaluate("field => field.removeAttribute('minlength')")
        await eve.page.get_by_label(label, exact=True).fill("short")
    await eve.page.get_by_role("button", name="Sign up").click()
    await expect(eve.page.get_by_role("alert")).to_contain_text("at least 10 characters")
    await eve.shot("refused")


async def test_an_operator_tops_up_a_wallet_that_a_donor_cannot(federation: Federation, people: People) -> None:
    node = await federation.start("a")
    await operator_account(node)
    dora, olga = await people("dora"), await people("olga")
    await dora.sign_up(node, "dora", "dora's long password")
    await expect(dora.page.get_by_role("link", name="Operator")).to_have_count(0)
    await dora.visit(node, "/admin/topups")
    await expect(dora.page.get_by_role("alert")).to_contain_text("Only the operators")
    await dora.shot("refused")

    await olga.log_in(node, "olga", OPERATOR_PASSWORD)
    await olga.top_up(node, "dora", "20.00", "bank-0001")
    await expect(olga.page.get_by_role("status")).to_have_text(
        "Credited 20.00 EUR to dora. Wallet of dora: 20.00 EUR.")
    await olga.top_up(node, "dora", "20.00", "bank-0001")
    await expect(olga.page.get_by_role("status")).to_contain_text("already credited; nothing changed")
    await olga.page.get_by_role("navigation", name="Operator").get_by_role("link", name="Overview").click()
    wallets_card = olga.page.get_by_role("region", name="Wallets total")
    await expect(wallets_card).to_contain_text("20.00 EUR")
    await olga.shot("overview")
    async with node.live.sessions() as session:
        assert (await wallets.wallet_balance(session, "dora", "EUR")).amount == 2000
    await assert_ledger_balances(node)


async def test_the_operator_pages_in_a_phone_sized_window(federation: Federation, people: People) -> None:
    node = await federation.start("a")
    await operator_account(node)
    olga = await people("olga-phone", width=375, height=740)
    await olga.log_in(node, "olga", OPERATOR_PASSWORD)
    for link, heading in (("Overview", "Operator"), ("Deliveries", "Deliveries"), ("Periods", "Periods"),
                          ("Statements", "Statements"), ("Domain blocks", "Domain blocks")):
        await olga.visit(node, "/admin")
        await olga.page.get_by_role("navigation", name="Operator").get_by_role("link", name=link).click()
        await expect(olga.page.get_by_role("heading", level=1)).to_have_text(heading)
        assert await olga.page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), \
            f"{link} scrolls sideways on a phone"
        await olga.shot(link.lower().replace(" ", "-"))


async def test_an_operator_blocks_and_unblocks_a_domain(federation: Federation, people: People) -> None:
    node = await federation.start("a")
    await operator_account(node)
    olga = await people("olga")
    await olga.log_in(node, "olga", OPERATOR_PASSWORD)
    await olga.visit(node, "/admin/blocks")
    await olga.page.get_by_label("Domain").fill("spam.example")
    await olga.page.get_by_label("Reason").fill("floods of spam")
    await olga.page.get_by_role("button", name="Block domain").click()
    await expect(olga.page.get_by_role("row", name="spam.example")).to_contain_text("floods of spam")
    await olga.shot("blocked")
    assert await node.live.blocks.is_blocked("mail.spam.example")
    await olga.page.get_by_role("button", name="Unblock spam.example").click()
    await expect(olga.page.get_by_text("No domain is blocked.")).to_be_visible()
    assert not await node.live.blocks.is_blocked("spam.example")


async def test_logging_in_never_leaves_the_site_whatever_next_says(federation: Federation, people: People) -> None:
    node = await federation.start("a")
    await operator_account(node)
    olga = await people("olga")
    visited: list[str] = []

    async def elsewhere(route: Route) -> None:
        visited.append(route.request.url)
        await route.fulfill(content_type="text/html", body="<!doctype html><title>Evil</title><h1>Evil</h1>")

    await olga.page.context.route("http://evil.example/**", elsewhere)
    for target in ("/\t/evil.example/x", "/\\evil.example/x", "/\n/evil.example/x", "//evil.example/x"):
        await olga.visit(node, "/login?next=" + quote(target, safe=""))
        await olga.page.get_by_label("Username").fill("olga")
        await olga.page.get_by_label("Password", exact=True).fill(OPERATOR_PASSWORD)
        await olga.page.get_by_role("button", name="Log in").click()
        await expect(olga.page.get_by_text("Signed in as olga")).to_be_visible()
        assert olga.page.url == node.base_url + "/", target
        await olga.log_out()
    assert visited == []
