"""One-time codes that prove a Mastodon account belongs to a user here.

A code is 8 characters from an alphabet without look-alikes (no 0/O, 1/I/L),
shown as XXXX-XXXX so it is easy to type on a phone; about 40 bits, which is
plenty for something valid for minutes and used once. Only its SHA-256 is
stored, and redeeming marks it used in the same transaction as the link.
"""

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from server.bot.replies import how_to_send
from server.models import LinkCode

ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
LENGTH = 8


@dataclass(frozen=True)
class IssuedCode:
    code: str
    expires_at: datetime


async def issue(session: AsyncSession, username: str, *, now: datetime, minutes: int) -> IssuedCode:
    raw = "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))
    expires_at = now + timedelta(minutes=minutes)
    session.add(LinkCode(username=username, code_hash=_digest(raw), created_at=now, expires_at=expires_at))
    await session.flush()
    return IssuedCode(f"{raw[:4]}-{raw[4:]}", expires_at)


async def issue_for_api(session: AsyncSession, username: str, *, now: datetime, minutes: int,
                        bot_handle: str) -> dict[str, str]:
    """What the API and the CLI show: the code, when it expires and what to do with it."""
    issued = await issue(session, username, now=now, minutes=minutes)
    return {"code": issued.code, "expires_at": issued.expires_at.isoformat(), "how": how_to_send(bot_handle)}


async def redeem(session: AsyncSession, typed: str, *, now: datetime) -> str | None:
    """The username a valid, unused, unexpired code was issued to, now used up; None otherwise."""
    normalized = typed.replace("-", "").upper()
    if len(normalized) != LENGTH:
        return None
    used = await session.execute(
        update(LinkCode)
        .where(LinkCode.code_hash == _digest(normalized), LinkCode.used_at.is_(None), LinkCode.expires_at > now)
        .values(used_at=now).returning(LinkCode.username))
    return used.scalar_one_or_none()


def _digest(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()
