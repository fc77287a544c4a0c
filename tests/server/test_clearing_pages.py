"""Clearing on the operators' /admin/peers pages, and a creator's pending money becoming available.

Two real instances on loopback. A donor on A flattrs bob on B; the close
pays bob 5.00 EUR by Payout, which B holds pending. A's operator records a
transfer on A's page (typos first, which change nothing), B's operator
disputes it on B's page, then A's operator records the real one and B's
confirms it. Bob watches his dashboard and the earnings API: 5.00 pending on
A, then 5.00 available.
"""

import html
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import select
from test_agreements import PASSWORD, operator
from test_credit_and_clearing import eur, in_federation
from test_payouts_between_peers import balances, close_on, flattr, funded_donor, rows, thing_of
from test_web_dashboard import token_for

from agreement_helper import agree
from federation_harness import Federation, Node, eventually
from settlement import clearings
from settlement.models import Clearing, Payout
from settlement.sent_payouts import SETTLED
from web_client import Browser, Page

PAID = "/admin/peers/clearings"


@pytest.fixture
async def paid_bob(federation: Federation) -> AsyncIterator[tuple[Node, Node, Browser]]:
    """A and B agreed (A may owe B 6.00); alice on A gave bob on B 5.00 EUR, by a payout B accepted; bob signed in."""
    a, b = await federation.start("a"), await federation.start("b")
    await agree(a, b, b_limit="6.00")
    await (await operator(b, "bob", admin=False)).close()
    alice = await funded_donor(a, "alice", "10.00", "5.00")
    label = await flattr(alice, await thing_of(await token_for(b, "bob"), "A note by bob"))
    await close_on(a, label, b)

    async def answered() -> bool:
        return [payout.state for payout in await rows(a, Payout)] == [SETTLED]

    await eventually(answered, what="the period payout answered")
    bob = await signed_in(b, "bob")
    yield a, b, bob
    await bob.close()


async def signed_in(node: Node, name: str) -> Browser:
    """Signed in again: the close moved the clock past the first session's end."""
    browser = Browser(node)
    page = await browser.submit("/login", "/login", {"username": name, "password": PASSWORD})
    assert page.status == 200 and f"Signed in as <strong>{name}</strong>" in page.html
    return browser


async def states(node: Node) -> list[str]:
    async with node.live.sessions() as session:
        return list(await session.scalars(select(Clearing.state).order_by(Clearing.id)))


async def reach(node: Node, expected: list[str]) -> None:
    async def there() -> bool:
        return await states(node) == expected
    await eventually(there, what=f"{node.name}'s clearings {expected}")


async def bob_sees(b: Node, bob: Browser, available: int, pending: int, waiting_on: str | None) -> None:
    """His dashboard and `GET /api/v1/earnings` say the same: in words, and in minor units."""
    page = " ".join((await bob.get("/")).html.split())
    assert f'id="available-EUR">{eur(available)} EUR</td>' in page
    assert f'id="pending-EUR">{eur(pending)} EUR</td>' in page
    assert (f"{waiting_on} ({eur(pending)} EUR)" if waiting_on else "nothing pending") in page
    assert "it becomes available when that instance settles with ours" in page
    [balance] = (await (await token_for(b, "bob")).call("GET", "/api/v1/earnings")).body["balances"]
    assert (balance["available"]["minor_units"], balance["pending"]["minor_units"]) == (available, pending)
    assert [row["host"] for row in balance["waiting_on"]] == ([waiting_on] if waiting_on else [])


async def submitted(browser: Browser, action: str, data: dict[str, str]) -> Page:
    page = await browser.submit("/admin/peers", action, data)
    page.html = " ".join(html.unescape(page.html).split())
    return page


async def test_a_transfer_recorded_on_one_page_and_confirmed_on_the_other_moves_both_books(
        paid_bob: tuple[Node, Node, Browser]) -> None:
    a, b, bob = paid_bob
    await bob_sees(b, bob, 0, 500, a.host)
    olga, bert = await operator(a), await operator(b, "bert")
    try:
        shown = await olga.get("/admin/peers")
        assert (shown.hidden("amount"), shown.hidden("reference")) == ("5.00", f"MECENE {a.host} 1")
        text = " ".join(shown.html.split())
        assert f"Record a transfer to {b.host} in EUR" in text and "Pay b by hand" in text
        assert "now: you are near their credit limit" in text, "5.00 is past 80 % of the 6.00 B allows"
        before_a, before_b = await balances(a), await balances(b)
        assert before_a[f"due_to:{b.host}"] == 500

        for amount, status, message in (("5,00", 400, 'rather than "5,00"'), ("6.00", 422, "6.00 EUR is not what"),
                                        ("0", 400, "more than zero")):
            refused = await submitted(olga, PAID, {"host": b.host, "currency": "EUR", "amount": amount,
                                                   "reference": f"MECENE {a.host} 1"})
            assert refused.status == status and 'role="alert"' in refused.html and message in refused.html, amount
            assert f'value="{amount}"' in refused.html, "what was typed is shown again"
        assert await states(a) == [] and await balances(a) == before_a

        recorded = await submitted(olga, PAID, {"host": b.host, "currency": "EUR", "amount": "1.00",
                                                "reference": shown.hidden("reference")})
        assert recorded.status == 200 and f"Recorded your transfer of 1.00 EUR to {b.host}" in recorded.html
        assert "you paid 1.00 EUR: waiting for them to confirm it arrived" in recorded.html
        assert "Record a transfer to" not in recorded.html, "one clearing at a time"
        await reach(b, [clearings.NOTIFIED])
        owed = " ".join((await bert.get("/admin/peers")).html.split())
        assert "they say they paid you 1.00 EUR" in owed and "nothing: they owe you 5.00 EUR net" in owed
        disputed = await submitted(bert, f"{PAID}/dispute", {"host": a.host, "currency": "EUR"})
        assert disputed.status == 200 and f"Disputed the transfer of 1.00 EUR from {a.host}" in disputed.html
        await reach(a, ["disputed"])
        assert await balances(a) == before_a and await balances(b) == before_b

        again = await olga.get("/admin/peers")
        assert (again.hidden("amount"), again.hidden("reference")) == ("5.00", f"MECENE {a.host} 2")
        await submitted(olga, PAID, {"host": b.host, "currency": "EUR", "amount": again.hidden("amount"),
                                     "reference": again.hidden("reference")})
        await reach(b, ["disputed", clearings.NOTIFIED])
        confirmed = await submitted(bert, f"{PAID}/confirm", {"host": a.host, "currency": "EUR"})
        assert confirmed.status == 200 and f"Confirmed the transfer of 5.00 EUR from {a.host}" in confirmed.html
        await reach(a, ["disputed", "confirmed"])
        settled = " ".join((await olga.get("/admin/peers")).html.split())
        assert "nothing to pay" in settled and "Record a transfer to" not in settled
    finally:
        await olga.close()
        await bert.close()

    on_a, on_b = await balances(a), await balances(b)
    assert (on_a.get(f"due_to:{b.host}"), on_a[f"cleared_out:{b.host}"]) == (None, 500)
    assert on_b == {"creator:bob": 500, f"cleared_in:{a.host}": -500}
    await in_federation(a, b)
    await bob_sees(b, bob, 500, 0, None)


async def test_clearing_forms_keep_the_agreement_forms_checks(paid_bob: tuple[Node, Node, Browser]) -> None:
    a, b, bob = paid_bob
    before = await balances(a)
    olga = await operator(a)
    try:
        forged = await olga.post(PAID, {"csrf": "forged", "host": b.host, "currency": "EUR", "amount": "5.00",
                                        "reference": "MECENE x 1"})
        assert forged.status == 403
        nothing = await submitted(olga, f"{PAID}/confirm", {"host": b.host, "currency": "EUR"})
        assert nothing.status == 404 and f"No transfer from {b.host} in EUR waits for you to confirm it" in nothing.html
        blank = await submitted(olga, PAID, {"host": b.host, "currency": "EUR", "amount": "5.00", "reference": ""})
        assert blank.status == 400 and "The reference is one line" in blank.html
    finally:
        await olga.close()
    for path in (PAID, f"{PAID}/confirm", f"{PAID}/dispute"):
        posted = await bob.submit("/settings", path, {"host": a.host, "currency": "EUR", "amount": "1.00",
                                                      "reference": "MECENE b 1"})
        assert posted.status == 403 and "Only the operators" in posted.html, path
    assert await states(a) == [] and await states(b) == [] and await balances(a) == before
