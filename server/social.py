"""Social actions a local user starts: following and unfollowing a remote account."""

from sqlalchemy import select

from federation.discovery import resolve_acct
from federation.follows import follow, unfollow
from federation.models import RemoteActor
from server.instance import Instance
from server.models import User


async def follow_account(instance: Instance, username: str, account: str) -> str:
    """Resolve `account` (name@host) by WebFinger, fetch its actor, queue a Follow; returns the Follow id."""
    await _require_user(instance, username)
    actor_uri = await resolve_acct(instance.client, account, scheme=instance.settings.scheme)
    remote = await instance.actors.actor(actor_uri)
    async with instance.sessions() as session, session.begin():
        follow_id = await follow(session, instance.urls, username=username, target_uri=remote.uri,
                                 target_inbox=remote.inbox, now=instance.clock())
    instance.delivery.wakeup.set()
    return follow_id


async def unfollow_actor(instance: Instance, username: str, actor_uri: str) -> bool:
    """Queue Undo{Follow} to an actor `username` follows; False when it did not."""
    await _require_user(instance, username)
    async with instance.sessions() as session, session.begin():
        remote = await session.scalar(select(RemoteActor).where(RemoteActor.uri == actor_uri))
        if remote is None:
            return False
        done = await unfollow(session, instance.urls, username=username, target_uri=actor_uri,
                              target_inbox=remote.inbox, now=instance.clock())
    instance.delivery.wakeup.set()
    return done


async def _require_user(instance: Instance, username: str) -> None:
    async with instance.sessions() as session:
        if await session.scalar(select(User.id).where(User.username == username)) is None:
            raise LookupError(f"no local account {username!r}")
