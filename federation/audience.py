"""Who receives what a local actor publishes to its followers."""

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from federation.models import Follower, RemoteActor


async def follower_inboxes(session: AsyncSession, username: str) -> list[str]:
    """One inbox per follower, their server's shared inbox when it has one, each inbox once."""
    rows = await session.execute(
        select(RemoteActor.shared_inbox, RemoteActor.inbox)
        .join(Follower, Follower.follower_uri == RemoteActor.uri)
        .where(Follower.local_username == username)
        .order_by(Follower.id))
    return list(dict.fromkeys(shared or inbox for shared, inbox in rows))
