"""Browser sessions: a random id in an HttpOnly cookie; its SHA-256, the user and a CSRF token in the database.

Kept server-side rather than in a signed cookie so that logging out ends a
session for good, and a stolen database holds no usable cookie.
"""

import hashlib
import re
import secrets
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from server.models import User, WebSession

COOKIE = "mecene_session"
LIFETIME = timedelta(days=30)
_ISSUED = re.compile(r"[A-Za-z0-9_-]{1,100}")


def is_issued_shape(token: str) -> bool:
    """Whether a cookie holds what `secrets.token_urlsafe` gives, as every token we set does.

    Anything else is no token of ours: a cookie's non-UTF-8 bytes arrive as
    lone surrogates, which can be neither hashed nor written into a page.
    """
    return _ISSUED.fullmatch(token) is not None


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def open_session(session: AsyncSession, username: str, now: datetime) -> str:
    """A new session for `username`; the returned token goes in the cookie and is never stored."""
    token = secrets.token_urlsafe(32)
    session.add(WebSession(token_hash=_digest(token), username=username, csrf_token=secrets.token_urlsafe(32),
                           created_at=now, expires_at=now + LIFETIME))
    await session.flush()
    return token


async def find_session(session: AsyncSession, token: str, now: datetime) -> tuple[WebSession, User] | None:
    """The live session of that cookie and its user, or None when unknown, expired or the user is gone."""
    if not is_issued_shape(token):
        return None
    row = (await session.execute(
        select(WebSession, User).join(User, User.username == WebSession.username)
        .where(WebSession.token_hash == _digest(token), WebSession.expires_at > now))).first()
    return None if row is None else (row[0], row[1])


async def close_session(session: AsyncSession, token: str) -> None:
    await session.execute(delete(WebSession).where(WebSession.token_hash == _digest(token)))
