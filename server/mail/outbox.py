"""Queueing an email: one outbox row per event, written in the caller's transaction.

The row's `key` names the event (`receipt:T…`, `summary:2026-11:alice`), and a
second row with the same key is ignored, so an event applied twice, or by two
processes at once, queues one email. The recipient's address is read now:
an email tells of something that happened, to the address confirmed then.
"""

import json
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from common.sql import insert_ignoring_duplicates
from server.i18n.locales import ENGLISH
from server.mail import kinds
from server.models import MailMessage, User


async def queue(session: AsyncSession, *, key: str, kind: str, username: str, to: str, language: str,
                context: dict[str, Any], now: datetime) -> bool:
    """Queue one email to `to`; False when an email for `key` was queued before."""
    if kind not in kinds.ALL:
        raise ValueError(f"no email of kind {kind!r}")
    return await insert_ignoring_duplicates(session, MailMessage.__table__, {
        "key": key[:200], "kind": kind, "username": username, "to_address": to, "language": language,
        "context": json.dumps(context, sort_keys=True), "next_attempt_at": now, "created_at": now})


async def to_user(session: AsyncSession, username: str, kind: str, key: str, context: dict[str, Any],
                  now: datetime) -> bool:
    """Queue to the account's confirmed address, when it has one and has not turned this kind off."""
    user = await session.scalar(select(User).where(User.username == username))
    if user is None or user.email is None or not wants(user, kind):
        return False
    if kind not in kinds.ALWAYS_SENT:
        context = {**context, "unsubscribe": user.unsubscribe_token}
    return await queue(session, key=key, kind=kind, username=username, to=user.email,
                       language=user.language or ENGLISH, context=context, now=now)


def wants(user: User, kind: str) -> bool:
    if kind in kinds.SUMMARIES:
        return user.mail_summaries
    return kind in kinds.ALWAYS_SENT or user.mail_notices


def amount(minor: int, currency: str) -> dict[str, Any]:
    """An amount as the outbox keeps it; `messages` gives it back to the templates as a `Money`."""
    return {"minor": minor, "currency": currency}
