"""Receiving activities: shape checks, the origin rule, and the row each one is stored as.

The inbox answers 2xx only after the row is committed (`inbox_writer`), so
nothing a peer was told we accepted can be lost; the work it implies happens
later in `processing`.
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from federation.errors import FederationError
from federation.models import INBOX_STATES
from federation.strict_json import InvalidJSON, json_object
from federation.vocab import object_id

#: The columns that keep an activity's id and its actor's URI hold this many characters.
MAX_URI_LENGTH = 2048
MAX_TYPE_LENGTH = 64


class InvalidActivity(FederationError):
    code = "invalid_activity"


class ReceivedJSON(dict[str, Any]):
    """An activity as parsed, with the JSON text it was received as: stored as that text, not encoded again.

    Re-encoding a parsed document was a tenth of what storing an activity
    costs the inbox. The text is what the peer signed (its Digest covers it),
    the parser has already refused what neither database can hold (NUL, lone
    surrogates), and reading it back gives the same document. An activity
    changed before it is stored (`strip_foreign_objects`) is a plain dict
    again, and is encoded as before.
    """

    def __init__(self, document: dict[str, Any], text: str) -> None:
        super().__init__(document)
        self.text = text


@dataclass(frozen=True)
class Incoming:
    activity: dict[str, Any]
    activity_id: str
    kind: str
    actor: str


def parse_activity(body: bytes) -> Incoming:
    """Check what every activity needs before any key is fetched; errors become 400."""
    try:
        document = json_object(body)
    except InvalidJSON as exc:
        raise InvalidActivity(f"The body is not valid JSON: {exc}.", code="invalid_json") from None
    activity_id, kind, actor = document.get("id"), document.get("type"), object_id(document.get("actor"))
    if not isinstance(activity_id, str) or not _is_http_url(activity_id):
        raise InvalidActivity("The activity needs an http(s) `id`.")
    if not isinstance(kind, str) or not kind or len(kind) > MAX_TYPE_LENGTH:
        raise InvalidActivity("The activity needs a `type`.")
    if actor is None or not _is_http_url(actor):
        raise InvalidActivity("The activity needs an `actor`.")
    if max(len(activity_id), len(actor)) > MAX_URI_LENGTH:
        raise InvalidActivity(f"An activity's `id` and `actor` are at most {MAX_URI_LENGTH} characters.",
                              code="too_long")
    if urlsplit(activity_id).netloc != urlsplit(actor).netloc:
        raise InvalidActivity("The activity id must be on its actor's host.", code="foreign_activity_id")
    return Incoming(_as_received(document, body), activity_id, kind, actor)


def _as_received(document: dict[str, Any], body: bytes) -> dict[str, Any]:
    """The document with its text, when the body is UTF-8 (`json.loads` also reads UTF-16 and UTF-32, and a BOM)."""
    if not body.startswith(b"{") or body.startswith(b"{\x00"):
        return document
    return ReceivedJSON(document, body.decode())


def strip_foreign_objects(activity: dict[str, Any], actor: str) -> dict[str, Any]:
    """Reduce an embedded `object` from another host to its id and type.

    Only the origin of an object may tell us what it says; handlers that need
    its content fetch it from there (the lesson of Mastodon's CVE-2024-23832).
    The type stays, unbelieved, so that an `Accept` of our own `Follow` or
    `Payout` reaches the handler that looks that id up among ours.
    """
    embedded = activity.get("object")
    if not isinstance(embedded, dict):
        return activity
    embedded_id = object_id(embedded)
    if embedded_id is None or urlsplit(embedded_id).netloc == urlsplit(actor).netloc:
        return activity
    stub: dict[str, Any] = {"id": embedded_id}
    if isinstance(embedded.get("type"), str):
        stub["type"] = embedded["type"]
    return {**activity, "object": stub}


def inbox_row(incoming: Incoming, now: datetime, *, acted_on: bool = True) -> dict[str, Any]:
    """The `fed_inbox_items` row that keeps a verified activity; born `done` when no handler acts on its type."""
    return {
        "activity_id": incoming.activity_id,
        "actor_uri": incoming.actor,
        "activity": strip_foreign_objects(incoming.activity, incoming.actor),
        "state": INBOX_STATES.birth("pending" if acted_on else "done"),
        "attempts": 0,
        "received_at": now,
        "processed_at": None if acted_on else now,
    }


def _is_http_url(value: str) -> bool:
    parts = urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.netloc)
