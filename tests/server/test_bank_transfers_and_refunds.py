"""Bank transfers, refunds and their receipts on the web, end to end, with the ledger balanced at every step.

A donor chooses a transfer and gets the account and a reference; the operator
records what the bank received, by hand or from the bank's CSV export, and
each reference credits once. A donor asks for unspent money back; the
operator refunds a bank top-up (their own transfer back) and a card top-up
(through localstripe, Stripe's stand-in), never more than the wallet holds.
"""

import re

import aiohttp
from test_operator_pages import logged_in, with_password

from federation_harness import Federation, eventually
from localstripe_process import LocalStripe
from payments_helper import Donor, came_in, donor_at, topup_row
from web_client import Browser, Page

TRANSFER_REFERENCE = re.compile(r'id="transfer-reference">(MCN-[A-Z0-9]{4}-[A-Z0-9]{4})<')


async def bank_topup(alice: Donor, amount: str) -> tuple[str, str]:
    """The donor's top-up by transfer: its receipt id and the reference the page tells them to write."""
    public_id = await alice.start_topup(amount, "bank")
    page = await alice.browser.get(f"/wallet/receipts/{public_id}")
    found = TRANSFER_REFERENCE.search(page.html)
    assert found and "FR14 2004 1010 0505 0001 3M02 606" in page.html and "Mecene community" in page.html
    return public_id, found.group(1)


async def received(operator: Browser, text: str, amount: str) -> Page:
    return await operator.submit("/admin/topups", "/admin/topups/transfers", {"text": text, "transfer_amount": amount})


async def imported(operator: Browser, csv_text: str) -> Page:
    csrf = (await operator.get("/admin/topups")).hidden("csrf")
    form = aiohttp.FormData()
    form.add_field("csrf", csrf)
    form.add_field("statement", csv_text.encode(), filename="export.csv", content_type="text/csv")
    async with operator.session.post(operator.node.base_url + "/admin/topups/statement", data=form,
                                     headers={"Accept": "text/html"}) as answer:
        return Page(answer.status, str(answer.url), await answer.text())


async def operator_of(alice: Donor) -> Browser:
    await with_password(alice.node, "olga", admin=True)
    return await logged_in(alice.node, "olga")


async def test_a_transfer_is_credited_once_when_the_operator_records_it(federation: Federation,
                                                                        localstripe_process: LocalStripe) -> None:
    async with donor_at(federation, localstripe_process, webhooks=False) as alice:
        operator = await operator_of(alice)
        first, reference = await bank_topup(alice, "25.00")
        assert await alice.wallet() == 0 and "waiting for confirmation" in (await alice.browser.get("/wallet")).html
        code = reference.replace("MCN-", "").replace("-", " ")
        page = await received(operator, f"Virement Alice DON MCN {code.lower()} merci", "25.00")
        assert page.status == 200 and f"{reference}: credited to alice" in page.html
        again = await received(operator, reference, "25.00")
        assert again.status == 400 and "already credited" in again.html
        unknown = await received(operator, "MCN-2222-3333", "25.00")
        assert unknown.status == 400 and "no top-up has this reference" in unknown.html
        assert (await received(operator, reference, "25,00")).status == 400
        assert await alice.wallet() == 2500 and (await topup_row(alice.node, first)).state == "confirmed"

        _, second = await bank_topup(alice, "10.00")
        export = ("Date,Description,Amount,Currency\n"
                  f"2026-12-01,DON {second},10.00,EUR\n"
                  f"2026-12-01,DON {second},10.00,EUR\n"
                  "2026-12-01,MCN-2345-6789 someone,7.00,EUR\n"
                  "2026-12-02,Bank fees,-3.50,EUR\n"
                  "2026-12-02,Something,twelve,EUR\n")
        page = await imported(operator, export)
        lines = re.findall(r"<li>(line \d+: [^<]*)</li>", page.html)
        assert page.status == 200 and len(lines) == 5, lines
        assert f"{second}: credited to alice" in lines[0] and "already credited" in lines[1]
        assert "no top-up has this reference" in lines[2] and "not a credit" in lines[3] and "amount" in lines[4]
        assert (await imported(operator, "nothing,useful\n1,2\n")).status == 400
        assert await alice.wallet() == 3500 and await came_in(alice.node, "bank") == 3500
        await operator.close()


async def test_refunds_go_back_the_way_the_money_came_and_never_exceed_the_wallet(
        federation: Federation, localstripe_process: LocalStripe) -> None:
    async with donor_at(federation, localstripe_process) as alice:
        operator = await operator_of(alice)
        bank, reference = await bank_topup(alice, "20.00")
        await received(operator, reference, "20.00")
        card = await alice.start_topup("10.00", "stripe")
        await alice.pay(card, await localstripe_process.card_token("4242424242424242"))

        async def credited() -> bool:
            return await alice.wallet() == 3000
        await eventually(credited, what="the card's credit")

        asked = await alice.browser.submit("/wallet", "/wallet/refund-request", {"note": "moving away"})
        assert asked.status == 200 and "the operator will refund" in asked.html
        assert (await alice.browser.submit("/wallet", "/wallet/refund-request", {"note": ""})).status == 409
        assert "moving away" in (await operator.get("/admin/topups")).html

        no_reference = await operator.submit("/admin/topups", f"/admin/topups/{bank}/refund", {"refund_amount": "5.00"})
        assert no_reference.status == 400 and "then give that transfer" in no_reference.html
        partly = await operator.submit("/admin/topups", f"/admin/topups/{bank}/refund",
                                       {"refund_amount": "5.00", "refund_reference": "BACK-1"})
        assert partly.status == 200 and "Refunded 5.00 EUR" in partly.html
        too_much = await operator.submit("/admin/topups", f"/admin/topups/{bank}/refund",
                                         {"refund_amount": "15.01", "refund_reference": "BACK-2"})
        assert too_much.status == 409 and "At most 15.00 EUR" in too_much.html
        by_card = await operator.submit("/admin/topups", f"/admin/topups/{card}/refund", {"refund_amount": ""})
        assert by_card.status == 200 and "Refunded 10.00 EUR" in by_card.html

        assert await alice.wallet() == 1500
        assert await came_in(alice.node, "bank") == 1500 and await came_in(alice.node, "stripe") == 0
        wallet_page = (await alice.browser.get("/wallet")).html
        receipts = re.findall(r'href="/wallet/receipts/(R[0-9a-f]+)"', wallet_page)
        assert len(receipts) == 2 and "asked for a refund" not in wallet_page
        pages = [(await alice.browser.get(f"/wallet/receipts/{public_id}")).html for public_id in receipts]
        assert any("re_" in html and "-10.00 EUR" in html for html in pages)
        assert any("BACK-1" in html and "-5.00 EUR" in html for html in pages)
        assert (await alice.browser.get(f"/wallet/receipts/{bank}")).status == 200
        stranger = Browser(alice.node)
        assert (await stranger.get(f"/wallet/receipts/{receipts[0]}")).status in (200, 303)
        assert "Refund" not in (await stranger.get(f"/wallet/receipts/{receipts[0]}")).html
        await stranger.close()
        await operator.close()
