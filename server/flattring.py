"""A local donor flattrs a URL, or takes a flattr back: the record and its federation in one transaction.

The record (settlement) and the activities queued for the author's server
(federation) commit together, so neither exists without the other. A thing of
this instance is recorded as received at once instead of travelling over HTTP.
Only a server that speaks Mecene, or may (its NodeInfo could not be read), gets
the `Flattr`: one whose NodeInfo says it has no Mecene cannot act on it (the
author's share waits in escrow at the close) and may refuse the unknown type
outright, as Fedify does, so it gets only the `Like` a donor may ask for.
"""

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy.ext.asyncio import AsyncSession

from federation import flattr_vocab
from federation.addresses import http_url
from federation.errors import FederationError
from federation.instances import InstanceInfo
from federation.objects import resolve_object
from federation.outbox import new_activity_id, publish, publish_undo
from server import things
from server.accounts import INSTANCE_ACTOR
from server.i18n.current import N_
from server.instance import Instance
from server.models import User
from server.refusal import Kind, Refusal
from server.settling import flattr_inbox
from server.storable import checked_text, is_row_id
from server.titles import short_text, title_of
from settlement import flattrs
from settlement.flattrs import Flattr

#: The length of the columns a flattr's URLs are kept in.
URL_MAX = 2048


@dataclass(frozen=True)
class Target:
    """What is being flattred, and where its author hears of it (None: the author lives here).

    `speaks_mecene` is what the author's server's NodeInfo says, None when it could not be read.
    """

    object_id: str
    author: str
    inbox: str | None
    title: str
    speaks_mecene: bool | None


async def flattr_url(instance: Instance, user: User, url: str) -> tuple[Flattr, bool]:
    """Flattr what `url` shows for the current period; (flattr, False) when it was already flattred."""
    return await flattr_target(instance, user, await resolve_target(instance, url))


async def flattr_target(instance: Instance, user: User, target: Target) -> tuple[Flattr, bool]:
    """Flattr an already resolved target, for callers that show its title afterwards."""
    if target.author == instance.urls.actor(user.username):
        raise Refusal(Kind.INVALID, "own_thing", N_("You cannot flattr your own thing."))
    period, now = instance.current_period().label, instance.clock()
    flattr_id = new_activity_id(instance.urls)
    like_id = new_activity_id(instance.urls) if user.also_send_like and target.inbox else None
    async with instance.sessions() as session, session.begin():
        record, created = await flattrs.record(
            session, donor=user.username, thing_uri=target.object_id, author_uri=target.author, period=period,
            activity_id=flattr_id, now=now, like_activity_id=like_id, title=target.title)
        if created:
            await _tell_author(instance, session, record, target)
    instance.delivery.wakeup.set()
    return record, created


async def undo_flattr(instance: Instance, user: User, flattr_id: int) -> Flattr:
    """Take back a flattr of the current period and federate `Undo{Flattr}` (and `Undo{Like}`)."""
    async with instance.sessions() as session:
        record = await flattrs.get(session, flattr_id) if is_row_id(flattr_id) else None
    if record is None or record.donor != user.username:
        raise Refusal(Kind.NOT_FOUND, "not_found", N_("You have no flattr %(id)s."), {"id": flattr_id})
    if record.period != instance.current_period().label:
        raise Refusal(Kind.CONFLICT, "period_closed",
                      N_("Period %(period)s is over; its flattrs can no longer change."), {"period": record.period})
    async with instance.sessions() as session, session.begin():
        if await flattrs.undo(session, donor=user.username, flattr_id=flattr_id) is None:
            raise Refusal(Kind.NOT_FOUND, "not_found", N_("Flattr %(id)s was already undone."), {"id": flattr_id})
        await _withdraw(instance, session, record)
    instance.delivery.wakeup.set()
    return record


def flattr_activity(instance: Instance, record: Flattr) -> dict[str, Any]:
    donor = instance.urls.actor(record.donor)
    return flattr_vocab.flattr(record.activity_id, donor, record.thing_uri, record.author_uri, record.period,
                               record.created_at)


async def _tell_author(instance: Instance, session: AsyncSession, record: Flattr, target: Target) -> None:
    """The `Flattr` to a server that speaks Mecene, or may (its NodeInfo unread); the `Like` if the donor wants it."""
    document = flattr_activity(instance, record)
    if target.inbox is None:
        await flattr_inbox.record(session, instance.urls, instance.settings.settlement.period, document,
                                  record.created_at)
        return
    if target.speaks_mecene is not False:
        await publish(session, sender=record.donor, activity=document, inboxes=[target.inbox], now=record.created_at,
                      may_be_unknown=target.speaks_mecene is None)
    if record.like_activity_id:
        like = flattr_vocab.like(record.like_activity_id, document["actor"], record.thing_uri, record.author_uri)
        await publish(session, sender=record.donor, activity=like, inboxes=[target.inbox], now=record.created_at)


async def _withdraw(instance: Instance, session: AsyncSession, record: Flattr) -> None:
    """Each `Undo` goes where its `Flattr` or `Like` went: never to a server that never got it or could not read it.

    So a server without Mecene, sent no `Flattr`, gets no `Undo{Flattr}` to refuse.
    """
    original = flattr_activity(instance, record)
    if instance.urls.is_local(record.author_uri):
        await flattr_inbox.forget(session, activity_id=record.activity_id, donor_uri=original["actor"])
        return
    withdrawn = [original]
    if record.like_activity_id:
        withdrawn.append(flattr_vocab.like(record.like_activity_id, original["actor"], record.thing_uri,
                                           record.author_uri))
    for document in withdrawn:
        undo = flattr_vocab.undo(new_activity_id(instance.urls), original["actor"], document)
        await publish_undo(session, sender=record.donor, undo=undo, now=instance.clock())


#: What went wrong with an address, said to the donor who typed it, with what to do: the protocol's own words
#: (a peer unreachable, an object that is a Person) mean nothing to most people. One whole sentence per cause,
#: so that each is translated whole (`server.refusal.said`).
CANNOT_FLATTR = {
    "unreachable": N_("Could not flattr %(url)s: its server did not answer. Check the address, or try again later."),
    "timeout": N_("Could not flattr %(url)s: its server took too long to answer. Try again in a moment."),
    "not_found": N_("Could not flattr %(url)s: there is nothing at that address (it may have been deleted). "
                    "Check it in your browser."),
    "gone": N_("Could not flattr %(url)s: it was deleted."),
    "server_error": N_("Could not flattr %(url)s: its server had a problem answering. Try again later."),
    "rate_limited": N_("Could not flattr %(url)s: its server asks us to slow down. Try again in a few minutes."),
    "not_flattrable": N_("Could not flattr %(url)s: it is a profile (or a deleted post), not something made to "
                         "flattr. Open one of its posts and flattr that post's address."),
    "no_author": N_("Could not flattr %(url)s: it names no author, so nobody could be paid for it."),
    "foreign_author": N_("Could not flattr %(url)s: it names an author on another server than its own, so Mecene "
                         "cannot tell who made it."),
    "unsupported_content_type": N_("Could not flattr %(url)s: it is an ordinary web page, not a fediverse post. "
                                   "Flattr the post's own address (in Mastodon: the post's date, then copy its "
                                   "link)."),
    "invalid_json": N_("Could not flattr %(url)s: its server sent something that is not a fediverse post."),
    "too_large": N_("Could not flattr %(url)s: its server sent far more than a post."),
    "too_many_redirects": N_("Could not flattr %(url)s: it sends browsers from one address to another too many "
                             "times."),
}
#: The same causes, met while fetching the author of what is flattred.
CANNOT_REACH_AUTHOR = {
    "unreachable": N_("Could not reach the author %(author)s: its server did not answer. Check the address, or try "
                      "again later."),
    "timeout": N_("Could not reach the author %(author)s: its server took too long to answer. Try again in a "
                  "moment."),
    "not_found": N_("Could not reach the author %(author)s: there is nothing at that address (it may have been "
                    "deleted). Check it in your browser."),
    "gone": N_("Could not reach the author %(author)s: it was deleted."),
    "server_error": N_("Could not reach the author %(author)s: its server had a problem answering. Try again later."),
    "rate_limited": N_("Could not reach the author %(author)s: its server asks us to slow down. Try again in a few "
                       "minutes."),
    "invalid_json": N_("Could not reach the author %(author)s: its server sent something that is not a fediverse "
                       "post."),
    "too_large": N_("Could not reach the author %(author)s: its server sent far more than a post."),
    "too_many_redirects": N_("Could not reach the author %(author)s: it sends browsers from one address to another "
                             "too many times."),
}


def cannot_flattr(url: str, error: FederationError) -> Refusal:
    """The refusal of a flattr of `url` that `error` stopped; a cause without plain words keeps the peer's."""
    return _stopped_by(error, CANNOT_FLATTR, N_("Could not flattr %(url)s: %(reason)s"), {"url": url})


def cannot_reach_author(author: str, error: FederationError) -> Refusal:
    return _stopped_by(error, CANNOT_REACH_AUTHOR, N_("Could not reach the author %(author)s: %(reason)s"),
                       {"author": author})


def _stopped_by(error: FederationError, said: dict[str, str], otherwise: str,
                values: dict[str, str | int]) -> Refusal:
    """The plain words `said` has for `error`'s code, else `otherwise` with the peer's own reason."""
    template = said.get(error.code or "")
    if template is None:
        return Refusal(Kind.UNPROCESSABLE, error.code or "", otherwise, values | {"reason": error.safe_message})
    return Refusal(Kind.UNPROCESSABLE, error.code or "", template, values)


async def resolve_target(instance: Instance, url: str) -> Target:
    """What `url` shows and where its author hears of it; a `Refusal` when it is nothing one can flattr."""
    url = checked_text(url.strip(), N_("The address"), URL_MAX)
    parts = http_url(url)
    if parts is None:
        raise Refusal(Kind.INVALID, "invalid_url",
                      N_("Give the http(s) address of a post, as shown in your browser."))
    if parts.netloc == instance.urls.host:
        return await _local_target(instance, url)
    try:
        resolved = await resolve_object(instance.client, url, signer=instance.keyring.cached(INSTANCE_ACTOR))
    except FederationError as exc:
        raise cannot_flattr(url, exc) from exc
    if len(resolved.id) > URL_MAX or len(resolved.author) > URL_MAX:
        raise Refusal(Kind.UNPROCESSABLE, "too_long",
                      N_("Could not flattr %(url)s: its id or its author's is too long."), {"url": url})
    host = await _learn_host(instance, resolved.author)
    return Target(resolved.id, resolved.author, await _author_inbox(instance, resolved.author),
                  title_of(resolved.document), None if host is None else host.mecene)


async def _learn_host(instance: Instance, author: str) -> InstanceInfo | None:
    """What the author's server is, None when its NodeInfo cannot be read.

    Asked now for the flattr's activities, and so that a close finds the answer even if the server is down then.
    """
    try:
        return await instance.directory.info(urlsplit(author).netloc)
    except FederationError:
        return None


async def _author_inbox(instance: Instance, author: str) -> str:
    try:
        return (await instance.actors.actor(author)).inbox
    except FederationError as exc:
        raise cannot_reach_author(author, exc) from exc


async def _local_target(instance: Instance, url: str) -> Target:
    async with instance.sessions() as session:
        thing = await things.by_object_id(session, instance.urls, url)
    if thing is None:
        raise Refusal(Kind.NOT_FOUND, "not_found", N_("There is no such thing on this instance."))
    return Target(instance.urls.thing(thing.token), instance.urls.actor(thing.creator), None,
                  thing.title or short_text(thing.summary), True)
