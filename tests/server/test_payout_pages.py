"""Money out on the web, over real HTTP: the creator's /payouts and the operator's /admin/withdrawals.

Carla earns 50.00 EUR the way money really arrives (a donor's flattr, then
the period's close), records an IBAN with her password again, waits out the
cooling-off, asks, cancels and asks again; the operator approves the batch,
downloads the pain.001 file (valid against its schema, to the cent), marks it
executed (a second click is a 409) and returns the line the bank sent back.
Every refusal is a page with its message and changes no row; the books
balance and the money is conserved at the end.
"""

import re
import xml.etree.ElementTree as ET
from pathlib import Path

import xmlschema
from sqlalchemy import update
from test_api_fuzz import rows
from test_operator_pages import PASSWORD, logged_in, with_password
from test_payouts_between_peers import balances, close_on, conserved, flattr, funded_donor, thing_of

from api_client import account, assert_ledger_balances
from earnings_helper import book_earnings
from federation_harness import Federation, Node
from server.models import User
from server.web.passwords import hash_password
from settlement import payout_details, statements, wallets
from settlement.withdrawals import available
from web_client import Browser, Page

IBAN = "FR76 3000 6000 0112 3456 7890 189"
OPERATOR_BANK = {"MECENE_PAYMENTS_BANK_ACCOUNT_HOLDER": "Mecene community A",
                 "MECENE_PAYMENTS_BANK_IBAN": "FR1420041010050500013M02606", "MECENE_PAYMENTS_BANK_BIC": "PSSTFRPPLIL"}
SCHEMA = Path(xmlschema.__file__).parents[1] / "sepaxml" / "schemas" / "pain.001.001.03.xsd"
NS = {"p": "urn:iso:std:iso:20022:tech:xsd:pain.001.001.03"}
ASKED = re.compile(r'id="withdrawal-(W[0-9a-f]+)"')
BATCH = re.compile(r"Batch (B[0-9a-f]+) approved")


async def earned_by_a_close(node: Node) -> None:
    """Carla's 50.00 EUR, from dora's whole budget given to carla's one note when the period closes."""
    carla = await account(node, "carla")
    await _password(node, "carla")
    note = await thing_of(carla, "A note by carla")
    label = await flattr(await funded_donor(node, "dora", "60.00", "50.00"), note)
    await close_on(node, label)


async def earned_as_a_close_books_it(node: Node) -> None:
    """The same 50.00 EUR, posted as the close posts it: quicker where the close is not what is tested."""
    await account(node, "carla")
    await _password(node, "carla")
    async with node.live.sessions() as session, session.begin():
        await book_earnings(session, "carla", 5000, node.clock())


async def _password(node: Node, name: str) -> None:
    async with node.live.sessions() as session, session.begin():
        await session.execute(update(User).where(User.username == name).values(
            password_hash=await hash_password(PASSWORD)))


async def carla_has(node: Node) -> int:
    async with node.live.sessions() as session:
        return (await available(session, "carla", "EUR")).amount


async def details(carla: Browser, password: str = PASSWORD, **fields: str) -> Page:
    return await carla.submit("/payouts", "/payouts/details", {"password": password, **fields})


async def ask(carla: Browser, amount: str, currency: str = "EUR") -> Page:
    return await carla.submit("/payouts", "/payouts/withdrawals", {"amount": amount, "currency": currency})


async def download(operator: Browser, path: str) -> tuple[int, str, str, bytes]:
    """(status, media type, Content-Disposition, body) of a file the operator saves."""
    async with operator.session.get(operator.node.base_url + path) as answer:
        return answer.status, answer.content_type, answer.headers.get("Content-Disposition", ""), await answer.read()


def pays_to_the_cent(content: bytes, public_id: str, amount: str) -> None:
    """One transfer from our account to carla's IBAN and name, with the withdrawal's id as its reference."""
    xmlschema.XMLSchema(str(SCHEMA)).validate(content.decode())
    root = ET.fromstring(content)
    assert root.findtext(".//p:DbtrAcct/p:Id/p:IBAN", namespaces=NS) == "FR1420041010050500013M02606"
    [transfer] = root.findall(".//p:CdtTrfTxInf", NS)
    assert transfer.findtext("p:Amt/p:InstdAmt", namespaces=NS) == amount
    assert transfer.findtext("p:Cdtr/p:Nm", namespaces=NS) == "Carla Creator"
    assert transfer.findtext("p:CdtrAcct/p:Id/p:IBAN", namespaces=NS) == IBAN.replace(" ", "")
    assert transfer.findtext("p:PmtId/p:EndToEndId", namespaces=NS) == public_id


async def books_hold(node: Node) -> None:
    await assert_ledger_balances(node)
    assert conserved(await balances(node))
    async with node.live.sessions() as session:
        assert (await statements.conservation(session, "EUR")).holds


async def test_a_creator_is_paid_by_the_bank_file_the_operator_downloads(federation: Federation) -> None:
    node = await federation.start("a", **OPERATOR_BANK)
    await earned_by_a_close(node)
    await with_password(node, "olga", admin=True)
    carla, olga = await logged_in(node, "carla"), await logged_in(node, "olga")
    shown = await carla.get("/payouts")
    assert shown.status == 200 and 'id="payout-available-EUR">50.00 EUR' in shown.html
    assert 'href="/payouts"' in (await carla.get("/")).html

    wrong = await details(carla, "not my password", iban=IBAN, account_holder="Carla Creator")
    assert wrong.status == 403 and "That is not your password" in wrong.html
    async with node.live.sessions() as session:
        assert await payout_details.of(session, "carla") is None
    saved = await details(carla, iban=IBAN, account_holder="Carla Creator")
    assert saved.status == 200 and "Your payout details changed. Withdrawals wait until" in saved.html
    assert f"IBAN {IBAN} (Carla Creator)" in saved.html and 'id="held-until"' in saved.html

    held = await ask(carla, "20.00")
    assert held.status == 409 and "withdrawals wait until" in held.html and await carla_has(node) == 5000
    node.clock.advance(hours=49)
    asked = await ask(carla, "20.00")
    assert asked.status == 200 and "Asked: 20.00 EUR set aside" in asked.html and 'id="held-until"' not in asked.html
    [first] = ASKED.findall(asked.html)
    assert await carla_has(node) == 3000
    canceled = await carla.submit("/payouts", f"/payouts/withdrawals/{first}/cancel", {})
    assert canceled.status == 200 and f"Canceled {first}" in canceled.html and await carla_has(node) == 5000
    assert (await carla.submit("/payouts", f"/payouts/withdrawals/{first}/cancel", {})).status == 409
    second = next(found for found in ASKED.findall((await ask(carla, "30.00")).html) if found != first)

    waiting = await olga.get("/admin/withdrawals")
    assert waiting.status == 200 and 'id="requested-EUR">30.00 EUR' in waiting.html and second in waiting.html
    approved = await olga.submit("/admin/withdrawals", "/admin/withdrawals/batches", {"currency": "EUR"})
    assert approved.status == 200 and "1 withdrawal, 30.00 EUR" in approved.html
    batch = BATCH.search(approved.html)
    assert batch and 'id="batched-EUR">30.00 EUR' in approved.html
    assert (await carla.submit("/payouts", f"/payouts/withdrawals/{second}/cancel", {})).status == 409
    again = await olga.submit("/admin/withdrawals", "/admin/withdrawals/batches", {"currency": "EUR"})
    assert again.status == 409 and "No withdrawal in EUR is waiting" in again.html

    status, media_type, disposition, content = await download(
        olga, f"/admin/withdrawals/batches/{batch.group(1)}/sepa.xml")
    assert (status, media_type) == (200, "application/xml") and disposition.startswith("attachment;")
    pays_to_the_cent(content, second, "30.00")
    status, media_type, _, listed = await download(olga, f"/admin/withdrawals/batches/{batch.group(1)}/others.csv")
    assert (status, media_type, listed.decode().count("\n")) == (200, "text/csv", 1)
    assert (await download(carla, f"/admin/withdrawals/batches/{batch.group(1)}/sepa.xml"))[0] == 403

    executed = await olga.submit("/admin/withdrawals", f"/admin/withdrawals/batches/{batch.group(1)}/executed", {})
    assert executed.status == 200 and "marked executed" in executed.html
    twice = await olga.submit("/admin/withdrawals", f"/admin/withdrawals/batches/{batch.group(1)}/executed", {})
    assert twice.status == 409 and "was marked executed already" in twice.html
    assert (await balances(node))["payout:bank"] == 3000
    assert re.search(rf'id="withdrawal-{second}">.*?<td>paid</td>', (await carla.get("/payouts")).html, re.S)

    no_reason = await olga.submit("/admin/withdrawals", f"/admin/withdrawals/{second}/return", {"reason": " "})
    assert no_reason.status == 400 and "Say why" in no_reason.html
    returned = await olga.submit("/admin/withdrawals", f"/admin/withdrawals/{second}/return",
                                 {"reason": "account closed"})
    assert returned.status == 200 and f"Returned {second}" in returned.html and await carla_has(node) == 5000
    assert (await olga.submit("/admin/withdrawals", f"/admin/withdrawals/{second}/return",
                              {"reason": "account closed"})).status == 409
    assert "returned: account closed" in (await carla.get("/payouts")).html
    assert "payout:bank" not in await balances(node)
    await books_hold(node)
    for browser in (carla, olga):
        await browser.close()


async def test_earnings_move_to_the_wallet_once_per_form(federation: Federation) -> None:
    node = await federation.start("a")
    await earned_as_a_close_books_it(node)
    carla = await logged_in(node, "carla")
    form = await carla.get("/payouts")
    key = form.hidden("key")
    moved = await carla.post("/payouts/to-wallet", {"csrf": form.hidden("csrf"), "key": key, "move_amount": "5.00"})
    assert moved.status == 200 and "Moved 5.00 EUR to your wallet" in moved.html
    again = await carla.post("/payouts/to-wallet", {"csrf": form.hidden("csrf"), "key": key, "move_amount": "5.00"})
    assert again.status == 200 and "moved to your wallet already" in again.html
    assert moved.hidden("key") != key
    other = await carla.get("/payouts")
    assert (await carla.post("/payouts/to-wallet", {"csrf": other.hidden("csrf"), "key": other.hidden("key"),
                                                    "move_amount": "2.50"})).status == 200
    async with node.live.sessions() as session:
        assert (await wallets.wallet_balance(session, "carla", "EUR")).amount == 750
    assert await carla_has(node) == 4250
    await books_hold(node)
    await carla.close()


async def test_bad_inputs_are_refused_on_the_page_and_change_nothing(federation: Federation) -> None:
    node = await federation.start("a")
    await earned_as_a_close_books_it(node)
    await with_password(node, "bob", admin=False)
    await with_password(node, "olga", admin=True)
    carla, bob, olga = [await logged_in(node, name) for name in ("carla", "bob", "olga")]
    assert (await details(carla, iban=IBAN, account_holder="Carla Creator")).status == 200
    node.clock.advance(hours=49)
    mine = ASKED.findall((await ask(carla, "10.00")).html)[0]
    before = await rows(node)

    for page, status, message in [
        (await ask(carla, "10.001"), 400, "EUR amounts have at most 2 decimals"),
        (await ask(carla, "40.01"), 409, "You have 40.00 EUR available"),
        (await ask(carla, "9.99"), 400, "The smallest withdrawal is 10.00 EUR"),
        (await ask(carla, "10,00"), 400, "Write decimals with a dot"),
        (await ask(carla, "10.00", "XYZ"), 400, "not a known ISO 4217 currency"),
        (await ask(carla, "10.00", "CHF"), 409, "You have 0.00 CHF available"),
        (await details(carla, iban="FR76 3000 6000 0112 3456 7890 188", account_holder="C"), 400, "not a valid IBAN"),
        (await details(carla, iban=IBAN, account_holder="C", instructions="PayPal"), 400, "not both"),
        (await details(carla, "guess", instructions="PayPal to carla@example.org"), 403, "not your password"),
        (await carla.submit("/payouts", "/payouts/to-wallet", {"move_amount": "40.01", "key": "k"}), 409,
         "40.00 EUR available"),
        (await carla.submit("/payouts", "/payouts/to-wallet", {"move_amount": "0", "key": "k"}), 400, "more than zero"),
        (await carla.submit("/payouts", "/payouts/to-wallet", {"move_amount": "1.00", "key": "k" * 65}), 400,
         "at most 64 characters"),
        (await carla.post("/payouts/to-wallet", {"csrf": (await carla.get("/payouts")).hidden("csrf"),
                                                 "move_amount": "1.00"}), 400, "no key"),
        (await bob.submit("/payouts", f"/payouts/withdrawals/{mine}/cancel", {}), 404, "no such withdrawal"),
        (await carla.submit("/payouts", "/payouts/withdrawals/W%00/cancel", {}), 404, "no such withdrawal"),
        (await bob.submit("/payouts", "/admin/withdrawals/batches", {"currency": "EUR"}), 403, "Only the operators"),
        (await olga.submit("/admin/withdrawals", "/admin/withdrawals/batches", {"currency": "E\x00"}), 400,
         "not a known ISO 4217"),
        (await olga.submit("/admin/withdrawals", "/admin/withdrawals/batches/B%00/executed", {}), 404, "No batch"),
        (await olga.submit("/admin/withdrawals", f"/admin/withdrawals/{mine}/return", {"reason": "why"}), 409,
         "only a batched or paid line"),
        (await olga.submit("/admin/withdrawals", "/admin/withdrawals/W%00/return", {"reason": "why"}), 404,
         "No withdrawal"),
        (await olga.submit("/admin/withdrawals", f"/admin/withdrawals/{mine}/return", {"reason": "a\x00b"}), 400,
         "cannot be stored"),
        (await olga.get("/admin/withdrawals/batches/B0/sepa.xml"), 404, "No batch"),
    ]:
        assert page.status == status and message in page.html, (page.url, page.status, page.html[:3000])
        assert page.html.lstrip().lower().startswith("<!doctype html>")
    assert await rows(node) == before
    assert 'id="payout-available-EUR">40.00 EUR' in (await carla.get("/payouts")).html
    await books_hold(node)
    for browser in (carla, bob, olga):
        await browser.close()


async def test_guessing_the_password_again_is_as_slow_as_at_login(federation: Federation) -> None:
    node = await federation.start("a")
    await earned_as_a_close_books_it(node)
    carla = await logged_in(node, "carla")
    for _ in range(10):
        assert (await details(carla, "a guess", instructions="PayPal to thief@example.org")).status == 403
    locked = await details(carla, instructions="PayPal to thief@example.org")
    assert locked.status == 429 and "Too many wrong passwords" in locked.html
    async with node.live.sessions() as session:
        assert await payout_details.of(session, "carla") is None
    await carla.close()


async def test_a_batch_without_euro_lines_has_no_sepa_file(federation: Federation) -> None:
    node = await federation.start("a")
    await earned_as_a_close_books_it(node)
    await with_password(node, "olga", admin=True)
    carla, olga = await logged_in(node, "carla"), await logged_in(node, "olga")
    await details(carla, instructions="PayPal to carla@example.org")
    node.clock.advance(hours=49)
    await ask(carla, "12.00")
    batch = BATCH.search((await olga.submit("/admin/withdrawals", "/admin/withdrawals/batches",
                                            {"currency": "eur"})).html)
    assert batch
    page = await olga.get("/admin/withdrawals")
    assert "sepa.xml" not in page.html and f"{batch.group(1)}/others.csv" in page.html
    assert (await olga.get(f"/admin/withdrawals/batches/{batch.group(1)}/sepa.xml")).status == 404
    _, media_type, _, listed = await download(olga, f"/admin/withdrawals/batches/{batch.group(1)}/others.csv")
    assert media_type == "text/csv" and "PayPal to carla@example.org" in listed.decode()
    assert "12.00,EUR" in listed.decode()
    for browser in (carla, olga):
        await browser.close()
