"""A person's email address: given, confirmed by a link sent to it, removed; and unsubscribing without a login.

An address is used only once its owner opened the link sent to it, so
nobody can have our mail sent to someone else's inbox more than that once.
Unsubscribing takes a token of the account's own (in every email that is not
a receipt), not a login, and turns off everything but receipts.
"""

import re
import secrets
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from config.settings import MailSettings
from server.i18n.current import N_
from server.i18n.locales import ENGLISH
from server.mail import kinds, links, outbox
from server.models import User
from server.refusal import Kind, Refusal
from server.storable import is_storable

MAX_LENGTH = 320
#: Something@something.tld without spaces or angle brackets: what a person types, checked loosely;
#: the link sent to it is the real check.
_ADDRESS = re.compile(r"[^@\s<>,;\"]{1,64}@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+")
_UNSUBSCRIBE = re.compile(r"[A-Za-z0-9_-]{43}")
#: Said of an unsubscribe link no account has, by this module and by the page that shows the form.
UNKNOWN_UNSUBSCRIBE = N_("This unsubscribe link is unknown. Change what you receive in your settings instead.")


def checked(typed: str) -> str:
    """The address as it will be stored (its domain in lower case), or a Refusal saying what is wrong."""
    address = typed.strip()
    if len(address) > MAX_LENGTH or not is_storable(address) or not _ADDRESS.fullmatch(address):
        raise Refusal(Kind.INVALID, "invalid_email", N_("Give an email address such as name@example.org."))
    local, _, domain = address.rpartition("@")
    return f"{local}@{domain.lower()}"


async def ask_to_confirm(session: AsyncSession, settings: MailSettings, user: User, typed: str,
                         now: datetime) -> str:
    """Send a link confirming `typed` to it; the account's address changes only when the link is opened."""
    address = checked(typed)
    token = await links.issue(session, kinds.VERIFY, user.username, address,
                              timedelta(hours=settings.verify_hours), now)
    await outbox.queue(session, key=f"verify:{links.digest(token)}", kind=kinds.VERIFY, username=user.username,
                       to=address, language=user.language or ENGLISH,
                       context={"username": user.username, "token": token, "hours": settings.verify_hours}, now=now)
    return address


async def confirm(session: AsyncSession, token: str, now: datetime) -> User:
    """Make the link's address the account's; refused when the link is unknown, used or expired."""
    used = await links.use(session, kinds.VERIFY, token, now)
    user = None if used is None else await session.scalar(select(User).where(User.username == used.username))
    if used is None or user is None:
        raise Refusal(Kind.NOT_FOUND, "invalid_link", N_(
            "This link is unknown, used already or expired. "
            "Give your address again in your settings to get a new one."))
    user.email = used.email
    if user.unsubscribe_token is None:
        user.unsubscribe_token = secrets.token_urlsafe(32)
    return user


def remove(user: User) -> None:
    user.email = None


async def subscriber(session: AsyncSession, token: str) -> User | None:
    """The account an unsubscribe link names."""
    if not _UNSUBSCRIBE.fullmatch(token):
        return None
    return await session.scalar(select(User).where(User.unsubscribe_token == token))


async def unsubscribe(session: AsyncSession, token: str) -> User:
    """Turn off every email but receipts for the account the link names."""
    user = await subscriber(session, token)
    if user is None:
        raise Refusal(Kind.NOT_FOUND, "invalid_link", UNKNOWN_UNSUBSCRIBE)
    user.mail_summaries = user.mail_notices = False
    return user
