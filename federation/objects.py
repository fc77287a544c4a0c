"""Turning a URL someone pasted into the ActivityPub object it shows, and its author.

People paste what their browser shows: a Mastodon `/@name/123` page, a
PeerTube watch page, a blog post. We ask for ActivityPub first (Mastodon and
most servers negotiate on the same URL), then follow an HTML page's
`<link rel="alternate" type="application/activity+json">`. Whatever route,
the object is finally taken from its own id on its own host, and its author
must live on that host too: nobody may make us pay one server's author for
another server's post.
"""

from dataclasses import dataclass
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urljoin

from federation.addresses import http_url
from federation.client import AP_ACCEPT, FederationClient, Signer
from federation.errors import FederationError
from federation.fetch_errors import parse_json_object
from federation.vocab import ACTOR_TYPES, object_id

RESOLVE_ACCEPT = f"{AP_ACCEPT}, text/html;q=0.5"
_AP_TYPES = ("application/activity+json", "application/ld+json")


class ResolveError(FederationError):
    code = "not_resolvable"


@dataclass(frozen=True)
class ResolvedObject:
    id: str
    author: str
    kind: str
    document: dict[str, Any]


async def resolve_object(client: FederationClient, url: str, *, signer: Signer) -> ResolvedObject:
    """Fetch (signed, as servers in secure mode demand) what `url` shows; see the module docstring."""
    fetched = await client.fetch(url, accept=RESOLVE_ACCEPT, signer=signer)
    media_type = fetched.content_type.split(";", 1)[0].strip().lower()
    if media_type in _AP_TYPES:
        canonical = object_id(parse_json_object(fetched.body))
        if canonical is None or _host(canonical) != fetched.url.raw_authority:
            raise ResolveError("The page's ActivityPub document has no id on its own host.", code="foreign_object")
    elif media_type == "text/html":
        canonical = _alternate_link(fetched.body.decode("utf-8", "replace"), str(fetched.url))
        if canonical is None:
            raise ResolveError("That page links to no ActivityPub object.", code="not_activitypub")
    else:
        raise ResolveError("That URL serves neither ActivityPub nor an HTML page.", code="not_activitypub")
    return _checked(await client.fetch_object(canonical, signer=signer))


def author_of(document: dict[str, Any]) -> str | None:
    """The first actor in `attributedTo`, which may be an IRI, an object, or a list of either."""
    attributed = document.get("attributedTo")
    for candidate in attributed if isinstance(attributed, list) else [attributed]:
        if isinstance(candidate, dict) and candidate.get("type") not in (*ACTOR_TYPES, None):
            continue
        found = object_id(candidate)
        if found is not None:
            return found
    return None


def _checked(document: dict[str, Any]) -> ResolvedObject:
    kind = str(document.get("type", ""))
    if kind in ACTOR_TYPES or kind == "Tombstone":
        raise ResolveError(f"That URL is a {kind}, not something to flattr.", code="not_flattrable")
    author = author_of(document)
    if author is None:
        raise ResolveError("That object names no author (attributedTo).", code="no_author")
    if _host(author) is None or _host(author) != _host(document["id"]):
        raise ResolveError("The object's author lives on another host than the object.", code="foreign_author")
    return ResolvedObject(document["id"], author, kind, document)


def _host(url: str) -> str | None:
    """The host and port of an http(s) URL, or None for anything else (a peer chose it)."""
    parts = http_url(url)
    return None if parts is None else parts.netloc


def _alternate_link(html: str, base: str) -> str | None:
    finder = _AlternateFinder()
    finder.feed(html)
    if not finder.href:
        return None
    try:
        return urljoin(base, finder.href)
    except ValueError:
        raise ResolveError("That page links to an ActivityPub object at no valid address.",
                           code="not_activitypub") from None


class _AlternateFinder(HTMLParser):
    """Finds the first `<link rel="alternate" type="application/activity+json" href=...>`."""

    def __init__(self) -> None:
        super().__init__()
        self.href: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag != "link" or self.href is not None:
            return
        values = dict(attrs)
        rels = (values.get("rel") or "").lower().split()
        media_type = (values.get("type") or "").split(";", 1)[0].strip().lower()
        if "alternate" in rels and media_type in _AP_TYPES and values.get("href"):
            self.href = values["href"]
