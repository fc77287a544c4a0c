"""ActivityStreams documents this instance serves and sends.

Builders are pure: they take what they need as arguments and return plain
dicts, ready for `json.dumps`, so tests can parse exactly what peers see.
"""

import html
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from federation.urls import InstanceUrls

AS_CONTEXT = "https://www.w3.org/ns/activitystreams"
SECURITY_CONTEXT = "https://w3id.org/security/v1"
PUBLIC = "https://www.w3.org/ns/activitystreams#Public"
AP_MEDIA_TYPE = "application/activity+json"
LD_MEDIA_TYPE = f'application/ld+json; profile="{AS_CONTEXT}"'
ACTOR_TYPES = frozenset({"Person", "Application", "Service", "Group", "Organization"})


@dataclass(frozen=True)
class ActorProfile:
    """What an actor document says about a local actor."""

    username: str
    kind: str  # "Person", "Application" or "Service"
    display_name: str
    public_key_pem: str
    also_known_as: list[str] = field(default_factory=list)
    payment_page: str | None = None  # where a person flattrs this actor's things (FEP-0ea0 payment link)


def payment_link(href: str) -> dict[str, str]:
    """FEP-0ea0: a `Link` with rel `payment` in the actor's `attachment`, for clients to show as a button."""
    return {"type": "Link", "name": "Flattr", "href": href, "rel": "payment", "mediaType": "text/html"}


def actor_document(urls: InstanceUrls, profile: ActorProfile) -> dict[str, Any]:
    actor_id = urls.actor(profile.username)
    return {
        "@context": [AS_CONTEXT, SECURITY_CONTEXT],
        "id": actor_id,
        "type": profile.kind,
        "preferredUsername": profile.username,
        "name": profile.display_name or profile.username,
        "url": actor_id,
        "inbox": urls.inbox(profile.username),
        "outbox": urls.outbox(profile.username),
        "followers": urls.followers(profile.username),
        "following": urls.following(profile.username),
        "endpoints": {"sharedInbox": urls.shared_inbox},
        "alsoKnownAs": list(profile.also_known_as),
        "attachment": [payment_link(profile.payment_page)] if profile.payment_page else [],
        "manuallyApprovesFollowers": False,
        "publicKey": {
            "id": urls.key_id(profile.username),
            "owner": actor_id,
            "publicKeyPem": profile.public_key_pem,
        },
    }


def ordered_collection(collection_id: str, total: int, items: list[Any] | None = None) -> dict[str, Any]:
    document: dict[str, Any] = {
        "@context": AS_CONTEXT,
        "id": collection_id,
        "type": "OrderedCollection",
        "totalItems": total,
    }
    if items is not None:
        document["orderedItems"] = items
    return document


def activity(activity_id: str, kind: str, actor: str, obj: Any, **extra: Any) -> dict[str, Any]:
    return {"@context": AS_CONTEXT, "id": activity_id, "type": kind, "actor": actor, "object": obj, **extra}


def object_id(value: Any) -> str | None:
    """The id of an AS value that may be a bare IRI or an embedded object."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and isinstance(identifier := value.get("id"), str):
        return identifier
    return None


@dataclass(frozen=True)
class ThingProfile:
    """What an object document says about a thing a local creator offers for flattring."""

    object_id: str
    kind: str  # "Page" for a URL of the creator's, "Note" for a note written here
    creator: str
    title: str
    text: str  # the description of a Page, the body of a Note; plain text, escaped here
    url: str | None
    published: datetime


def thing_document(urls: InstanceUrls, thing: ThingProfile) -> dict[str, Any]:
    """A Page or Note any fediverse server can show; public, attributed to its creator."""
    document: dict[str, Any] = {
        "@context": AS_CONTEXT,
        "id": thing.object_id,
        "type": thing.kind,
        "attributedTo": urls.actor(thing.creator),
        "published": thing.published.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "to": [PUBLIC],
        "cc": [urls.followers(thing.creator)],
        "url": thing.url or thing.object_id,
    }
    text = "".join(f"<p>{html.escape(line)}</p>" for line in thing.text.splitlines() if line.strip())
    if thing.kind == "Note":
        document["content"] = text
    else:
        document["name"] = thing.title
        document["summary"] = text
    return document


def tombstone(object_id: str, former_type: str, deleted: datetime) -> dict[str, Any]:
    return {"@context": AS_CONTEXT, "id": object_id, "type": "Tombstone", "formerType": former_type,
            "deleted": deleted.strftime("%Y-%m-%dT%H:%M:%SZ")}
