"""In Chromium: a creator is paid what they earned, from recording an IBAN to seeing the withdrawal paid.

Carla records where to be paid (her password asked again), waits out the
cooling-off and asks for a withdrawal; Olga, the operator, approves it into a
batch, downloads the bank's file (a real download, checked against the
pain.001 schema) and marks it executed; Carla sees it paid. Both pages fit a
desktop window and a phone's without scrolling sideways.
"""

import xml.etree.ElementTree as ET
from collections.abc import Awaitable, Callable
from pathlib import Path

import xmlschema
from people import Person
from playwright.async_api import expect
from test_accounts_and_operator import OPERATOR_PASSWORD, operator_account

from api_client import assert_ledger_balances
from federation_harness import Federation, Node
from settlement import ledger, wallets
from settlement.withdrawals import creator_key

People = Callable[..., Awaitable[Person]]
PASSWORD = "carla's long password"
IBAN = "DE89 3704 0044 0532 0130 00"
OPERATOR_BANK = {"MECENE_PAYMENTS_BANK_ACCOUNT_HOLDER": "Mecene community A",
                 "MECENE_PAYMENTS_BANK_IBAN": "FR1420041010050500013M02606"}
SCHEMA = Path(xmlschema.__file__).parents[1] / "sepaxml" / "schemas" / "pain.001.001.03.xsd"
NS = {"p": "urn:iso:std:iso:20022:tech:xsd:pain.001.001.03"}
WIDTHS = (1280, 390)


async def earned(node: Node, username: str, amount: int) -> None:
    """What a close books for a local creator: available money, from a donor's wallet."""
    async with node.live.sessions() as session, session.begin():
        await ledger.post(session, kind="close", idempotency_key=f"earned:{username}", now=node.clock(),
                          lines=[(wallets.wallet_key("dora", "EUR"), -amount), (creator_key(username, "EUR"), amount)])


async def fits(person: Person, what: str) -> None:
    """Nothing wider than the window, on a desktop and on a phone."""
    for width in WIDTHS:
        await person.page.set_viewport_size({"width": width, "height": 900})
        assert await person.page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), \
            f"{what} scrolls sideways {width} px wide"
        await person.shot(f"{what}-{width}")


async def records_an_iban(carla: Person) -> None:
    await carla.page.get_by_role("navigation", name="Main").get_by_role("link", name="Payouts").click()
    await expect(carla.page.get_by_role("heading", level=1)).to_have_text("Payouts")
    await expect(carla.page.locator("#payout-available-EUR")).to_have_text("50.00 EUR")
    await carla.page.get_by_label("IBAN").fill(IBAN)
    await carla.page.get_by_label("Account holder").fill("Carla Creator")
    await carla.page.get_by_label("Your password, to confirm it is you").fill(PASSWORD)
    await carla.page.get_by_role("button", name="Save payout details").click()
    await expect(carla.page.get_by_role("status").first).to_contain_text("Your payout details changed.")
    await expect(carla.page.locator("#paid-to")).to_have_text(f"IBAN {IBAN} (Carla Creator)")
    await expect(carla.page.locator("#held-until")).to_contain_text("withdrawals wait until")
    await carla.shot("details-saved")


async def asks(carla: Person, amount: str) -> None:
    await carla.page.get_by_label("Amount to withdraw").fill(amount)
    await carla.page.get_by_role("button", name="Ask for a withdrawal").click()
    await expect(carla.page.get_by_role("status")).to_contain_text(f"Asked: {amount} EUR set aside")
    await expect(carla.page.get_by_role("button", name="Cancel withdrawal")).to_have_count(1)
    await carla.shot("asked")


async def pays_the_batch(olga: Person, node: Node, amount: str) -> None:
    """Operator → Withdrawals: approved into a batch, its file downloaded and checked, the batch marked executed."""
    await olga.visit(node, "/admin")
    await olga.page.get_by_role("navigation", name="Operator").get_by_role("link", name="Withdrawals").click()
    await expect(olga.page.locator("#requested-EUR")).to_have_text(f"{amount} EUR")
    await olga.page.get_by_role("button", name="Approve into a batch: every EUR withdrawal waiting").click()
    await expect(olga.page.get_by_role("status")).to_contain_text(f"1 withdrawal, {amount} EUR")
    await olga.shot("approved")
    async with olga.page.expect_download() as started:
        await olga.page.get_by_role("link", name="Download the SEPA file for the bank").click()
    download = await started.value
    assert download.suggested_filename.endswith("-sepa.xml")
    content = Path(await download.path()).read_bytes()
    xmlschema.XMLSchema(str(SCHEMA)).validate(content.decode())
    transfer = ET.fromstring(content).find(".//p:CdtTrfTxInf", NS)
    assert transfer is not None and transfer.findtext("p:Amt/p:InstdAmt", namespaces=NS) == amount
    assert transfer.findtext("p:CdtrAcct/p:Id/p:IBAN", namespaces=NS) == IBAN.replace(" ", "")
    await fits(olga, "withdrawals")
    await olga.page.set_viewport_size({"width": WIDTHS[0], "height": 900})
    await olga.page.get_by_role("button", name="Mark batch").click()
    await expect(olga.page.get_by_role("status")).to_contain_text("marked executed")
    await expect(olga.page.get_by_role("button", name="Mark batch")).to_have_count(0)
    await olga.shot("executed")


async def test_a_creator_withdraws_and_the_operator_pays_by_the_bank_file(federation: Federation,
                                                                          people: People) -> None:
    node = await federation.start("a", **OPERATOR_BANK)
    await operator_account(node)
    carla, olga = await people("carla", width=WIDTHS[0]), await people("olga", width=WIDTHS[0])
    await carla.sign_up(node, "carla", PASSWORD)
    await earned(node, "carla", 5000)
    await records_an_iban(carla)
    node.clock.advance(hours=49)
    await carla.page.reload()
    await expect(carla.page.locator("#held-until")).to_have_count(0)
    await asks(carla, "20.00")
    await fits(carla, "payouts")

    await olga.log_in(node, "olga", OPERATOR_PASSWORD)
    await pays_the_batch(olga, node, "20.00")

    await carla.page.reload()
    await expect(carla.page.get_by_role("row", name="20.00 EUR")).to_contain_text("paid")
    await expect(carla.page.get_by_role("button", name="Cancel withdrawal")).to_have_count(0)
    await expect(carla.page.locator("#payout-available-EUR")).to_have_text("30.00 EUR")
    await carla.shot("paid")
    await assert_ledger_balances(node)
