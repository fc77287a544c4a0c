"""Flattrs of this instance's things, from donors here or anywhere: what creators see before money moves.

Handlers run in the inbox item's transaction after the signature proved that
the activity's actor is the donor; they only ever touch that donor's rows,
and anything aimed at an object that is not a live local thing is ignored.
"""

from datetime import datetime
from typing import Any

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from common.sql import insert_ignoring_duplicates
from federation import flattr_vocab
from federation.processing import Handler
from federation.urls import InstanceUrls
from federation.vocab import object_id
from server import things
from server.models import ReceivedFlattr
from settlement.periods import period_of


class ReceivedFlattrHandlers:
    def __init__(self, urls: InstanceUrls, period_length: str) -> None:
        self._urls = urls
        self._period_length = period_length

    def handlers(self) -> dict[str, Handler]:
        return {"Flattr": self.on_flattr, "Undo:Flattr": self.on_undo}

    async def on_flattr(self, session: AsyncSession, activity: dict[str, Any], now: datetime) -> None:
        await record(session, self._urls, self._period_length, activity, now)

    async def on_undo(self, session: AsyncSession, undo: dict[str, Any], now: datetime) -> None:
        flattr_id, donor = object_id(undo.get("object")), object_id(undo.get("actor"))
        if flattr_id is not None and donor is not None:
            await forget(session, activity_id=flattr_id, donor_uri=donor)


async def record(session: AsyncSession, urls: InstanceUrls, period_length: str, activity: dict[str, Any],
           now: datetime) -> None:
    """Record the flattr once; a second id for the same donor, thing and period changes nothing."""
    thing = await things.by_object_id(session, urls, object_id(activity.get("object")) or "")
    donor = object_id(activity.get("actor"))
    if thing is None or donor is None or donor == urls.actor(thing.creator):
        return
    period = flattr_vocab.period_label(activity) or period_of(now, period_length).label
    await insert_ignoring_duplicates(session, ReceivedFlattr.__table__, {
        "activity_id": activity["id"], "thing_id": thing.id, "donor_uri": donor, "period": period,
        "received_at": now,
    })


async def forget(session: AsyncSession, *, activity_id: str, donor_uri: str) -> None:
    """Withdraw a flattr; only its own donor can, which the caller has established."""
    await session.execute(delete(ReceivedFlattr).where(
        ReceivedFlattr.activity_id == activity_id, ReceivedFlattr.donor_uri == donor_uri))
