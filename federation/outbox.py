"""Publishing: an activity becomes an outbox entry and one queued delivery per inbox.

Everything is written in the caller's transaction (the transactional outbox),
so an activity is queued if and only if the change that caused it commits.
"""

import json
import secrets
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from common.sql import insert_ignoring_duplicates
from federation.models import DELIVERY_STATES, Delivery, OutboxItem
from federation.urls import InstanceUrls

NOT_UNDERSTOOD = DELIVERY_STATES.move("queued", "not_understood").target


def new_activity_id(urls: InstanceUrls) -> str:
    return urls.activity(secrets.token_urlsafe(16))


async def publish(
    session: AsyncSession,
    *,
    sender: str,
    activity: dict[str, Any],
    inboxes: Iterable[str],
    now: datetime,
    public: bool = False,
    may_be_unknown: bool = False,
) -> int:
    """Record `activity` as sent by local actor `sender` and queue it; returns deliveries queued.

    `may_be_unknown`: the receivers' servers may not know the activity's type, so a permanent
    4xx from one is its answer (`not_understood`), not a dead letter.
    """
    return await _queue(session, sender, activity, dict.fromkeys(inboxes, may_be_unknown), now, public)


async def publish_undo(session: AsyncSession, *, sender: str, undo: dict[str, Any], now: datetime) -> int:
    """Queue `undo` where the activity it embeds was queued, except where that was not understood; how many.

    An `Undo` goes nowhere its activity did not: a server that never got it, or
    could not read it, has nothing to undo and would refuse the `Undo` in turn.
    """
    sent = await session.execute(select(Delivery.inbox_url, Delivery.may_be_unknown).where(
        Delivery.activity_id == undo["object"]["id"], Delivery.state != NOT_UNDERSTOOD).order_by(Delivery.id))
    inboxes = {inbox: may_be_unknown for inbox, may_be_unknown in sent}
    return await _queue(session, sender, undo, inboxes, now, public=False) if inboxes else 0


async def _queue(session: AsyncSession, sender: str, activity: dict[str, Any], inboxes: Mapping[str, bool],
                 now: datetime, public: bool) -> int:
    """The outbox entry, and one delivery per inbox carrying whether that inbox may not know the type."""
    session.add(OutboxItem(
        activity_id=activity["id"], actor_username=sender, activity=activity, public=public, published_at=now,
    ))
    body = json.dumps(activity, separators=(",", ":"))
    queued = 0
    for inbox, may_be_unknown in inboxes.items():
        queued += await insert_ignoring_duplicates(session, Delivery.__table__, {
            "activity_id": activity["id"], "sender_username": sender, "inbox_url": inbox,
            "host": urlsplit(inbox).netloc, "body": body, "may_be_unknown": may_be_unknown,
            "state": DELIVERY_STATES.birth("queued"), "attempts": 0, "next_attempt_at": now, "created_at": now,
        })
    return queued
