"""The flattr intent: where a person's home instance lets them confirm a flattr, found through WebFinger.

A Flattr button is served by the creator's instance, but the donor may live
anywhere. Their home instance publishes, in every WebFinger answer, a link
template in the manner of FEP-3b86 activity intents and of the oStatus
remote-follow link; the creator's instance looks it up and sends the donor
there. The rel is the IRI of the `Flattr` activity itself, in Mecene's own
namespace, so that no generic intent client mistakes it for a standard one.
"""

import re
from dataclasses import dataclass
from urllib.parse import quote, urlencode

from federation.addresses import http_url
from federation.client import FederationClient
from federation.errors import FederationError
from federation.flattr_vocab import NAMESPACE
from federation.wellknown import parse_acct

FLATTR_INTENT_REL = f"{NAMESPACE}Flattr"
_HOST = re.compile(r"[a-z0-9]([a-z0-9.-]*[a-z0-9])?(:[0-9]{1,5})?")
_VARIABLE = re.compile(r"\{[^{}]*\}")
_FILLED = frozenset({"{uri}", "{object}"})
ADDRESS_MAX = 300


class IntentError(FederationError):
    """An address that cannot lead to a flattr intent; `code` says why (bad_address, not_mecene, …)."""

    code = "no_intent"


@dataclass(frozen=True)
class HomeAddress:
    """What a donor typed: an account (`alice@home.example`) or just their instance's host."""

    name: str
    host: str

    @property
    def resource(self) -> str:
        return f"acct:{self.name}@{self.host}"


def flattr_intent_link(base_url: str) -> dict[str, str]:
    return {"rel": FLATTR_INTENT_REL, "template": f"{base_url}/flattr?url={{uri}}"}


def parse_home(text: str) -> HomeAddress:
    """`alice@home.example`, `@alice@home.example`, `home.example` or `https://home.example/`.

    A bare host is looked up as its instance actor, `acct:host@host`, which
    Mecene and Mastodon both answer.
    """
    value = text.strip().lower()
    if value.startswith(("https://", "http://")):
        parts = http_url(value)
        value = "" if parts is None else parts.netloc
    parsed = parse_acct(value) if "@" in value else (value.split(":")[0], value)
    if len(value) > ADDRESS_MAX or parsed is None or not _HOST.fullmatch(parsed[1]):
        raise IntentError("Type your account like alice@example.org, or your instance's address.",
                          code="bad_address")
    return HomeAddress(*parsed)


async def discover_flattr_intent(client: FederationClient, home: HomeAddress, *, scheme: str = "https") -> str:
    """The template the donor's instance advertises; only an http(s) template is believed."""
    query = urlencode({"resource": home.resource})
    document = await client.fetch_json(f"{scheme}://{home.host}/.well-known/webfinger?{query}",
                                       accept="application/jrd+json, application/json")
    links = document.get("links")
    for link in links if isinstance(links, list) else []:
        if not isinstance(link, dict) or link.get("rel") != FLATTR_INTENT_REL:
            continue
        template = link.get("template")
        if isinstance(template, str) and _is_web(template):
            return template
    raise IntentError(f"{home.host} does not offer flattring: it is not a Mecene instance.", code="not_mecene")


def fill(template: str, url: str) -> str:
    """Percent-encode the URL into `{uri}` (or FEP-3b86's `{object}`); other variables become empty."""
    return _VARIABLE.sub(lambda found: quote(url, safe="") if found.group(0) in _FILLED else "", template)


def _is_web(template: str) -> bool:
    """An http(s) URL once filled in; one with a line break or a NUL would be a forged header in our redirect."""
    return http_url(template) is not None
