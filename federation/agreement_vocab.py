"""Agreements between instances on the wire: `Offer{Agreement}`, `Accept`/`Reject` and `Leave`, written and read.

Both ends are instance actors. The proposer's `Offer` carries an `Agreement`:
its id (minted on the proposer's host), the currency, the proposer's credit
limit (the most it lets the other instance owe it) and where the other should
pay it. The acceptor's `Accept` of that Offer carries, as its `result`, the
same kind of object stating the acceptor's own limit and payment details: each
side only ever states its own terms. A `Reject` says no, with a `reason`.
Either side ends an agreement, or takes back an Offer not answered yet, with
`Leave`, which ActivityStreams defines as the actor having left the object:
the agreement stays on both sides' books, as does what is owed under it, and
no `Delete` or `Undo` has to pretend otherwise.

Amounts are decimal strings in the agreement's currency, as in Payouts. What a
peer sends is checked here for its shape (types, lengths, a three-letter
code, a decimal string, an IBAN's characters): `InvalidAgreement` names what
is wrong. Whether the terms make sense (a currency that exists, its minor
digits, an IBAN's checksum) is the settlement layer's to judge.
"""

import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeGuard
from urllib.parse import urlsplit

from federation.flattr_vocab import NAMESPACE
from federation.vocab import AS_CONTEXT, object_id
from federation.vocab_checks import MAX_URI_LENGTH, Unreadable, is_currency_code, is_decimal, is_reason, is_uri

CONTEXT: list[Any] = [
    AS_CONTEXT,
    {"mecene": NAMESPACE, "Agreement": "mecene:Agreement", "currency": "mecene:currency",
     "creditLimit": "mecene:creditLimit", "paymentDetails": "mecene:paymentDetails", "iban": "mecene:iban",
     "accountHolder": "mecene:accountHolder", "instructions": "mecene:instructions", "reason": "mecene:reason"},
]

MAX_IBAN_LENGTH = 34
MAX_HOLDER_LENGTH = 70
MAX_INSTRUCTIONS_LENGTH = 1000
#: An IBAN in its compact form: country, check digits, then the account in letters and digits.
IBAN_SHAPE = re.compile(r"[A-Z]{2}[0-9]{2}[A-Z0-9]{1,30}")


class InvalidAgreement(Unreadable):
    """An agreement activity that cannot be read; `code` is the reason a Reject of it gives."""


@dataclass(frozen=True)
class PaymentDetails:
    """Where one side wants to be paid: an IBAN and its holder, or instructions."""

    iban: str | None = None
    account_holder: str | None = None
    instructions: str | None = None

    def as_dict(self) -> dict[str, str]:
        named = {"iban": self.iban, "accountHolder": self.account_holder, "instructions": self.instructions}
        return {name: value for name, value in named.items() if value is not None}


@dataclass(frozen=True)
class Terms:
    """One side's terms of the agreement `agreement_id`; `credit_limit` is the decimal string as sent."""

    agreement_id: str
    currency: str
    credit_limit: str
    payment: PaymentDetails

    def as_object(self) -> dict[str, Any]:
        return {"id": self.agreement_id, "type": "Agreement", "currency": self.currency,
                "creditLimit": self.credit_limit, "paymentDetails": self.payment.as_dict()}


@dataclass(frozen=True)
class ReceivedAnswer:
    """An `Accept` (with the acceptor's terms) or a `Reject` (terms None, perhaps a reason) of the Offer `offer_id`."""

    offer_id: str
    terms: Terms | None
    reason: str | None = None


def offer(activity_id: str, sender: str, recipient: str, terms: Terms, published: datetime) -> dict[str, Any]:
    return _activity(activity_id, "Offer", sender, recipient, terms.as_object(), published)


def accept(activity_id: str, sender: str, recipient: str, offer_id: str, terms: Terms,
           published: datetime) -> dict[str, Any]:
    """Yes to `offer_id`, stating our own terms as the `result`."""
    return _activity(activity_id, "Accept", sender, recipient, {"id": offer_id, "type": "Offer"}, published) | {
        "result": terms.as_object()}


def reject(activity_id: str, sender: str, recipient: str, offer_id: str, reason: str,
           published: datetime) -> dict[str, Any]:
    return _activity(activity_id, "Reject", sender, recipient, {"id": offer_id, "type": "Offer"}, published) | {
        "reason": reason}


def leave(activity_id: str, sender: str, recipient: str, agreement_id: str, published: datetime) -> dict[str, Any]:
    return _activity(activity_id, "Leave", sender, recipient, {"id": agreement_id, "type": "Agreement"}, published)


def _activity(activity_id: str, kind: str, sender: str, recipient: str, obj: dict[str, Any],
              published: datetime) -> dict[str, Any]:
    return {"@context": CONTEXT, "id": activity_id, "type": kind, "actor": sender, "to": [recipient], "object": obj,
            "published": published.strftime("%Y-%m-%dT%H:%M:%SZ")}


def names_an_agreement(activity: dict[str, Any]) -> bool:
    """Whether an `Offer` or a `Leave` is about an agreement: others (a group left, say) are not ours to read."""
    embedded = activity.get("object")
    return isinstance(embedded, dict) and embedded.get("type") == "Agreement"


def read_offer(activity: dict[str, Any]) -> Terms:
    """The proposer's terms; the inbox has checked `id` and `actor`, the agreement's id must be on the actor's host.

    Checked first: the inbox cuts an object from another host down to its id.
    """
    agreement_id = object_id(activity.get("object"))
    if not is_uri(agreement_id) or urlsplit(agreement_id).netloc != urlsplit(str(activity["actor"])).netloc:
        raise InvalidAgreement("invalid_agreement", "An Agreement's id is on the host of the instance proposing it.")
    return _terms(activity.get("object"))


def read_answer(activity: dict[str, Any]) -> ReceivedAnswer:
    offer_id = object_id(activity.get("object"))
    if not is_uri(offer_id):
        raise InvalidAgreement("invalid_answer", "An answer's object is the id of the Offer it answers.")
    if activity.get("type") == "Accept":
        return ReceivedAnswer(offer_id, _terms(activity.get("result")))
    reason = activity.get("reason")
    if reason is not None and not is_reason(reason):
        raise InvalidAgreement("invalid_answer", "A Reject's reason is a code of 1 to 64 lower-case letters and _.")
    return ReceivedAnswer(offer_id, None, reason)


def read_leave(activity: dict[str, Any]) -> str:
    """The id of the agreement left."""
    agreement_id = object_id(activity.get("object"))
    if not is_uri(agreement_id):
        raise InvalidAgreement("invalid_agreement", "A Leave's object is the id of the Agreement left.")
    return agreement_id


def _terms(agreement: object) -> Terms:
    if not isinstance(agreement, dict) or agreement.get("type") != "Agreement":
        raise InvalidAgreement("invalid_agreement", "The terms travel as an object of type Agreement.")
    agreement_id, currency, limit = agreement.get("id"), agreement.get("currency"), agreement.get("creditLimit")
    if not is_uri(agreement_id):
        raise InvalidAgreement("invalid_agreement", f"An Agreement's id is an http(s) URI of at most "
                                                    f"{MAX_URI_LENGTH} characters.")
    if not is_currency_code(currency):
        raise InvalidAgreement("invalid_currency", "`currency` is an ISO 4217 code such as EUR.")
    if not is_decimal(limit):
        raise InvalidAgreement("invalid_credit_limit", '`creditLimit` is a decimal string such as "500.00".')
    return Terms(agreement_id, currency, limit, _payment(agreement.get("paymentDetails")))


def _payment(details: object) -> PaymentDetails:
    """An IBAN with its account holder, or instructions; never both, never neither."""
    if not isinstance(details, dict):
        raise _bad_payment("`paymentDetails` is an object.")
    iban, holder, instructions = details.get("iban"), details.get("accountHolder"), details.get("instructions")
    if instructions is not None:
        if iban is not None or holder is not None:
            raise _bad_payment("`paymentDetails` holds an IBAN with its holder, or instructions, not both.")
        if not _is_text(instructions, MAX_INSTRUCTIONS_LENGTH, lines=True):
            raise _bad_payment(f"`instructions` are 1 to {MAX_INSTRUCTIONS_LENGTH} characters.")
        return PaymentDetails(instructions=instructions)
    if not isinstance(iban, str) or not IBAN_SHAPE.fullmatch(iban):
        raise _bad_payment("`iban` is an IBAN in its compact form, such as DE89370400440532013000.")
    if not _is_text(holder, MAX_HOLDER_LENGTH, lines=False):
        raise _bad_payment(f"`accountHolder` is one line of 1 to {MAX_HOLDER_LENGTH} characters.")
    return PaymentDetails(iban=iban, account_holder=holder)


def _bad_payment(message: str) -> InvalidAgreement:
    return InvalidAgreement("invalid_payment_details", message)


def _is_text(value: object, limit: int, *, lines: bool) -> TypeGuard[str]:
    """Text with something in it and no control character (line breaks only where `lines`)."""
    if not isinstance(value, str) or not value.strip() or len(value) > limit:
        return False
    allowed = "\n" if lines else ""
    return not any(unicodedata.category(c) in ("Cc", "Cs") and c not in allowed for c in value)
