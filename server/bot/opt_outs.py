"""Accounts that told the bot "stop": it keeps their escrow waiting but stops writing to them about it."""

import re
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from common.sql import insert_ignoring_duplicates
from server.models import BotOptOut

#: The whole message, so a "stop" inside a sentence or next to a post link is not taken as an opt-out.
STOP = re.compile(r"\s*stop\W*", re.IGNORECASE)


def asks_stop(text: str) -> bool:
    return STOP.fullmatch(text) is not None


async def stop(session: AsyncSession, actor_uri: str, now: datetime) -> None:
    await insert_ignoring_duplicates(session, BotOptOut.__table__, {"actor_uri": actor_uri, "created_at": now})


async def stopped(session: AsyncSession, actor_uri: str) -> bool:
    return await session.scalar(select(BotOptOut.id).where(BotOptOut.actor_uri == actor_uri)) is not None
