"""Which known Mecene instance sent a signed activity, and the way back to it.

Payouts, agreements, clearings and statements are all trusted from one actor
only: the instance actor a host's NodeInfo names. One check here keeps that
rule the same for all four; each handler says only how an activity from
anyone else is logged. Answers go back the same way for all: from our
instance actor to the inbox stored when the sender's signature was checked.
"""

from collections.abc import Callable
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from federation.instances import InstanceDirectory
from federation.models import RemoteActor
from federation.outbox import publish
from federation.vocab import object_id
from server.accounts import INSTANCE_ACTOR
from server.events import event

#: Why an activity whose actor is not the instance actor of a known Mecene instance changes nothing.
NOT_AN_INSTANCE_ACTOR = "not_an_instance_actor"

#: Told of such an activity, with its actor's host.
Stranger = Callable[[dict[str, Any], str], None]


class InstanceSenders:
    def __init__(self, directory: InstanceDirectory, stranger: Stranger) -> None:
        self._directory = directory
        self._stranger = stranger

    async def learn(self, activity: dict[str, Any]) -> None:
        """Ask the sender's NodeInfo who its instance actor is, before the handler's transaction."""
        actor = object_id(activity.get("actor"))
        if actor is not None:
            await self._directory.info(urlsplit(actor).netloc)

    async def host_of(self, session: AsyncSession, activity: dict[str, Any]) -> str | None:
        """The sender's host when the actor is that host's Mecene instance actor; None otherwise."""
        actor = str(activity.get("actor"))
        host = urlsplit(actor).netloc
        known = await self._directory.known(session, host)
        if known is None or not known.mecene or known.instance_actor != actor:
            self._stranger(activity, host)
            return None
        return host


def refused_as(name: str) -> Stranger:
    """A stranger's activity logged as the event `name`, with its host and id."""
    def refuse(activity: dict[str, Any], host: str) -> None:
        event(name, host=host, activity=activity.get("id"), reason=NOT_AN_INSTANCE_ACTOR)
    return refuse


async def reply(session: AsyncSession, activity: dict[str, Any], answer: dict[str, Any], now: datetime) -> None:
    """Queue `answer` from our instance actor to the inbox of `activity`'s actor."""
    row = (await session.scalars(select(RemoteActor).where(RemoteActor.uri == activity["actor"]))).one()
    await publish(session, sender=INSTANCE_ACTOR, activity=answer, inboxes=[row.shared_inbox or row.inbox], now=now)
