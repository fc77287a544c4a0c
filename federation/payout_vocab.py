"""The `Payout` activity between Mecene instances, and the `Accept`/`Reject` that answers it: written and read.

Amounts travel as decimal strings in the payout's currency ("2.64"): exact,
readable by a person auditing a delivery log, and parsed back without floats
by the receiver's money code (this module hands them on as the strings they
are). The payout's id is stable per (period, destination), so a retried
delivery is the same payout. What a peer sends is read leniently here (a
missing field becomes an empty one, a bad line stays a line) so that the
receiver can refuse it line by line.
"""

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeGuard

from federation.flattr_vocab import NAMESPACE, PERIOD_LABEL
from federation.vocab import AS_CONTEXT, object_id

CONTEXT: list[Any] = [
    AS_CONTEXT,
    {"mecene": NAMESPACE, "Payout": "mecene:Payout", "period": "mecene:period", "currency": "mecene:currency",
     "total": "mecene:total", "items": "mecene:items", "creator": {"@id": "mecene:creator", "@type": "@id"},
     "amount": "mecene:amount", "flattrs": "mecene:flattrs", "refused": "mecene:refused",
     "reason": "mecene:reason"},
]


#: Why a Payout was rejected whole: no agreement in force between the two instances in its currency.
NO_AGREEMENT = "no_agreement"
#: Why a line was refused: it would take what the sender owes past the destination's credit limit.
CREDIT_LIMIT = "credit_limit"
#: A Payout's lines at most; a close sends one line per (creator, thing) of one host.
MAX_ITEMS = 10_000
#: What a line may count: more flattrs than any period could hold is not a count.
MAX_FLATTRS = 1_000_000_000
#: The columns that keep a creator's actor URI and a thing's id hold this many characters.
MAX_URI_LENGTH = 2048


class InvalidPayout(ValueError):
    """A Payout that cannot be read as a whole; `code` is the reason its Reject gives."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class PayoutItem:
    """One (creator, thing) line of a Payout; `amount` is the decimal string as sent.

    `amount` is None when the line cannot be credited as it stands (no decimal
    string, a creator or thing that is no http(s) URI of a storable length, a
    count of flattrs that is no count): the receiver refuses it as invalid.
    """

    creator: str
    thing: str
    amount: str | None
    flattrs: int

    def as_dict(self) -> dict[str, Any]:
        return {"creator": self.creator, "object": self.thing, "flattrs": self.flattrs, "amount": self.amount}


@dataclass(frozen=True)
class ReceivedPayout:
    id: str
    actor: str
    period: str
    currency: str
    items: list[PayoutItem]


@dataclass(frozen=True)
class ReceivedAnswer:
    """An `Accept` or `Reject` of one of our payouts, and the (creator, thing) lines it did not credit.

    A `Reject` credited nothing, whatever lines it lists: `rejected` says so,
    and `reason` why, when it gave one (`NO_AGREEMENT`, or a Payout it could not read).
    `over_limit` are the refused lines whose reason was `CREDIT_LIMIT`: the
    destination may take them after a clearing.
    """

    payout_id: str | None
    refused: list[tuple[str, str]]
    rejected: bool = False
    reason: str | None = None
    over_limit: list[tuple[str, str]] = field(default_factory=list)


def payout(payout_id: str, sender: str, recipient: str, *, period: str, currency: str, total: str,
           items: list[PayoutItem], published: datetime) -> dict[str, Any]:
    return {
        "@context": CONTEXT, "id": payout_id, "type": "Payout", "actor": sender, "to": [recipient],
        "period": period, "currency": currency, "total": total, "items": [item.as_dict() for item in items],
        "published": published.strftime("%Y-%m-%dT%H:%M:%SZ"),
    }


def read_payout(activity: dict[str, Any]) -> ReceivedPayout:
    """The inbox has checked `id` and `actor`; the rest is the sender's word: `InvalidPayout` when unreadable.

    A period that is no period label, or items that are no list of at most
    MAX_ITEMS, make the whole Payout unreadable; a bad line only itself.
    """
    period, items = activity.get("period"), activity.get("items")
    if not isinstance(period, str) or not PERIOD_LABEL.fullmatch(period):
        raise InvalidPayout("invalid_period", "The period must be a label such as 2026-10 or 2026-10-31.")
    if not isinstance(items, list) or not 0 < len(items) <= MAX_ITEMS:
        raise InvalidPayout("invalid_items", f"The items must be a list of 1 to {MAX_ITEMS} lines.")
    currency = activity.get("currency")
    return ReceivedPayout(str(activity["id"]), str(activity["actor"]), period,
                          currency if isinstance(currency, str) else "", [_item(item) for item in items])


def read_answer(activity: dict[str, Any]) -> ReceivedAnswer:
    refused = activity.get("refused")
    items = [item for item in refused if isinstance(item, dict)] if isinstance(refused, list) else []
    lines = [(str(item.get("creator")), str(item.get("object"))) for item in items]
    over_limit = [line for line, item in zip(lines, items, strict=True) if item.get("reason") == CREDIT_LIMIT]
    reason = activity.get("reason")
    return ReceivedAnswer(object_id(activity.get("object")), lines, rejected=activity.get("type") == "Reject",
                          reason=reason[:64] if isinstance(reason, str) else None, over_limit=over_limit)


def _item(item: object) -> PayoutItem:
    """A line without a count of flattrs stands for one, as the first senders wrote it."""
    if not isinstance(item, dict):
        return PayoutItem("", "", None, 1)
    creator, thing, amount = item.get("creator"), item.get("object"), item.get("amount")
    flattrs = item.get("flattrs", 1)
    if not (_is_uri(creator) and _is_uri(thing) and isinstance(amount, str) and _is_count(flattrs)):
        return PayoutItem(_shown(creator), _shown(thing), None, 1)
    return PayoutItem(creator, thing, amount, flattrs)


def _is_uri(value: object) -> TypeGuard[str]:
    return isinstance(value, str) and len(value) <= MAX_URI_LENGTH and value.startswith(("https://", "http://"))


def _is_count(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value <= MAX_FLATTRS


def _shown(value: object) -> str:
    """How a refused line names what it held, bounded: the answer repeats it to the sender."""
    return value[:MAX_URI_LENGTH] if isinstance(value, str) else ""


def answer(activity_id: str, kind: str, sender: str, recipient: str, payout_id: str,
           refused: list[dict[str, str]], reason: str | None = None) -> dict[str, Any]:
    """`Accept` when some line was credited, `Reject` when none was; `refused` lists the lines not credited.

    `reason`: why a Payout was rejected as a whole: it could not be read, or
    there is no agreement in force with its sender (`NO_AGREEMENT`).
    """
    document = {
        "@context": CONTEXT, "id": activity_id, "type": kind, "actor": sender, "to": [recipient],
        "object": {"id": payout_id, "type": "Payout"}, "refused": refused,
    }
    return document | ({"reason": reason} if reason else {})
