"""Single-use, expiring links sent by email (confirming an address, setting a new password).

Only the SHA-256 of a link's token is stored, as with sessions: a database
leak opens no account. Using a link is one UPDATE that succeeds only while it
is unused and unexpired, so two clicks racing use it once.
"""

import hashlib
import re
import secrets
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from common.sql import rowcount
from server.models import MailToken

_ISSUED = re.compile(r"[A-Za-z0-9_-]{43}")


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def issue(session: AsyncSession, purpose: str, username: str, email: str, lifetime: timedelta,
                now: datetime) -> str:
    """A new link's token, for the email only: it is not kept."""
    token = secrets.token_urlsafe(32)
    session.add(MailToken(token_hash=digest(token), purpose=purpose, username=username, email=email,
                          created_at=now, expires_at=now + lifetime))
    await session.flush()
    return token


async def valid(session: AsyncSession, purpose: str, token: str, now: datetime) -> MailToken | None:
    """The unused, unexpired link `token` names, without using it (a page showing its form)."""
    if not _ISSUED.fullmatch(token):
        return None
    return await session.scalar(select(MailToken).where(
        MailToken.token_hash == digest(token), MailToken.purpose == purpose, MailToken.used_at.is_(None),
        MailToken.expires_at > now))


async def use(session: AsyncSession, purpose: str, token: str, now: datetime) -> MailToken | None:
    """Use the link once; None when it is unknown, used, expired or for another purpose."""
    found = await valid(session, purpose, token, now)
    if found is None:
        return None
    used = await session.execute(update(MailToken).where(MailToken.id == found.id, MailToken.used_at.is_(None))
                                 .values(used_at=now).execution_options(synchronize_session=False))
    return found if rowcount(used) else None
