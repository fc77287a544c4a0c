"""Failed link codes per remote account: after a few in a day, the bot stops trying that account's codes.

A code has about 40 bits, valid for minutes: guessing one needs volume, and
volume needs many tries from somewhere. Counting the codes that linked
nothing, per account that sent them, bounds that to a handful a day; a
person who mistyped tries again, and asks for a new code at worst.
"""

from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from server.models import BotCodeTry

TRIES = 5
WINDOW = timedelta(hours=24)


async def exhausted(session: AsyncSession, actor_uri: str, now: datetime) -> bool:
    tried = await session.scalar(select(func.count(BotCodeTry.id)).where(
        BotCodeTry.actor_uri == actor_uri, BotCodeTry.tried_at > now - WINDOW))
    return int(tried or 0) >= TRIES


async def record(session: AsyncSession, actor_uri: str, now: datetime) -> None:
    """Count a failed code, and forget this account's tries older than the window."""
    await session.execute(delete(BotCodeTry).where(BotCodeTry.actor_uri == actor_uri,
                                                   BotCodeTry.tried_at <= now - WINDOW))
    session.add(BotCodeTry(actor_uri=actor_uri, tried_at=now))
