"""Top-ups by bank transfer: a reference for the donor, and the operator matching what the bank received.

A donor who chooses a transfer gets the operator's account details and a
reference of their own (`MCN-XXXX-XXXX`, letters and digits nobody misreads).
Banks carry it in the transfer's remittance text, often among other words
and with spaces or dashes lost, so matching looks for the pattern anywhere in
what the operator pastes or imports. A received transfer credits its top-up
once; an unknown reference, a second transfer of the same reference, or
another currency is reported to the operator and credits nothing.
"""

import csv
import io
import re
import secrets
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from server.i18n.current import N_
from server.mail import notices as mail_notices
from settlement import topups
from settlement.models import TopUp
from settlement.money import Money, MoneyError, parse_amount

NAME = "bank"
_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
_FOUND = re.compile(r"MCN[\s-]*([A-Z2-9]{4})[\s-]*([A-Z2-9]{4})")
#: Outcomes of recording one received transfer.
CREDITED = "credited"
ALREADY_CREDITED = "already_credited"
UNKNOWN_REFERENCE = "unknown_reference"
REFUSED = "refused"


@dataclass(frozen=True)
class Received:
    """One received transfer and what recording it did, said to the operator by `template` filled with `params`.

    Kept apart, as a `Refusal` is, so a page translates the template before
    filling it in; `message` is the English the CLI prints.
    """

    reference: str
    outcome: str
    template: str
    params: dict[str, str | int] = field(default_factory=dict)
    topup: TopUp | None = None

    @property
    def message(self) -> str:
        return self.template % self.params if self.params else self.template


def new_reference() -> str:
    """Forty bits of randomness: guessing another donor's reference is hopeless, typing one is easy."""
    code = "".join(secrets.choice(_ALPHABET) for _ in range(8))
    return f"MCN-{code[:4]}-{code[4:]}"


def find_reference(text: str) -> str | None:
    """The first reference in `text` (a remittance line, a pasted statement), in its one written form."""
    found = _FOUND.search(text.upper())
    return f"MCN-{found.group(1)}-{found.group(2)}" if found else None


async def record(session: AsyncSession, text: str, money: Money, now: datetime) -> Received:
    """Credit the top-up whose reference `text` holds with what arrived, once."""
    reference = find_reference(text)
    if reference is None:
        return Received(text.strip()[:60], UNKNOWN_REFERENCE, N_("no MCN-XXXX-XXXX reference in it"))
    topup = await topups.by_reference(session, NAME, reference)
    if topup is None:
        return Received(reference, UNKNOWN_REFERENCE, N_("no top-up has this reference: return the transfer "
                                                         "or credit it by hand"))
    if topup.state == topups.CONFIRMED:
        return Received(reference, ALREADY_CREDITED, N_("already credited to %(username)s: nothing changed; "
                                                        "a second transfer is credited by hand"),
                        {"username": topup.username}, topup)
    try:
        await topups.confirm(session, topup, now, received=money)
    except MoneyError as refused:
        return Received(reference, REFUSED, refused.template, refused.params, topup)
    await mail_notices.topup_confirmed(session, topup, now)
    return Received(reference, CREDITED, N_("credited to %(username)s"), {"username": topup.username}, topup)


@dataclass(frozen=True)
class StatementLine:
    """A line of the bank's export: its number in the file, its text, and the amount read from it."""

    line: int
    text: str
    money: Money | None
    error: str = ""


def read_statement(content: str, currency: str) -> list[StatementLine]:
    """A CSV export with a header naming `reference` (or `description`) and `amount`, and optionally `currency`.

    Banks export credits and debits alike; lines that are not credits (a
    negative or zero amount) are reported, never credited.
    """
    rows = csv.DictReader(io.StringIO(content))
    columns = {name.strip().lower(): name for name in rows.fieldnames or []}
    text_column = columns.get("reference") or columns.get("description")
    amount_column = columns.get("amount")
    if text_column is None or amount_column is None:
        raise ValueError("the file needs a header line naming a `reference` (or `description`) column and an "
                         "`amount` column")
    return [_line(number, row, text_column, amount_column, columns.get("currency"), currency)
            for number, row in enumerate(rows, start=2)]


def _line(number: int, row: dict[str, str], text_column: str, amount_column: str, currency_column: str | None,
          currency: str) -> StatementLine:
    text = (row.get(text_column) or "").strip()
    amount = (row.get(amount_column) or "").strip()
    if amount.startswith(("-", "\u2212")):
        return StatementLine(number, text, None, "a debit, not a credit")
    line_currency = ((row.get(currency_column) or "") if currency_column else "").strip().upper() or currency
    try:
        return StatementLine(number, text, parse_amount(amount, line_currency))
    except MoneyError as error:
        return StatementLine(number, text, None, f"amount: {error}")
