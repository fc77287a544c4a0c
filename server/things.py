"""Things local creators offer for flattring, published to the fediverse as Page or Note objects.

A thing is created and its `Create` queued for the creator's followers in one
transaction; an edit queues an `Update` the same way; deleting it keeps the row
as a tombstone, so its id keeps answering 410 and flattrs already received still
name it.
"""

import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from federation.addresses import http_url
from federation.audience import follower_inboxes
from federation.outbox import new_activity_id, publish
from federation.urls import InstanceUrls
from federation.vocab import PUBLIC, ThingProfile, activity, thing_document, tombstone
from server.i18n.current import N_
from server.models import Thing, User
from server.refusal import Kind, Refusal
from server.storable import checked_text, is_row_id, is_storable

URL_MAX = 2048
TITLE_MAX = 200
TEXT_MAX = 5000


@dataclass(frozen=True)
class ThingInput:
    """What a creator typed: a URL with a title, or the text of a note."""

    url: str | None
    title: str
    text: str

    def validated(self) -> "ThingInput":
        url = checked_text((self.url or "").strip(), N_("The URL"), URL_MAX) or None
        title = checked_text(self.title.strip(), N_("The title"), TITLE_MAX)
        text = checked_text(self.text.strip(), N_("The text"), TEXT_MAX)
        if url is not None and http_url(url) is None:
            raise Refusal(Kind.INVALID, "invalid_url", N_("A thing's URL must be an http(s) address."))
        if url is not None and not title:
            raise Refusal(Kind.INVALID, "missing_title", N_("A thing with a URL needs a title."))
        if url is None and not text:
            raise Refusal(Kind.INVALID, "missing_text", N_("Give either a URL with a title, or the text of a note."))
        return ThingInput(url, title, text)


def profile(urls: InstanceUrls, thing: Thing) -> ThingProfile:
    return ThingProfile(urls.thing(thing.token), thing.kind, thing.creator, thing.title, thing.summary, thing.url,
                        thing.created_at)


def document(urls: InstanceUrls, thing: Thing) -> dict[str, Any]:
    """The thing's ActivityPub object, or its Tombstone once deleted."""
    if thing.deleted_at is not None:
        return tombstone(urls.thing(thing.token), thing.kind, thing.deleted_at)
    return thing_document(urls, profile(urls, thing))


async def create_thing(session: AsyncSession, urls: InstanceUrls, creator: User, wanted: ThingInput,
                       now: datetime) -> Thing:
    wanted = wanted.validated()
    thing = Thing(token=secrets.token_urlsafe(12), creator=creator.username, kind="Page" if wanted.url else "Note",
                  url=wanted.url, title=wanted.title, summary=wanted.text, created_at=now)
    session.add(thing)
    await session.flush()
    await _announce(session, urls, thing, "Create", document(urls, thing), now)
    return thing


async def update_thing(session: AsyncSession, urls: InstanceUrls, creator: User, thing_id: int, wanted: ThingInput,
                       now: datetime) -> Thing:
    """New words for a live thing of the creator's; its kind stays, since servers that stored it keep its type."""
    thing = await find_own(session, creator, thing_id)
    if thing.deleted_at is not None:
        raise Refusal(Kind.CONFLICT, "deleted", N_("This thing was deleted: it can no longer be changed."))
    wanted = wanted.validated()
    if (wanted.url is not None) != (thing.kind == "Page"):
        raise Refusal(Kind.INVALID, "kind_fixed", N_("A thing offered as a web address keeps one, and a note stays a "
                                                     "note: offer a new thing to change which it is."))
    if (thing.url, thing.title, thing.summary) != (wanted.url, wanted.title, wanted.text):
        thing.url, thing.title, thing.summary = wanted.url, wanted.title, wanted.text
        await session.flush()
        await _announce(session, urls, thing, "Update", document(urls, thing), now)
    return thing


async def delete_thing(session: AsyncSession, urls: InstanceUrls, creator: User, thing_id: int,
                       now: datetime) -> Thing:
    thing = await find_own(session, creator, thing_id)
    if thing.deleted_at is None:
        thing.deleted_at = now
        await session.flush()
        await _announce(session, urls, thing, "Delete", document(urls, thing), now)
    return thing


async def find_own(session: AsyncSession, creator: User, thing_id: int) -> Thing:
    thing = None if not is_row_id(thing_id) else await session.scalar(
        select(Thing).where(Thing.id == thing_id, Thing.creator == creator.username))
    if thing is None:
        raise Refusal(Kind.NOT_FOUND, "not_found", N_("You have no thing %(thing_id)s."), {"thing_id": thing_id})
    return thing


async def by_token(session: AsyncSession, token: str) -> Thing | None:
    """The thing a token names, deleted or not; a token no database can store names nothing, like any unknown one."""
    return await session.scalar(select(Thing).where(Thing.token == token)) if is_storable(token) else None


async def by_object_id(session: AsyncSession, urls: InstanceUrls, object_id: str) -> Thing | None:
    """The live local thing an object id names, if any."""
    token = urls.thing_token_of(object_id)
    if token is None:
        return None
    return await session.scalar(select(Thing).where(Thing.token == token, Thing.deleted_at.is_(None)))


async def _announce(session: AsyncSession, urls: InstanceUrls, thing: Thing, kind: str, obj: dict[str, Any],
                    now: datetime) -> None:
    actor = urls.actor(thing.creator)
    body = activity(new_activity_id(urls), kind, actor, obj, to=[PUBLIC], cc=[urls.followers(thing.creator)])
    await publish(session, sender=thing.creator, activity=body, inboxes=await follower_inboxes(session, thing.creator),
                  now=now, public=True)
