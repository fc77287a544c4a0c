"""Discovery documents: WebFinger (RFC 7033), host-meta (RFC 6415) and NodeInfo 2.1."""

from typing import Any
from xml.sax.saxutils import quoteattr

from federation.vocab import AP_MEDIA_TYPE

NODEINFO_21_SCHEMA = "http://nodeinfo.diaspora.software/ns/schema/2.1"
NODEINFO_21_PROFILE = f"{NODEINFO_21_SCHEMA}#"


def parse_acct(resource: str) -> tuple[str, str] | None:
    """Split `acct:name@host` (the `acct:` prefix optional, one leading `@` tolerated)."""
    value = resource.removeprefix("acct:").lstrip("@")
    name, sep, host = value.rpartition("@")
    if not sep or not name or not host or "/" in value:
        return None
    return name.lower(), host.lower()


def webfinger(subject: str, actor_uri: str, profile_url: str,
              intents: list[dict[str, str]] | None = None) -> dict[str, Any]:
    """`intents`: link templates (FEP-3b86 style) where this account's person can act on a remote object."""
    return {
        "subject": subject,
        "aliases": [actor_uri],
        "links": [
            {"rel": "self", "type": AP_MEDIA_TYPE, "href": actor_uri},
            {"rel": "http://webfinger.net/rel/profile-page", "type": "text/html", "href": profile_url},
            *(intents or []),
        ],
    }


def host_meta_xml(base_url: str) -> str:
    template = quoteattr(f"{base_url}/.well-known/webfinger?resource={{uri}}")
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<XRD xmlns="http://docs.oasis-open.org/ns/xri/xrd-1.0">\n'
        f'  <Link rel="lrdd" template={template}/>\n'
        "</XRD>\n"
    )


def host_meta_json(base_url: str) -> dict[str, Any]:
    return {"links": [{"rel": "lrdd", "template": f"{base_url}/.well-known/webfinger?resource={{uri}}"}]}


def nodeinfo_links(base_url: str) -> dict[str, Any]:
    return {"links": [{"rel": NODEINFO_21_SCHEMA, "href": f"{base_url}/nodeinfo/2.1"}]}


def nodeinfo(*, version: str, users: int, open_registrations: bool, metadata: dict[str, Any]) -> dict[str, Any]:
    """`openRegistrations` says whether anyone may sign up: fediverse directories list instances by it."""
    return {
        "version": "2.1",
        "software": {"name": "mecene", "version": version},
        "protocols": ["activitypub"],
        "services": {"inbound": [], "outbound": []},
        "openRegistrations": open_registrations,
        "usage": {
            "users": {"total": users},
            "localPosts": 0,
        },
        "metadata": metadata,
    }
