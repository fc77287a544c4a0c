"""A batch as files for the operator: the SEPA credit transfer its bank runs, and the list of the rest.

The euro withdrawals to an IBAN go into one ISO 20022 pain.001.001.03 file,
written by `sepaxml` and validated against the schema it ships before anyone
can download it: a file the bank would reject is never handed out. Each line
carries the withdrawal's public id as its end-to-end reference, which comes
back on the bank's statement, and `MECENE <id>` as the creator reads it. The
other lines (other currencies, instructions) are a CSV for the operator to
pay by hand.
"""

import csv
import io
from collections.abc import Sequence
from datetime import date

from sepaxml import SepaTransfer
from sepaxml.validation import ValidationError

from config.settings import PaymentSettings
from server.i18n.current import N_
from server.refusal import Kind, Refusal
from settlement import withdrawals
from settlement.models import Withdrawal, WithdrawalBatch
from settlement.money import Money, format_amount

SCHEMA = "pain.001.001.03"
RETURNED = withdrawals.RETURN_BATCHED.target


def sepa_file(settings: PaymentSettings, name: str, made: WithdrawalBatch, lines: Sequence[Withdrawal],
              execution_date: date) -> bytes:
    """The pain.001 file of the batch's SEPA lines, paid from the operator's account (`payments.bank_*`)."""
    paid = [row for row in lines if row.method == withdrawals.SEPA and row.state != RETURNED]
    if not paid:
        raise Refusal(Kind.NOT_FOUND, "no_sepa_lines", N_("Batch %(public_id)s has no euro line to an IBAN."),
                                                       {"public_id": made.public_id})
    if not settings.bank_iban:
        raise Refusal(Kind.CONFLICT, "no_bank_account", N_("Set payments.bank_iban and payments.bank_account_holder: "
                                                           "the file pays from that account."))
    transfer = SepaTransfer(_debtor(settings, name), schema=SCHEMA, clean=True)
    for row in paid:
        transfer.add_payment(_payment(row, made, execution_date))
    try:
        return bytes(transfer.export(validate=True))
    except ValidationError as invalid:
        raise Refusal(Kind.UNPROCESSABLE, "invalid_sepa_file", N_("Batch %(public_id)s's SEPA file would not pass "
                                                                  "its schema: check payments.bank_bic, and return a "
                                                                  "line whose account holder has no Latin letter to "
                                                                  "write in it."),
                                                               {"public_id": made.public_id}) from invalid


def _debtor(settings: PaymentSettings, name: str) -> dict[str, object]:
    debtor: dict[str, object] = {"name": settings.bank_account_holder or name, "IBAN": settings.bank_iban.replace(
        " ", "").upper(), "batch": True, "currency": withdrawals.SEPA_CURRENCY}
    if settings.bank_bic:
        debtor["BIC"] = settings.bank_bic.replace(" ", "").upper()
    return debtor


def _payment(row: Withdrawal, made: WithdrawalBatch, execution_date: date) -> dict[str, object]:
    payment: dict[str, object] = {"name": row.account_holder, "IBAN": row.iban, "amount": row.amount,
                                  "execution_date": execution_date, "description": f"MECENE {row.public_id}",
                                  "endtoend_id": row.public_id}
    if row.bic:
        payment["BIC"] = row.bic
    return payment


def other_lines(lines: Sequence[Withdrawal]) -> str:
    """The lines the operator pays by hand: who, how much, and the creator's own instructions."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["withdrawal", "username", "amount", "currency", "account_holder", "instructions", "reference"])
    for row in lines:
        if row.method == withdrawals.OTHER and row.state != RETURNED:
            writer.writerow([row.public_id, row.username, _decimal(row), row.currency, row.account_holder,
                             row.instructions or "", f"MECENE {row.public_id}"])
    return out.getvalue()


def _decimal(row: Withdrawal) -> str:
    return format_amount(Money(row.amount, row.currency))
