"""Clearings between instances on the wire: the debtor's `Clearing` notice and the creditor's `Accept` or `Reject`.

The debtor's instance actor says, in a `Clearing` activity whose id is the
clearing's, that its operator paid the creditor `amount` by bank with a
`reference`, and that this clears `netted` more both ways (what each owed the
other). The creditor's instance actor answers once its operator has looked at
its bank account: `Accept` (received) or `Reject` with a `reason` (disputed,
or a notice its books cannot hold). Amounts are decimal strings in the
clearing's currency, as in Payouts; this module checks shapes only, and the
settlement layer reads the amounts.
"""

import unicodedata
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeGuard

from federation.flattr_vocab import NAMESPACE
from federation.vocab import AS_CONTEXT, object_id
from federation.vocab_checks import MAX_URI_LENGTH, Unreadable, is_currency_code, is_decimal, is_reason

CONTEXT: list[Any] = [
    AS_CONTEXT,
    {"mecene": NAMESPACE, "Clearing": "mecene:Clearing", "currency": "mecene:currency", "amount": "mecene:amount",
     "netted": "mecene:netted", "reference": "mecene:reference", "reason": "mecene:reason"},
]

MAX_REFERENCE_LENGTH = 64


class InvalidClearing(Unreadable):
    """A clearing activity that cannot be read; `code` is the reason a Reject of it gives."""


@dataclass(frozen=True)
class Notice:
    """A `Clearing` as sent: `amount` and `netted` are the decimal strings of the wire."""

    id: str
    currency: str
    amount: str
    netted: str
    reference: str


@dataclass(frozen=True)
class Answer:
    """The creditor's word on the clearing `clearing_id`: received, or disputed for `reason`."""

    clearing_id: str
    received: bool
    reason: str | None


def notice(sender: str, recipient: str, value: Notice, published: datetime) -> dict[str, Any]:
    return {"@context": CONTEXT, "id": value.id, "type": "Clearing", "actor": sender, "to": [recipient],
            "currency": value.currency, "amount": value.amount, "netted": value.netted,
            "reference": value.reference, "published": _time(published)}


def answer(activity_id: str, sender: str, recipient: str, clearing_id: str, reason: str | None,
           published: datetime) -> dict[str, Any]:
    """`Accept` when `reason` is None, `Reject` saying why otherwise."""
    document = {"@context": CONTEXT, "id": activity_id, "type": "Reject" if reason else "Accept", "actor": sender,
                "to": [recipient], "object": {"id": clearing_id, "type": "Clearing"}, "published": _time(published)}
    return document | ({"reason": reason} if reason else {})


def read_notice(activity: dict[str, Any]) -> Notice:
    """The inbox has checked `id` (on the actor's host) and `actor`; the rest is the sender's word."""
    currency, amount, netted = activity.get("currency"), activity.get("amount"), activity.get("netted")
    reference = activity.get("reference")
    if not is_currency_code(currency):
        raise InvalidClearing("invalid_currency", "`currency` is an ISO 4217 code such as EUR.")
    if not (is_decimal(amount) and is_decimal(netted)):
        raise InvalidClearing("invalid_amount", '`amount` and `netted` are decimal strings such as "120.00".')
    if not _is_reference(reference):
        raise InvalidClearing("invalid_reference", f"`reference` is one line of 1 to {MAX_REFERENCE_LENGTH} "
                                                   "characters.")
    return Notice(str(activity["id"]), currency, amount, netted, reference)


def read_answer(activity: dict[str, Any]) -> Answer:
    clearing_id = object_id(activity.get("object"))
    if not isinstance(clearing_id, str) or len(clearing_id) > MAX_URI_LENGTH:
        raise InvalidClearing("invalid_answer", "An answer's object is the id of the Clearing it answers.")
    if activity.get("type") == "Accept":
        return Answer(clearing_id, True, None)
    reason = activity.get("reason")
    return Answer(clearing_id, False, reason if is_reason(reason) else "disputed")


def _is_reference(value: object) -> TypeGuard[str]:
    """A bank transfer's reference: printable, one line, bounded."""
    return (isinstance(value, str) and 0 < len(value) <= MAX_REFERENCE_LENGTH
            and not any(unicodedata.category(char).startswith("C") for char in value))


def _time(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")
