"""Which fediverse accounts speak for which user here.

A link is only ever made from a code the user asked for and a delivery signed
by the account itself, so the row means both sides agreed; either side may
remove it.
"""

from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from common.sql import insert_ignoring_duplicates, rowcount
from server.models import LinkedAccount


async def of_actor(session: AsyncSession, actor_uri: str) -> LinkedAccount | None:
    return await session.scalar(select(LinkedAccount).where(LinkedAccount.actor_uri == actor_uri))


async def of_user(session: AsyncSession, username: str) -> list[LinkedAccount]:
    return list(await session.scalars(
        select(LinkedAccount).where(LinkedAccount.username == username).order_by(LinkedAccount.id)))


async def link(session: AsyncSession, *, username: str, actor_uri: str, now: datetime) -> bool:
    """False when the account is already linked (to anyone): one account speaks for one user."""
    return await insert_ignoring_duplicates(session, LinkedAccount.__table__, {
        "username": username, "actor_uri": actor_uri, "linked_at": now})


async def unlink(session: AsyncSession, *, actor_uri: str) -> bool:
    result = await session.execute(delete(LinkedAccount).where(LinkedAccount.actor_uri == actor_uri))
    return bool(rowcount(result))


async def unlink_for_user(session: AsyncSession, *, username: str, link_id: int) -> LinkedAccount | None:
    """Remove one of the user's links by id; None when they have no such link."""
    row = await session.scalar(select(LinkedAccount).where(
        LinkedAccount.id == link_id, LinkedAccount.username == username))
    if row is not None:
        await session.delete(row)
    return row
