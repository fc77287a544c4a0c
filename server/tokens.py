"""Personal access tokens for the API.

A token is 32 random bytes, so a plain SHA-256 is enough to store it (a slow
password KDF protects guessable secrets, not random ones) and lets a request
find its token with one indexed lookup.
"""

import hashlib
import secrets
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from server.i18n.current import N_
from server.models import ApiToken, User
from server.storable import checked_text

PREFIX = "mecene_"
NAME_MAX = 100


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def create_token(session: AsyncSession, user: User, name: str, now: datetime) -> str:
    """Store a new token for `user` and return it; this is the only time it is ever shown."""
    label = checked_text(name, N_("A token's label"), NAME_MAX)
    token = PREFIX + secrets.token_urlsafe(32)
    session.add(ApiToken(username=user.username, name=label, token_hash=_digest(token), created_at=now))
    await session.flush()
    return token


async def user_for_token(session: AsyncSession, token: str, now: datetime) -> User | None:
    """The token's owner, or None for an unknown token; records when it was last used.

    Ours are ASCII: anything else (a header's non-UTF-8 bytes arrive as lone
    surrogates, which cannot even be hashed) is no token of ours.
    """
    if not token.isascii():
        return None
    row = await session.scalar(select(ApiToken).where(ApiToken.token_hash == _digest(token)))
    if row is None:
        return None
    await session.execute(update(ApiToken).where(ApiToken.id == row.id).values(last_used_at=now))
    return await session.scalar(select(User).where(User.username == row.username))
