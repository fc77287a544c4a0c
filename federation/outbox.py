"""Publishing: an activity becomes an outbox entry and one queued delivery per inbox.

Everything is written in the caller's transaction (the transactional outbox),
so an activity is queued if and only if the change that caused it commits.
"""

import json
import secrets
from collections.abc import Iterable
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy.ext.asyncio import AsyncSession

from common.sql import insert_ignoring_duplicates
from federation.models import DELIVERY_STATES, Delivery, OutboxItem
from federation.urls import InstanceUrls


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
) -> int:
    """Record `activity` as sent by local actor `sender` and queue it; returns deliveries queued."""
    session.add(OutboxItem(
        activity_id=activity["id"], actor_username=sender, activity=activity, public=public, published_at=now,
    ))
    body = json.dumps(activity, separators=(",", ":"))
    queued = 0
    for inbox in dict.fromkeys(inboxes):
        queued += await insert_ignoring_duplicates(session, Delivery.__table__, {
            "activity_id": activity["id"], "sender_username": sender, "inbox_url": inbox,
            "host": urlsplit(inbox).netloc, "body": body, "state": DELIVERY_STATES.birth("queued"), "attempts": 0,
            "next_attempt_at": now, "created_at": now,
        })
    return queued
