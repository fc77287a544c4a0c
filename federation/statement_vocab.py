"""The `Statement` between instances on the wire: one side's account of the money between it and the other.

After each period, an instance actor sends each peer's instance actor what
its books say, in one currency: `owedTo` (what the sender owes the
recipient), `owedBy` (what the recipient owes the sender), every payout
between them (`sent` by the sender and answered, with what was accepted;
`received` from the recipient, with what was credited) and every confirmed
clearing (`paid` true when the sender paid it). Amounts are decimal strings
in the currency, as in Payouts; this module checks shapes and bounds only.
"""

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeGuard

from federation.flattr_vocab import NAMESPACE, PERIOD_LABEL
from federation.vocab import AS_CONTEXT
from federation.vocab_checks import Unreadable, is_currency_code, is_decimal, is_uri

CONTEXT: list[Any] = [
    AS_CONTEXT,
    {"mecene": NAMESPACE, "Statement": "mecene:Statement", "period": "mecene:period",
     "currency": "mecene:currency", "owedTo": "mecene:owedTo", "owedBy": "mecene:owedBy",
     "payouts": "mecene:payouts", "clearings": "mecene:clearings", "direction": "mecene:direction",
     "amount": "mecene:amount", "netted": "mecene:netted", "paid": "mecene:paid"},
]

#: Payout and clearing lines at most: ten years of monthly payouts, rounds and claims, many times over.
MAX_LINES = 10_000
SENT, RECEIVED = "sent", "received"


class InvalidStatement(Unreadable):
    """A statement that cannot be read; `code` names why, for the operator's log."""


@dataclass(frozen=True)
class PayoutLine:
    id: str
    direction: str
    amount: str


@dataclass(frozen=True)
class ClearingLine:
    id: str
    paid: bool
    amount: str
    netted: str


@dataclass(frozen=True)
class Statement:
    """A statement as sent: amounts are the decimal strings of the wire."""

    id: str
    period: str
    currency: str
    owed_to: str
    owed_by: str
    payouts: list[PayoutLine]
    clearings: list[ClearingLine]
    #: When the sender wrote it, by its clock: lines its side settled after that cannot be in it.
    published: datetime


def statement(sender: str, recipient: str, value: Statement) -> dict[str, Any]:
    return {"@context": CONTEXT, "id": value.id, "type": "Statement", "actor": sender, "to": [recipient],
            "period": value.period, "currency": value.currency, "owedTo": value.owed_to, "owedBy": value.owed_by,
            "payouts": [{"id": line.id, "direction": line.direction, "amount": line.amount}
                        for line in value.payouts],
            "clearings": [{"id": line.id, "paid": line.paid, "amount": line.amount, "netted": line.netted}
                          for line in value.clearings],
            "published": value.published.strftime("%Y-%m-%dT%H:%M:%SZ")}


def read_statement(activity: dict[str, Any]) -> Statement:
    """The inbox has checked `id` and `actor`; everything else is the sender's word."""
    period, currency = activity.get("period"), activity.get("currency")
    owed_to, owed_by = activity.get("owedTo"), activity.get("owedBy")
    payouts, clearings = activity.get("payouts"), activity.get("clearings")
    if not isinstance(period, str) or not PERIOD_LABEL.fullmatch(period):
        raise InvalidStatement("invalid_period", "The period must be a label such as 2026-10.")
    if not is_currency_code(currency):
        raise InvalidStatement("invalid_currency", "`currency` is an ISO 4217 code such as EUR.")
    if not (is_decimal(owed_to) and is_decimal(owed_by)):
        raise InvalidStatement("invalid_amount", "`owedTo` and `owedBy` are decimal strings.")
    if not (_is_list(payouts) and _is_list(clearings)):
        raise InvalidStatement("invalid_lines", f"`payouts` and `clearings` are lists of at most {MAX_LINES}.")
    return Statement(str(activity["id"]), period, currency, owed_to, owed_by,
                     [_payout_line(line) for line in payouts], [_clearing_line(line) for line in clearings],
                     _published(activity.get("published")))


def _published(value: object) -> datetime:
    try:
        return datetime.strptime(str(value), "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    except ValueError:
        raise InvalidStatement("invalid_published", "`published` is a UTC time such as 2026-12-01T10:00:00Z.") \
            from None


def _payout_line(line: object) -> PayoutLine:
    if not isinstance(line, dict):
        raise InvalidStatement("invalid_lines", "A payout line is an object.")
    payout_id, direction, amount = line.get("id"), line.get("direction"), line.get("amount")
    if not (is_uri(payout_id) and direction in (SENT, RECEIVED) and is_decimal(amount)):
        raise InvalidStatement("invalid_lines", "A payout line has an `id`, a `direction` and an `amount`.")
    return PayoutLine(payout_id, str(direction), amount)


def _clearing_line(line: object) -> ClearingLine:
    if not isinstance(line, dict):
        raise InvalidStatement("invalid_lines", "A clearing line is an object.")
    clearing_id, paid, amount, netted = line.get("id"), line.get("paid"), line.get("amount"), line.get("netted")
    if not (is_uri(clearing_id) and isinstance(paid, bool) and is_decimal(amount) and is_decimal(netted)):
        raise InvalidStatement("invalid_lines", "A clearing line has an `id`, `paid`, an `amount` and `netted`.")
    return ClearingLine(clearing_id, paid, amount, netted)


def _is_list(value: object) -> TypeGuard[list[Any]]:
    return isinstance(value, list) and len(value) <= MAX_LINES
