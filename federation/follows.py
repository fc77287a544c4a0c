"""The social-graph activities every fediverse server expects: Follow, Accept, Undo, Delete.

Each handler runs inside the inbox item's transaction and trusts only what
the signer may speak for: its own follows, its own deletion.
"""

from datetime import datetime
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from common.sql import insert_ignoring_duplicates
from federation.actors import ActorStore
from federation.inbox import InvalidActivity
from federation.models import Follower, Following, LocalActor
from federation.outbox import new_activity_id, publish
from federation.processing import Handler, Prefetch
from federation.urls import InstanceUrls
from federation.vocab import activity, object_id


class FollowHandlers:
    def __init__(self, urls: InstanceUrls, actors: ActorStore) -> None:
        self._urls = urls
        self._actors = actors

    def handlers(self) -> dict[str, Handler]:
        return {
            "Follow": self.on_follow,
            "Undo:Follow": self.on_undo_follow,
            "Undo": self.on_undo_follow,
            "Accept:Follow": self.on_accept,
            "Accept": self.on_accept,
            "Delete": self.on_delete,
        }

    def prefetchers(self) -> dict[str, Prefetch]:
        """The follower's actor, stored before the item's transaction.

        Storing it writes through a session of its own, which on SQLite would
        wait for the write lock the item's transaction holds.
        """
        return {"Follow": self.store_follower}

    async def store_follower(self, follow: dict[str, Any]) -> None:
        follower = object_id(follow.get("actor"))
        if follower is not None:
            await self._actors.actor(follower)

    async def on_follow(self, session: AsyncSession, follow: dict[str, Any], now: datetime) -> None:
        """Record the follower and answer with a signed Accept, even to a repeated Follow."""
        username = self._urls.username_of(object_id(follow.get("object")) or "")
        if username is None or not await _local_actor_exists(session, username):
            return
        follower = follow["actor"] if isinstance(follow["actor"], str) else object_id(follow["actor"])
        if follower is None:
            raise InvalidActivity("The Follow's actor has no id.")
        values = {"local_username": username, "follower_uri": follower, "follow_id": follow["id"], "created_at": now}
        if not await insert_ignoring_duplicates(session, Follower.__table__, values):
            await session.execute(update(Follower).where(
                Follower.local_username == username, Follower.follower_uri == follower).values(follow_id=follow["id"]))
        remote = await self._actors.actor(follower)
        followed = self._urls.actor(username)
        accept = activity(new_activity_id(self._urls), "Accept", followed,
                          {"id": follow["id"], "type": "Follow", "actor": follower, "object": followed})
        await publish(session, sender=username, activity=accept, inboxes=[remote.inbox], now=now)

    async def on_undo_follow(self, session: AsyncSession, undo: dict[str, Any], now: datetime) -> None:
        """Remove the follow the signer made; any other actor's follow is out of its reach."""
        follow_id = object_id(undo.get("object"))
        actor = object_id(undo.get("actor"))
        await session.execute(delete(Follower).where(Follower.follower_uri == actor, Follower.follow_id == follow_id))

    async def on_accept(self, session: AsyncSession, accept: dict[str, Any], now: datetime) -> None:
        """Our Follow was accepted; only its target may accept it."""
        follow_id = object_id(accept.get("object"))
        await session.execute(update(Following).where(
            Following.follow_id == follow_id, Following.target_uri == object_id(accept.get("actor")),
        ).values(accepted=True))

    async def on_delete(self, session: AsyncSession, deletion: dict[str, Any], now: datetime) -> None:
        """An actor deleting itself: forget its key, its follows and ours of it."""
        actor = object_id(deletion.get("actor"))
        if actor is None or object_id(deletion.get("object")) != actor:
            return
        await self._actors.forget(session, actor)
        await session.execute(delete(Follower).where(Follower.follower_uri == actor))
        await session.execute(delete(Following).where(Following.target_uri == actor))


async def follow(session: AsyncSession, urls: InstanceUrls, *, username: str, target_uri: str, target_inbox: str,
                 now: datetime) -> str:
    """Queue a Follow from a local actor; idempotent per (actor, target). Returns the Follow id."""
    existing = await session.scalar(select(Following.follow_id).where(
        Following.local_username == username, Following.target_uri == target_uri))
    if existing is not None:
        return existing
    follow_id = new_activity_id(urls)
    session.add(Following(local_username=username, target_uri=target_uri, follow_id=follow_id, created_at=now))
    document = activity(follow_id, "Follow", urls.actor(username), target_uri)
    await publish(session, sender=username, activity=document, inboxes=[target_inbox], now=now)
    return follow_id


async def _local_actor_exists(session: AsyncSession, username: str) -> bool:
    return await session.scalar(select(LocalActor.id).where(LocalActor.username == username)) is not None



async def unfollow(session: AsyncSession, urls: InstanceUrls, *, username: str, target_uri: str, target_inbox: str,
                   now: datetime) -> bool:
    """Queue Undo{Follow} for a follow we sent; False when there was none."""
    row = await session.scalar(select(Following).where(
        Following.local_username == username, Following.target_uri == target_uri))
    if row is None:
        return False
    follow_document = {"id": row.follow_id, "type": "Follow", "actor": urls.actor(username), "object": target_uri}
    undo = activity(new_activity_id(urls), "Undo", urls.actor(username), follow_document)
    await publish(session, sender=username, activity=undo, inboxes=[target_inbox], now=now)
    await session.delete(row)
    return True
