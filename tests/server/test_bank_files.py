"""A batch's bank files, read as the bank and the operator would: the pain.001 file to the cent, the CSV of the rest.

The withdrawals are made by settlement's own functions on a real database;
the file is parsed with ElementTree and validated against the XSD shipped
with `sepaxml` by `xmlschema` directly, not through the writer's own check.
"""

import csv
import io
import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
import sepaxml
import xmlschema
from sqlalchemy.ext.asyncio import AsyncSession

from config.settings import PaymentSettings, load
from federation_harness import Databases
from server import db
from server.refusal import Refusal
from server.withdrawing import bank_files
from settlement import ledger, payout_details, wallets, withdrawals
from settlement.agreement_terms import payment_details
from settlement.models import Withdrawal, WithdrawalBatch
from settlement.money import Money

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
EXECUTION = date(2026, 12, 3)
SCHEMA = Path(sepaxml.__file__).parent / "schemas" / "pain.001.001.03.xsd"
NS = {"p": "urn:iso:std:iso:20022:tech:xsd:pain.001.001.03"}
OPERATOR_IBAN = "FR1420041010050500013M02606"
BANK = {"MECENE_PAYMENTS_BANK_ACCOUNT_HOLDER": "Mécène community", "MECENE_PAYMENTS_BANK_IBAN": OPERATOR_IBAN,
        "MECENE_PAYMENTS_BANK_BIC": "PSSTFRPPLIL"}
CARLA_IBAN = "FR7630006000011234567890189"
ZOE_IBAN = "DE89370400440532013000"


@dataclass(frozen=True)
class Batched:
    """The euro batch: carla's two lines (the second sent back), zoë's, and ivan's to pay by hand."""

    batch: WithdrawalBatch
    lines: list[Withdrawal]
    carla: Withdrawal
    returned: Withdrawal
    zoe: Withdrawal
    ivan: Withdrawal


@pytest.fixture
async def session(tmp_path: Path) -> AsyncIterator[AsyncSession]:
    databases = Databases(tmp_path)
    engine = db.create_engine(await databases.migrated("bank_files"))
    try:
        async with db.sessionmaker(engine)() as opened:
            yield opened
    finally:
        await engine.dispose()
        await databases.drop_all()


def payments(**environ: str) -> PaymentSettings:
    return load(None, {**BANK, **environ}).payments


async def asked(session: AsyncSession, username: str, amount: int, currency: str, *, iban: str | None = None,
                holder: str | None = None, instructions: str | None = None) -> Withdrawal:
    """`amount` earned by `username`, payout details saved days ago (no cooling-off left), and all of it asked."""
    await ledger.post(session, kind="close", idempotency_key=f"earned:{username}:{amount}:{currency}", now=NOW,
                      lines=[(wallets.wallet_key("dora", currency), -amount),
                             (withdrawals.creator_key(username, currency), amount)])
    details = payment_details(iban=iban, account_holder=holder, instructions=instructions)
    await payout_details.save(session, username, details, now=NOW - timedelta(days=3),
                              cooling_off=timedelta(hours=48))
    return await withdrawals.request(session, username, Money(amount, currency), minimum=Money(100, "EUR"), now=NOW)


async def euro_batch(session: AsyncSession) -> Batched:
    carla = await asked(session, "carla", 3000, "EUR", iban=CARLA_IBAN, holder="Carla Creator")
    returned = await asked(session, "carla", 500, "EUR", iban=CARLA_IBAN, holder="Carla Creator")
    zoe = await asked(session, "zoe", 1234, "EUR", iban=ZOE_IBAN, holder="Zoë Ångström")
    ivan = await asked(session, "ivan", 2000, "EUR", instructions="PayPal to ivan@example.org")
    made = await withdrawals.batch(session, "EUR", None, NOW)
    assert await withdrawals.returned(session, returned, "account closed", NOW)
    return Batched(made, list(await withdrawals.lines(session, made)), carla, returned, zoe, ivan)


def transfers(content: bytes) -> tuple[ET.Element, dict[str, ET.Element]]:
    """The document, valid against pain.001.001.03, and its transfers by end-to-end id."""
    xmlschema.XMLSchema(str(SCHEMA)).validate(content.decode())
    root = ET.fromstring(content)
    found = {transfer.findtext("p:PmtId/p:EndToEndId", namespaces=NS): transfer
             for transfer in root.findall(".//p:CdtTrfTxInf", NS)}
    return root, {key: value for key, value in found.items() if key is not None}


async def test_the_sepa_file_pays_each_euro_line_to_an_iban_to_the_cent(session: AsyncSession) -> None:
    made = await euro_batch(session)
    content = bank_files.sepa_file(payments(), "Mecene", made.batch, made.lines, EXECUTION)
    root, found = transfers(content)

    assert set(found) == {made.carla.public_id, made.zoe.public_id}
    assert root.findtext("p:CstmrCdtTrfInitn/p:GrpHdr/p:NbOfTxs", namespaces=NS) == "2"
    assert Decimal(root.findtext("p:CstmrCdtTrfInitn/p:GrpHdr/p:CtrlSum", namespaces=NS) or "") == Decimal("42.34")
    [paid_from] = root.findall(".//p:PmtInf", NS)
    assert paid_from.findtext("p:Dbtr/p:Nm", namespaces=NS) == "Mecene community"
    assert paid_from.findtext("p:DbtrAcct/p:Id/p:IBAN", namespaces=NS) == OPERATOR_IBAN
    assert paid_from.findtext("p:DbtrAgt/p:FinInstnId/p:BIC", namespaces=NS) == "PSSTFRPPLIL"
    assert paid_from.findtext("p:ReqdExctnDt", namespaces=NS) == "2026-12-03"
    for row, name, amount in ((made.carla, "Carla Creator", "30.00"), (made.zoe, "Zoe Angstrom", "12.34")):
        transfer = found[row.public_id]
        instructed = transfer.find("p:Amt/p:InstdAmt", NS)
        assert instructed is not None and (instructed.get("Ccy"), instructed.text) == ("EUR", amount)
        assert transfer.findtext("p:Cdtr/p:Nm", namespaces=NS) == name
        assert transfer.findtext("p:CdtrAcct/p:Id/p:IBAN", namespaces=NS) == row.iban
        assert transfer.findtext("p:CdtrAgt/p:FinInstnId/p:BIC", namespaces=NS) == row.bic
        assert transfer.findtext("p:RmtInf/p:Ustrd", namespaces=NS) == f"MECENE {row.public_id}"
    assert made.zoe.bic == "COBADEFFXXX"


async def test_the_other_lines_are_the_instructions_ones_still_to_pay(session: AsyncSession) -> None:
    made = await euro_batch(session)
    rows = list(csv.DictReader(io.StringIO(bank_files.other_lines(made.lines))))
    assert rows == [{"withdrawal": made.ivan.public_id, "username": "ivan", "amount": "20.00", "currency": "EUR",
                     "account_holder": "", "instructions": "PayPal to ivan@example.org",
                     "reference": f"MECENE {made.ivan.public_id}"}]


async def test_a_batch_without_a_euro_line_to_an_iban_has_no_sepa_file(session: AsyncSession) -> None:
    hans = await asked(session, "hans", 1500, "CHF", instructions="Twint +41 79 123 45 67")
    made = await withdrawals.batch(session, "CHF", None, NOW)
    lines = await withdrawals.lines(session, made)
    with pytest.raises(Refusal) as refused:
        bank_files.sepa_file(payments(), "Mecene", made, lines, EXECUTION)
    assert refused.value.code == "no_sepa_lines"
    [row] = csv.DictReader(io.StringIO(bank_files.other_lines(lines)))
    assert (row["withdrawal"], row["amount"], row["currency"]) == (hans.public_id, "15.00", "CHF")


async def test_a_batch_whose_every_euro_line_came_back_has_no_sepa_file(session: AsyncSession) -> None:
    carla = await asked(session, "carla", 3000, "EUR", iban=CARLA_IBAN, holder="Carla Creator")
    made = await withdrawals.batch(session, "EUR", None, NOW)
    assert await withdrawals.returned(session, carla, "wrong account", NOW)
    with pytest.raises(Refusal) as refused:
        bank_files.sepa_file(payments(), "Mecene", made, await withdrawals.lines(session, made), EXECUTION)
    assert refused.value.code == "no_sepa_lines"


async def test_no_file_without_the_operators_account(session: AsyncSession) -> None:
    made = await euro_batch(session)
    with pytest.raises(Refusal) as refused:
        bank_files.sepa_file(payments(MECENE_PAYMENTS_BANK_IBAN=""), "Mecene", made.batch, made.lines, EXECUTION)
    assert refused.value.code == "no_bank_account"


async def test_the_instance_name_pays_when_no_account_holder_is_set(session: AsyncSession) -> None:
    made = await euro_batch(session)
    content = bank_files.sepa_file(payments(MECENE_PAYMENTS_BANK_ACCOUNT_HOLDER="", MECENE_PAYMENTS_BANK_BIC=""),
                                   "Mécène de Lyon", made.batch, made.lines, EXECUTION)
    root, _ = transfers(content)
    assert root.findtext(".//p:PmtInf/p:Dbtr/p:Nm", namespaces=NS) == "Mecene de Lyon"
    assert root.find(".//p:PmtInf/p:DbtrAgt/p:FinInstnId/p:BIC", NS) is None


async def test_a_line_the_schema_cannot_carry_refuses_the_file_until_it_is_returned(session: AsyncSession) -> None:
    """A holder of emoji only is transliterated to nothing, and a creditor needs a name: refused, not a crash."""
    carla = await asked(session, "carla", 3000, "EUR", iban=CARLA_IBAN, holder="Carla Creator")
    smiley = await asked(session, "smiley", 1000, "EUR", iban=ZOE_IBAN, holder="🙂🙂")
    made = await withdrawals.batch(session, "EUR", None, NOW)
    with pytest.raises(Refusal) as refused:
        bank_files.sepa_file(payments(), "Mecene", made, await withdrawals.lines(session, made), EXECUTION)
    assert refused.value.code == "invalid_sepa_file" and made.public_id in refused.value.message
    assert await withdrawals.returned(session, smiley, "no name a bank file can carry", NOW)
    _, found = transfers(bank_files.sepa_file(payments(), "Mecene", made, await withdrawals.lines(session, made),
                                              EXECUTION))
    assert set(found) == {carla.public_id}


async def test_a_malformed_bank_bic_refuses_the_file(session: AsyncSession) -> None:
    made = await euro_batch(session)
    with pytest.raises(Refusal) as refused:
        bank_files.sepa_file(payments(MECENE_PAYMENTS_BANK_BIC="not a bic"), "Mecene", made.batch, made.lines,
                             EXECUTION)
    assert refused.value.code == "invalid_sepa_file"
