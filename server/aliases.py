"""Which other fediverse accounts a local user says are also theirs: the `alsoKnownAs` of their actor.

Half of a two-way alias: the other account must name this user's actor back
(`server.settling.alias_claims`). Only http(s) actor ids are kept, at most
`MAX_ALIASES`, none of them on this instance.
"""

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from federation.addresses import http_url
from federation.models import LocalActor
from federation.urls import InstanceUrls
from server.i18n.current import N_
from server.refusal import Kind, Refusal
from server.storable import checked_text

MAX_ALIASES = 10
MAX_LENGTH = 2048


def checked(urls: InstanceUrls, value: object) -> list[str]:
    """The aliases as given, without duplicates; 400 for anything that is not a list of remote http(s) ids."""
    if not isinstance(value, list) or len(value) > MAX_ALIASES:
        raise Refusal(Kind.INVALID, "invalid_field", N_("`aliases` must be a list of at most %(max_aliases)s actor "
                                                        "ids."),
                                                     {"max_aliases": MAX_ALIASES})
    for alias in value:
        parts = http_url(checked_text(alias, N_("An alias"), MAX_LENGTH)) if isinstance(alias, str) else None
        if parts is None:
            raise Refusal(Kind.INVALID, "invalid_field", N_("Each alias must be the http(s) id of an actor."))
        if parts.netloc == urls.host:
            raise Refusal(Kind.INVALID, "invalid_field",
                          N_("%(alias)s is on this instance; aliases name accounts elsewhere."), {"alias": alias})
    return list(dict.fromkeys(value))


async def set_aliases(session: AsyncSession, username: str, aliases: list[str]) -> None:
    actor = await session.scalar(select(LocalActor).where(LocalActor.username == username))
    if actor is None:
        raise Refusal(Kind.NOT_FOUND, "not_found", N_("%(username)s has no actor."), {"username": username})
    actor.also_known_as = aliases


async def aliases_of(session: AsyncSession, username: str) -> list[str]:
    return list(await session.scalar(select(LocalActor.also_known_as).where(LocalActor.username == username)) or [])
