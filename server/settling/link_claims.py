"""Escrow held for a linked fediverse account goes to the user here it is linked to.

A link already proves the account is theirs (a code the user asked for, sent
in a delivery the account signed), which is all a claim needs. Claimed when
the link is made, and again at every settlement tick for every linked account
escrow still holds money for, so shares of periods closed after the link
follow it too. The tick returns expired escrow to its donors before it claims,
which is what bounds a claim by the claim window.
"""

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from server.bot import links
from server.models import LinkedAccount
from settlement import escrow
from settlement.destinations import ESCROW
from settlement.models import Share


async def claim_all(sessions: async_sessionmaker[AsyncSession], now: datetime) -> int:
    """One short transaction per account, so the tick never holds SQLite's write lock for long."""
    async with sessions() as session:
        waiting = list(await session.scalars(select(LinkedAccount.actor_uri).where(LinkedAccount.actor_uri.in_(
            select(Share.author_uri).where(Share.destination == ESCROW, Share.settled_at.is_(None))))))
    claimed = 0
    for actor_uri in waiting:
        async with sessions() as session, session.begin():
            account = await links.of_actor(session, actor_uri)
            if account is not None:
                claimed += await escrow.claim(session, author_uri=actor_uri, username=account.username, now=now)
    return claimed
