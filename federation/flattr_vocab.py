"""The `Flattr` activity and its JSON-LD context (written up in docs/protocol.md).

The context is embedded in every activity rather than linked, as Mastodon
does for its own extension terms: no peer ever has to dereference it, and a
JSON-LD processor still maps `Flattr` and `period` to stable IRIs.
"""

import re
from datetime import datetime
from typing import Any

from federation.vocab import AS_CONTEXT

NAMESPACE = "https://w3id.org/mecene#"
CONTEXT: list[Any] = [
    AS_CONTEXT,
    {"mecene": NAMESPACE, "Flattr": "mecene:Flattr", "period": "mecene:period"},
]
PERIOD_LABEL = re.compile(r"[0-9]{4}-[0-9]{2}(-[0-9]{2})?")


def flattr(activity_id: str, donor: str, thing: str, author: str, period: str, published: datetime) -> dict[str, Any]:
    """`donor` flattrs `thing` for `period`; addressed to the author alone (a flattr is not a public post)."""
    return {
        "@context": CONTEXT, "id": activity_id, "type": "Flattr", "actor": donor, "object": thing,
        "to": [author], "period": period, "published": _timestamp(published),
    }


def like(activity_id: str, donor: str, thing: str, author: str) -> dict[str, Any]:
    """The plain `Like` sent alongside for servers that ignore `Flattr`."""
    return {"@context": AS_CONTEXT, "id": activity_id, "type": "Like", "actor": donor, "object": thing, "to": [author]}


def undo(activity_id: str, donor: str, original: dict[str, Any]) -> dict[str, Any]:
    """Withdraw `original` (a Flattr or a Like), embedding it so receivers can dispatch on its type."""
    inner = {key: value for key, value in original.items() if key != "@context"}
    return {"@context": original["@context"], "id": activity_id, "type": "Undo", "actor": donor,
            "object": inner, "to": original["to"]}


def period_label(activity: dict[str, Any]) -> str | None:
    """The period a received Flattr claims, when it is a well-formed label."""
    value = activity.get("period")
    return value if isinstance(value, str) and PERIOD_LABEL.fullmatch(value) else None


def _timestamp(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")
