"""Local accounts and the instance's own actors.

A user is a `users` row plus a federation `LocalActor` of the same username
with its own RSA key; both are written in one transaction.
"""

import re
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from common.sql import insert_ignoring_duplicates
from federation.httpsig import dump_private_key, dump_public_key, generate_private_key
from federation.models import LocalActor
from server.i18n.current import N_
from server.models import User
from server.storable import is_storable
from settlement.explained import Explained

INSTANCE_ACTOR = "instance"
USERNAME = re.compile(r"[a-z0-9_]{1,30}")
DISPLAY_NAME_MAX = 200
RESERVED = frozenset({INSTANCE_ACTOR, "admin", "root", "mecene", "actor", "inbox", "api", "www"})
#: Said when another account has the name, here or when two sign-ups race for it.
TAKEN = N_("The username '%(username)s' is taken.")


class AccountError(Explained):
    """Bad input for an account, meant for the person who typed it.

    Like a `Refusal`, it keeps its English `template` and the `params` that
    fill it apart, so a page translates the sentence before filling it in;
    its message (the API's and the CLI's) is the English sentence.
    """

    def __init__(self, template: str, code: str = "invalid_username",
                 params: dict[str, str | int] | None = None) -> None:
        super().__init__(code, template, params)


async def create_user(session: AsyncSession, username: str, *, bot_username: str, now: datetime,
                      display_name: str = "") -> User:
    """Create an account and its actor; refuses taken, reserved or malformed names."""
    if not USERNAME.fullmatch(username):
        raise AccountError(N_("A username is 1 to 30 lower-case letters, digits or underscores."))
    if not is_storable(display_name) or len(display_name) > DISPLAY_NAME_MAX:
        raise AccountError(N_("A display name is at most %(most)s characters, without NUL or lone surrogates."),
                           "invalid_display_name", {"most": DISPLAY_NAME_MAX})
    if username in RESERVED or username == bot_username:
        raise AccountError(N_("The username '%(username)s' is reserved."), "reserved_username", {"username": username})
    if await session.scalar(select(LocalActor.id).where(LocalActor.username == username)) is not None:
        raise AccountError(TAKEN, "username_taken", {"username": username})
    user = User(username=username, display_name=display_name, created_at=now)
    session.add(user)
    session.add(_new_actor(username, "Person", display_name, now))
    await session.flush()
    return user


async def ensure_service_actors(session: AsyncSession, *, bot_username: str, instance_name: str,
                                now: datetime) -> None:
    """Create the instance actor (signs fetches) and the bot actor if missing; several processes may race."""
    wanted = {INSTANCE_ACTOR: ("Application", instance_name), bot_username: ("Service", f"{instance_name} bot")}
    existing = set(await session.scalars(select(LocalActor.username).where(LocalActor.username.in_(wanted))))
    for username, (kind, name) in wanted.items():
        if username not in existing:
            actor = _new_actor(username, kind, name, now)
            columns = {c.key: getattr(actor, c.key) for c in LocalActor.__table__.columns if c.key != "id"}
            await insert_ignoring_duplicates(session, LocalActor.__table__, columns)


async def list_users(session: AsyncSession) -> list[User]:
    return list(await session.scalars(select(User).order_by(User.username)))


async def count_users(session: AsyncSession) -> int:
    return int(await session.scalar(select(func.count()).select_from(User)) or 0)


def _new_actor(username: str, kind: str, display_name: str, now: datetime) -> LocalActor:
    key = generate_private_key()
    return LocalActor(
        username=username, kind=kind, display_name=display_name, private_key_pem=dump_private_key(key),
        public_key_pem=dump_public_key(key.public_key()), also_known_as=[], created_at=now,
    )
