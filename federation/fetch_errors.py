"""What a peer's response means for the caller: errors, checks, Retry-After.

Kept apart from the client so these rules can be read (and audited) without
the connection plumbing. `transient` is what the delivery queue needs: retry
later, or give up and dead-letter. `safe_message` never echoes the peer's
response, which may be attacker-chosen.
"""

from datetime import UTC, datetime
from email.message import Message
from email.utils import collapse_rfc2231_value, parsedate_to_datetime
from typing import Any

from yarl import URL

from federation.errors import FederationError
from federation.strict_json import InvalidJSON, json_object

AS_PROFILE = "https://www.w3.org/ns/activitystreams"


class FetchError(FederationError):
    """A request that reached (or tried to reach) a peer and failed."""

    code = "fetch_failed"

    def __init__(
        self,
        safe_message: str,
        *,
        code: str | None = None,
        transient: bool = False,
        status: int | None = None,
    ) -> None:
        super().__init__(safe_message, code=code)
        self.transient = transient
        self.status = status


class BlockedDomain(FetchError):
    """Not asked at all: the operator blocked the peer's domain (`federation/domain_blocks.py`)."""

    code = "domain_blocked"

    def __init__(self) -> None:
        super().__init__("this instance does not federate with that domain", code=self.code)


def error_for_status(status: int) -> FetchError:
    """Classify a non-success status: only overload and outages are worth retrying."""
    if status == 404:
        return FetchError("remote object not found", code="not_found", status=status)
    if status == 410:
        return FetchError("remote object is gone", code="gone", status=status)
    if status == 429:
        return FetchError("rate limited by peer", code="rate_limited", transient=True, status=status)
    if status >= 500:
        return FetchError("peer server error", code="server_error", transient=True, status=status)
    return FetchError("peer refused the request", code="http_error", status=status)


def parse_retry_after(value: str | None) -> float | None:
    """Seconds to wait, from delta-seconds or an HTTP-date; None when absent or garbled."""
    if value is None:
        return None
    value = value.strip()
    if value.isascii() and value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def require_activitystreams(content_type: str) -> None:
    """Parse with the stdlib MIME parser: quoting and parameter order vary between servers."""
    message = Message()
    message["Content-Type"] = content_type
    media_type = message.get_content_type()
    profile = message.get_param("profile")
    if isinstance(profile, tuple):
        profile = collapse_rfc2231_value(profile)
    if media_type == "application/activity+json":
        return
    if media_type == "application/ld+json" and AS_PROFILE in str(profile or "").split():
        return
    raise FetchError("peer did not answer with ActivityStreams", code="unsupported_content_type")


def parse_json_object(body: bytes) -> dict[str, Any]:
    """Decode a body that must be a JSON object (`federation/strict_json.py`)."""
    try:
        return json_object(body)
    except InvalidJSON as exc:
        raise FetchError(f"peer sent invalid JSON: {exc}", code="invalid_json") from exc


def require_matching_id(doc: dict[str, Any], requested: str, final: URL) -> None:
    """Exact-id rule (Mastodon CVE-2024-23832, Akkoma's fix).

    The id must be the URL asked for or the URL that answered, and must live
    on the host that actually served the document: otherwise any server could
    publish objects in another server's name, via a redirect or a forged id.
    """
    doc_id = doc.get("id")
    if isinstance(doc_id, str) and doc_id in (requested, str(final)) and URL(doc_id).host == final.host:
        return
    raise FetchError("object id does not match its URL", code="id_mismatch")
