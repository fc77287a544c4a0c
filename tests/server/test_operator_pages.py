"""The operator pages over real HTTP: who may open them, top-ups, dead letters, periods, statements, blocks."""

from collections.abc import AsyncIterator
from urllib.parse import quote

import pytest
from sqlalchemy import func, select, update

from api_client import account, assert_ledger_balances
from federation import domain_blocks
from federation.models import Delivery, DomainBlock
from federation.outbox import new_activity_id, publish
from federation.vocab import activity
from federation_harness import Federation, Node, eventually
from server.models import User
from server.web.passwords import hash_password
from settlement import wallets
from settlement.models import Transaction
from web_client import Browser

PASSWORD = "operator horse"
PAGES = ["/admin", "/admin/topups", "/admin/deliveries", "/admin/periods", "/admin/statements", "/admin/blocks"]


async def with_password(node: Node, name: str, *, admin: bool) -> None:
    await account(node, name, admin=admin)
    async with node.live.sessions() as session, session.begin():
        await session.execute(update(User).where(User.username == name).values(
            password_hash=await hash_password(PASSWORD)))


async def logged_in(node: Node, name: str) -> Browser:
    browser = Browser(node)
    page = await browser.submit("/login", "/login", {"username": name, "password": PASSWORD})
    assert page.status == 200 and f"Signed in as <strong>{name}</strong>" in page.html
    return browser


@pytest.fixture
async def node(federation: Federation) -> Node:
    node = await federation.start("a")
    await with_password(node, "olga", admin=True)
    await account(node, "dora")
    return node


@pytest.fixture
async def admin(node: Node) -> AsyncIterator[Browser]:
    browser = await logged_in(node, "olga")
    yield browser
    await browser.close()


async def wallet(node: Node, name: str) -> int:
    async with node.live.sessions() as session:
        return (await wallets.wallet_balance(session, name, "EUR")).amount


async def test_only_admins_see_the_operator_pages(node: Node, admin: Browser) -> None:
    await with_password(node, "pat", admin=False)
    visitor, member = Browser(node), await logged_in(node, "pat")
    try:
        for path in PAGES:
            anonymous = await visitor.get(path)
            assert anonymous.status == 200 and "/login?next=" in anonymous.url and "Log in" in anonymous.html
            refused = await member.get(path)
            assert refused.status == 403 and "Only the operators" in refused.html
            shown = await admin.get(path)
            assert shown.status == 200 and 'aria-label="Operator"' in shown.html, path
        csrf = (await member.get("/")).hidden("csrf")
        posted = await member.post("/admin/topups", {"csrf": csrf, "username": "pat", "amount": "5.00",
                                                     "reference": "self-service"})
        assert posted.status == 403 and await wallet(node, "pat") == 0
    finally:
        await visitor.close()
        await member.close()


async def test_a_top_up_credits_once_per_reference(node: Node, admin: Browser) -> None:
    form = {"username": "dora", "amount": "12.50", "reference": "bank-2024-001"}
    page = await admin.submit("/admin/topups", "/admin/topups", form)
    assert page.status == 200 and "Credited 12.50 EUR to dora" in page.html and "12.50 EUR" in page.html
    again = await admin.submit("/admin/topups", "/admin/topups", form)
    assert again.status == 200 and "already credited; nothing changed" in again.html
    assert await wallet(node, "dora") == 1250
    overview = await admin.get("/admin")
    assert "12.50 EUR" in overview.html
    await assert_ledger_balances(node)


@pytest.mark.parametrize(("changes", "message"), [
    ({"username": "nobody"}, "No account &#39;nobody&#39; here."),
    ({"amount": "-3"}, "amount"),
    ({"amount": "0.001"}, "decimals"),
    ({"amount": "0"}, "zero"),
    ({"reference": ""}, "A reference is 1 to 100 characters."),
])
async def test_a_bad_top_up_is_refused_and_moves_nothing(node: Node, admin: Browser, changes: dict[str, str],
                                                         message: str) -> None:
    form = {"username": "dora", "amount": "5.00", "reference": "ref-1", **changes}
    page = await admin.submit("/admin/topups", "/admin/topups", form)
    assert page.status == 400 and 'role="alert"' in page.html and message in page.html
    async with node.live.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Transaction)) == 0


async def test_a_dead_letter_is_listed_and_retried_from_its_page(federation: Federation, node: Node,
                                                                 admin: Browser) -> None:
    peer = await federation.start("b")
    async with node.live.sessions() as session, session.begin():
        like = activity(new_activity_id(node.live.urls), "Like", f"{node.base_url}/users/dora", f"{peer.base_url}/x")
        await publish(session, sender="dora", activity=like, inboxes=[f"{peer.base_url}/users/ghost/inbox"],
                      now=node.live.clock())
    node.live.delivery.wakeup.set()

    async def dead() -> list[Delivery]:
        async with node.live.sessions() as session:
            return list(await session.scalars(select(Delivery).where(Delivery.state == "dead")))

    await eventually(dead, what="a dead letter")
    row = (await dead())[0]
    page = await admin.get("/admin/deliveries")
    assert "ghost/inbox" in page.html and "HTTP 404" in page.html and f"Retry delivery {row.id}" in page.html
    retried = await admin.submit("/admin/deliveries", f"/admin/deliveries/{row.id}/retry", {})
    assert retried.status == 200 and f"Delivery {row.id} is queued again." in retried.html
    await eventually(dead, what="the retried letter refused again")
    assert (await dead())[0].attempts == 1, "a retry starts afresh"
    missing = await admin.submit("/admin/deliveries", "/admin/deliveries/99999/retry", {})
    assert missing.status == 404 and "no dead letter 99999" in missing.html


async def test_periods_show_flattrs_and_the_close_state(node: Node, admin: Browser) -> None:
    page = await admin.get("/admin/periods")
    assert page.status == 200 and "No flattrs yet" in page.html and node.live.current_period().label in page.html
    statements = await admin.get("/admin/statements")
    assert "No money has moved" in statements.html and "The books balance" in statements.html


async def test_blocking_and_unblocking_a_domain_from_the_page(node: Node, admin: Browser) -> None:
    page = await admin.submit("/admin/blocks", "/admin/blocks", {"domain": "Spam.Example", "reason": "spam"})
    assert page.status == 200 and "spam.example" in page.html and "Unblock spam.example" in page.html
    assert await node.live.blocks.is_blocked("www.spam.example"), "seen at once by this process"
    bad = await admin.submit("/admin/blocks", "/admin/blocks", {"domain": "not a domain"})
    assert bad.status == 400 and "is not a domain" in bad.html
    page = await admin.submit("/admin/blocks", "/admin/blocks/remove", {"domain": "spam.example"})
    assert page.status == 200 and "No domain is blocked." in page.html
    assert not await node.live.blocks.is_blocked("spam.example")
    async with node.live.sessions() as session:
        assert await domain_blocks.listed(session) == []
        assert await session.scalar(select(func.count()).select_from(DomainBlock)) == 0


@pytest.mark.parametrize("raw_id", ["²", "¹²", "١٢", "0", str(2**31), str(2**63), "12abc"])
async def test_a_dead_letter_id_no_row_can_have_is_a_404_page(admin: Browser, raw_id: str) -> None:
    page = await admin.submit("/admin/deliveries", f"/admin/deliveries/{quote(raw_id)}/retry", {})
    assert page.status == 404 and "no dead letter" in page.html


@pytest.mark.parametrize("form", [
    {"domain": "spam\x00.example"}, {"domain": "spam.example", "reason": "spam\x00waves"},
    {"domain": "spam.example", "reason": "spam\nwaves"}, {"domain": "a" * 300 + ".example"},
    {"domain": "http://[::1"}, {"domain": "spam\u2100.example"},
])
async def test_a_block_no_database_stores_is_refused_with_a_page(node: Node, admin: Browser,
                                                                 form: dict[str, str]) -> None:
    page = await admin.submit("/admin/blocks", "/admin/blocks", form)
    assert page.status == 400 and 'role="alert"' in page.html
    async with node.live.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(DomainBlock)) == 0
