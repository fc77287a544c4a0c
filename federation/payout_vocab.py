"""The `Payout` activity between Mecene instances, and the `Accept`/`Reject` that answers it: written and read.

Amounts travel as decimal strings in the payout's currency ("2.64"): exact,
readable by a person auditing a delivery log, and parsed back without floats
by the receiver's money code (this module hands them on as the strings they
are). The payout's id is stable per (period, destination), so a retried
delivery is the same payout. What a peer sends is read leniently here (a
missing field becomes an empty one, a bad line stays a line) so that the
receiver can refuse it line by line.
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from federation.flattr_vocab import NAMESPACE
from federation.vocab import AS_CONTEXT, object_id

CONTEXT: list[Any] = [
    AS_CONTEXT,
    {"mecene": NAMESPACE, "Payout": "mecene:Payout", "period": "mecene:period", "currency": "mecene:currency",
     "total": "mecene:total", "items": "mecene:items", "creator": {"@id": "mecene:creator", "@type": "@id"},
     "amount": "mecene:amount", "flattrs": "mecene:flattrs", "refused": "mecene:refused",
     "reason": "mecene:reason"},
]


@dataclass(frozen=True)
class PayoutItem:
    """One (creator, thing) line of a Payout; `amount` is the decimal string as sent, None when it was not one."""

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
    """An `Accept` or `Reject` of one of our payouts, and the (creator, thing) lines it did not credit."""

    payout_id: str | None
    refused: list[tuple[str, str]]


def payout(payout_id: str, sender: str, recipient: str, *, period: str, currency: str, total: str,
           items: list[PayoutItem], published: datetime) -> dict[str, Any]:
    return {
        "@context": CONTEXT, "id": payout_id, "type": "Payout", "actor": sender, "to": [recipient],
        "period": period, "currency": currency, "total": total, "items": [item.as_dict() for item in items],
        "published": published.strftime("%Y-%m-%dT%H:%M:%SZ"),
    }


def read_payout(activity: dict[str, Any]) -> ReceivedPayout:
    """The processor has checked `id` and `actor`; every other field is the sender's word, read as it stands."""
    items = activity.get("items")
    lines = [_item(item) for item in items if isinstance(item, dict)] if isinstance(items, list) else []
    return ReceivedPayout(str(activity["id"]), str(activity["actor"]), str(activity.get("period", "")),
                          str(activity.get("currency", "")), lines)


def read_answer(activity: dict[str, Any]) -> ReceivedAnswer:
    refused = activity.get("refused")
    lines = [(str(item.get("creator")), str(item.get("object")))
             for item in refused if isinstance(item, dict)] if isinstance(refused, list) else []
    return ReceivedAnswer(object_id(activity.get("object")), lines)


def _item(item: dict[str, Any]) -> PayoutItem:
    """A line without a count of flattrs stands for one, as the first senders wrote it."""
    amount, flattrs = item.get("amount"), item.get("flattrs")
    return PayoutItem(str(item.get("creator")), str(item.get("object")), amount if isinstance(amount, str) else None,
                      flattrs if isinstance(flattrs, int) and flattrs > 0 else 1)


def answer(activity_id: str, kind: str, sender: str, recipient: str, payout_id: str,
           refused: list[dict[str, str]]) -> dict[str, Any]:
    """`Accept` when some line was credited, `Reject` when none was; `refused` lists the lines not credited."""
    return {
        "@context": CONTEXT, "id": activity_id, "type": kind, "actor": sender, "to": [recipient],
        "object": {"id": payout_id, "type": "Payout"}, "refused": refused,
    }
