"""The `Payout` activity between Mecene instances, and the `Accept`/`Reject` that answers it.

Amounts travel as decimal strings in the payout's currency ("2.64"): exact,
readable by a person auditing a delivery log, and parsed back without floats
by the receiver's money code. The payout's id is stable per (period,
destination), so a retried delivery is the same payout.
"""

from datetime import datetime
from typing import Any

from federation.flattr_vocab import NAMESPACE
from federation.vocab import AS_CONTEXT

CONTEXT: list[Any] = [
    AS_CONTEXT,
    {"mecene": NAMESPACE, "Payout": "mecene:Payout", "period": "mecene:period", "currency": "mecene:currency",
     "total": "mecene:total", "items": "mecene:items", "creator": {"@id": "mecene:creator", "@type": "@id"},
     "amount": "mecene:amount", "flattrs": "mecene:flattrs", "refused": "mecene:refused",
     "reason": "mecene:reason"},
]


def payout(payout_id: str, sender: str, recipient: str, *, period: str, currency: str, total: str,
           items: list[dict[str, Any]], published: datetime) -> dict[str, Any]:
    """`items`: {"creator", "object", "amount", "flattrs"} per (creator, thing)."""
    return {
        "@context": CONTEXT, "id": payout_id, "type": "Payout", "actor": sender, "to": [recipient],
        "period": period, "currency": currency, "total": total, "items": items,
        "published": published.strftime("%Y-%m-%dT%H:%M:%SZ"),
    }


def answer(activity_id: str, kind: str, sender: str, recipient: str, payout_id: str,
           refused: list[dict[str, str]]) -> dict[str, Any]:
    """`Accept` when some line was credited, `Reject` when none was; `refused` lists the lines not credited."""
    return {
        "@context": CONTEXT, "id": activity_id, "type": kind, "actor": sender, "to": [recipient],
        "object": {"id": payout_id, "type": "Payout"}, "refused": refused,
    }
