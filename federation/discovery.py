"""Finding a remote actor from `name@host` through WebFinger, as Mastodon does."""

from urllib.parse import urlencode

from federation.client import FederationClient
from federation.errors import FederationError
from federation.vocab import AP_MEDIA_TYPE, LD_MEDIA_TYPE
from federation.wellknown import parse_acct


class DiscoveryError(FederationError):
    code = "not_found"


async def resolve_acct(client: FederationClient, acct: str, *, scheme: str = "https") -> str:
    """The actor URI that `name@host` names; the answer's subject must be the account asked for."""
    parsed = parse_acct(acct)
    if parsed is None:
        raise DiscoveryError(f"{acct!r} is not an account address like name@example.org.", code="bad_account")
    name, host = parsed
    resource = f"acct:{name}@{host}"
    query = urlencode({"resource": resource})
    document = await client.fetch_json(f"{scheme}://{host}/.well-known/webfinger?{query}",
                                       accept="application/jrd+json, application/json")
    if str(document.get("subject", "")).lower() != resource:
        raise DiscoveryError(f"WebFinger at {host} answered for another account.", code="subject_mismatch")
    for link in document.get("links", []):
        if (isinstance(link, dict) and link.get("rel") == "self"
                and link.get("type") in (AP_MEDIA_TYPE, LD_MEDIA_TYPE) and isinstance(href := link.get("href"), str)):
            return href
    raise DiscoveryError(f"{resource} has no ActivityPub actor.")
