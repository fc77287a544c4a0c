"""Setting a new password through a link sent by email.

Asking never says whether an account exists or has an address: the page
answers the same either way, and the link goes only to a confirmed address.
Setting the password uses the link once and ends every session of the
account, in case someone else was using it.
"""

from datetime import datetime, timedelta

from sqlalchemy import delete, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from config.settings import MailSettings
from server.i18n.current import N_
from server.i18n.locales import ENGLISH
from server.mail import kinds, links, outbox
from server.models import User, WebSession
from server.refusal import Kind, Refusal
from server.storable import is_storable

#: Said of a reset link that is unknown, used or expired, here and by the page that shows its form.
UNKNOWN_LINK = N_("This link is unknown, used already or expired. Ask for a new one on the login page.")


async def ask(session: AsyncSession, settings: MailSettings, name_or_address: str, now: datetime) -> int:
    """Send a link to each account that name or confirmed address is, if any; how many (never shown)."""
    typed = name_or_address.strip()
    if not typed or len(typed) > 320 or not is_storable(typed):
        return 0
    found = await session.scalars(select(User).where(User.email.is_not(None), or_(
        User.username == typed.lower(), User.email == typed)))
    users = list(found)
    for user in users:
        assert user.email is not None
        token = await links.issue(session, kinds.RESET, user.username, user.email,
                                  timedelta(minutes=settings.reset_minutes), now)
        await outbox.queue(session, key=f"reset:{links.digest(token)}", kind=kinds.RESET, username=user.username,
                           to=user.email, language=user.language or ENGLISH,
                           context={"username": user.username, "token": token, "minutes": settings.reset_minutes},
                           now=now)
    return len(users)


async def set_password(session: AsyncSession, token: str, password_hash: str, now: datetime) -> User:
    used = await links.use(session, kinds.RESET, token, now)
    user = None if used is None else await session.scalar(select(User).where(User.username == used.username))
    if used is None or user is None:
        raise Refusal(Kind.NOT_FOUND, "invalid_link", UNKNOWN_LINK)
    user.password_hash = password_hash
    await session.execute(delete(WebSession).where(WebSession.username == user.username))
    return user
