"""Money out across real instances: a creator on A is paid by donors on A and, by Payout, by a donor on B.

Only what A's donors gave is available at once; what B paid waits, pending,
until B's operator has paid A by bank and A's operator confirmed it. The
creator records an IBAN (with their password), waits out the cooling-off,
and withdraws; A's operator batches both withdrawals with `mecene withdrawals`,
hands the bank the pain.001 file (checked against its schema, to the cent),
marks the batch executed, and returns one line the bank sent back. Money is
conserved on each instance and across both at every step.
"""

import asyncio
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import xmlschema
from sqlalchemy import update
from test_agreements import cli_env
from test_credit_and_clearing import clearing_state
from test_payouts_between_peers import balances, books_hold, closed, conserved, flattr, funded_donor, thing_of

from agreement_helper import agree
from api_client import Api, account
from cli_process import mecene, run_here
from federation_harness import Federation, Node, eventually
from server import clearing
from server.models import User
from server.web.passwords import hash_password
from settlement import clearings, statements

PASSWORD = "carla's long password"
IBAN = "DE89370400440532013000"
OPERATOR_BANK = {"MECENE_PAYMENTS_BANK_ACCOUNT_HOLDER": "Mecene community A",
                 "MECENE_PAYMENTS_BANK_IBAN": "FR1420041010050500013M02606", "MECENE_PAYMENTS_BANK_BIC": "PSSTFRPPLIL",
                 "MECENE_PAYMENTS_MINIMUM_WITHDRAWAL": "1.00"}
SCHEMA = Path(xmlschema.__file__).parents[1] / "sepaxml" / "schemas" / "pain.001.001.03.xsd"
NS = {"p": "urn:iso:std:iso:20022:tech:xsd:pain.001.001.03"}


async def withdrawals_cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """`mecene withdrawals …`, while this loop serves the instances."""
    return await run_here(env, "withdrawals", *args)


async def creator_on(node: Node) -> Api:
    carla = await account(node, "carla")
    async with node.live.sessions() as session, session.begin():
        await session.execute(update(User).where(User.username == "carla").values(
            password_hash=await hash_password(PASSWORD)))
    return carla


async def money_of(carla: Api) -> tuple[int, int]:
    """Carla's available and pending money in euros, as her page and the API show them."""
    [euros] = (await carla.call("GET", "/api/v1/payouts")).body["balances"]
    return euros["available"]["minor_units"], euros["pending"]["minor_units"]


async def in_federation(a: Node, b: Node) -> None:
    for node in (a, b):
        assert conserved(await balances(node))
        await books_hold(node)
    async with a.live.sessions() as one, b.live.sessions() as other:
        total = await statements.conservation(one, "EUR") + await statements.conservation(other, "EUR")
    assert total.holds and total.paid_out == (await balances(a)).get("payout:bank", 0)


async def test_a_creator_withdraws_what_is_available_and_the_bank_file_pays_it(federation: Federation,
                                                                               tmp_path: Path) -> None:
    a = await federation.start("a", **OPERATOR_BANK)
    b = await federation.start("b")
    await agree(b, a)
    carla = await creator_on(a)
    note = await thing_of(carla, "A note by carla, flattred from both instances")
    label = await flattr(await funded_donor(a, "alice", "10.00", "4.00"), note)
    await flattr(await funded_donor(b, "zed", "10.00", "3.00"), note)
    for node in (a, b):
        node.clock.advance(days=40)
    for node in (a, b):
        await eventually(lambda node=node: closed(node, label), what=f"{node.name} closes")

    async def paid_by_b() -> bool:
        return await money_of(carla) == (400, 300)
    await eventually(paid_by_b, what="B's Payout credited, pending")
    await in_federation(a, b)

    saved = await carla.call("PUT", "/api/v1/payouts/details",
                             {"password": PASSWORD, "iban": IBAN, "account_holder": "Carla Ćreator"})
    assert saved.status == 200 and saved.body["bic"] == "COBADEFFXXX"
    for node in (a, b):
        node.clock.advance(hours=49)
    too_much = await carla.call("POST", "/api/v1/withdrawals", {"amount": "4.01"})
    assert (too_much.status, too_much.body["error"]) == (409, "more_than_available")
    first = (await carla.call("POST", "/api/v1/withdrawals", {"amount": "4.00"})).body

    [standing] = await clearing.standings(b.live)
    await clearing.record_paid(b.live, a.host, "3.00", "EUR", standing.reference)
    await eventually(lambda: _notified(a, b), what="A told of B's transfer")
    await clearing.confirm(a.live, b.host, "EUR")
    assert await money_of(carla) == (300, 0)
    second = (await carla.call("POST", "/api/v1/withdrawals", {"amount": "3.00"})).body
    await in_federation(a, b)

    env = cli_env(a, tmp_path) | OPERATOR_BANK
    batched = await asyncio.to_thread(mecene, env, "withdrawals", "batch", "EUR")
    assert batched.returncode == 0, batched.stderr
    batch = next(word for word in batched.stdout.split() if word.startswith("B"))
    out = tmp_path / "batch.xml"
    made = await withdrawals_cli(env, "file", batch, "--out", str(out), "--date", "2027-02-15")
    assert made.returncode == 0, made.stderr
    _holds_to_the_cent(out, {first["id"]: "4.00", second["id"]: "3.00"})

    assert (await withdrawals_cli(env, "executed", batch)).returncode == 0
    assert (await withdrawals_cli(env, "executed", batch)).returncode == 1
    sent_back = await withdrawals_cli(env, "return", second["id"], "account closed at the bank")
    assert sent_back.returncode == 0, sent_back.stderr
    assert await money_of(carla) == (300, 0)
    states = {row["id"]: (row["state"], row["reason"]) for row in
              (await carla.call("GET", "/api/v1/payouts")).body["withdrawals"]}
    assert states == {first["id"]: ("paid", None), second["id"]: ("returned", "account closed at the bank")}
    on_a = await balances(a)
    assert (on_a["payout:bank"], on_a["creator:carla"], on_a.get("payable:carla", 0)) == (400, 300, 0)
    await in_federation(a, b)


def _holds_to_the_cent(path: Path, lines: dict[str, str]) -> None:
    """The file the bank gets: valid against pain.001.001.03, one transfer per withdrawal, from our account."""
    xmlschema.XMLSchema(str(SCHEMA)).validate(str(path))
    root = ET.parse(path).getroot()
    assert root.findtext(".//p:GrpHdr/p:NbOfTxs", namespaces=NS) == str(len(lines))
    assert root.findtext(".//p:DbtrAcct/p:Id/p:IBAN", namespaces=NS) == "FR1420041010050500013M02606"
    found = {}
    for transfer in root.findall(".//p:CdtTrfTxInf", NS):
        amount = transfer.find("p:Amt/p:InstdAmt", NS)
        assert amount is not None and amount.get("Ccy") == "EUR"
        assert transfer.findtext("p:Cdtr/p:Nm", namespaces=NS) == "Carla Creator"
        assert transfer.findtext("p:CdtrAcct/p:Id/p:IBAN", namespaces=NS) == IBAN
        end_to_end = transfer.findtext("p:PmtId/p:EndToEndId", namespaces=NS)
        assert transfer.findtext("p:RmtInf/p:Ustrd", namespaces=NS) == f"MECENE {end_to_end}"
        found[end_to_end] = amount.text
    assert found == lines



async def _notified(a: Node, b: Node) -> bool:
    return await clearing_state(a, b) == clearings.NOTIFIED
