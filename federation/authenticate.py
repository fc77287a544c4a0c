"""Who signed this request: signature rules, key lookup, one re-fetch, key ownership.

The answer is the actor URI that owns the verifying key. Whether that actor
may do what the activity says is the caller's next question, asked with
`require_actor`.
"""

from collections.abc import Awaitable
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar
from urllib.parse import urlsplit

from federation.actors import ActorError, ActorStore
from federation.client import FetchError, UnsafeAddress
from federation.errors import FederationError
from federation.httpsig import RequestView, parse_signature, verify_claim

_Key = TypeVar("_Key")


class AuthenticationError(FederationError):
    """401 unless `transient` (the key could not be fetched now: 503, the peer retries)."""

    code = "unauthenticated"

    def __init__(self, safe_message: str, *, code: str, transient: bool = False) -> None:
        super().__init__(safe_message, code=code)
        self.transient = transient


@dataclass(frozen=True)
class Signer:
    actor_uri: str
    key_id: str


async def authenticate(view: RequestView, *, actors: ActorStore, now: datetime, local_host: str) -> Signer:
    """Verify the request's signature; raises SignatureError or AuthenticationError."""
    claim = parse_signature(view, now=now)
    if urlsplit(claim.key_id).netloc in ("", local_host):
        raise AuthenticationError("The key must belong to a remote actor.", code="local_key")
    key = await _lookup(actors.key_for(claim.key_id))
    if not verify_claim(claim, key.public_key):
        refreshed = await _lookup(actors.refresh(claim.key_id))
        if refreshed is None or not verify_claim(claim, refreshed.public_key):
            raise AuthenticationError("The signature does not verify.", code="invalid_signature")
        key = refreshed
    return Signer(actor_uri=key.owner, key_id=key.key_id)


def require_actor(signer: Signer, actor_uri: str | None) -> None:
    """The activity's `actor` must be the key's owner (Fedify: "signer and actor do not match")."""
    if actor_uri != signer.actor_uri:
        raise AuthenticationError("The signer and the actor do not match.", code="actor_mismatch")


async def _lookup(lookup: Awaitable[_Key]) -> _Key:
    """The key store's answer, its failures told as authentication errors."""
    try:
        return await lookup
    except UnsafeAddress as exc:
        raise AuthenticationError(exc.safe_message, code="unsafe_key_url") from exc
    except FetchError as exc:
        raise AuthenticationError(
            f"The signing key could not be fetched: {exc.safe_message}", code="key_unavailable",
            transient=exc.transient,
        ) from exc
    except ActorError as exc:
        raise AuthenticationError(exc.safe_message, code=exc.code) from exc
