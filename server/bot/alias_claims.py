"""Claiming escrow by a two-way alias: the author's actor names a local user's actor, and that actor names it back.

Each side speaks in a document only its owner can serve: the local half is
the user's `alsoKnownAs` (`PUT /api/v1/me/aliases`), the remote half the
author's `alsoKnownAs`, or a profile field (PropertyValue) linking to the
local actor, read from a fresh fetch of the author's actor at its origin (a
cached copy could still show an alias its owner removed). Only authors that
escrow holds money for and that a local user names are fetched: one fetch per
pending claim at each tick, not one per author.
"""

import html
import re
from typing import Any

from sqlalchemy import String, cast, select

from federation.errors import FederationError
from federation.models import LocalActor
from server.accounts import INSTANCE_ACTOR
from server.instance import Instance
from settlement import escrow
from settlement.destinations import ESCROW
from settlement.models import Share

URL = re.compile(r"https?://[^\s<>\"']+")


async def claim_by_alias(instance: Instance) -> int:
    """The minor units moved; one transaction per author whose alias is proven both ways."""
    async with instance.sessions() as session:
        held = set(await session.scalars(select(Share.author_uri).distinct().where(
            Share.destination == ESCROW, Share.settled_at.is_(None))))
        named = (await session.execute(select(LocalActor.username, LocalActor.also_known_as).where(
            cast(LocalActor.also_known_as, String) != "[]"))).all() if held else []
    claimed = 0
    for username, aliases in named:
        for author in [alias for alias in aliases if alias in held]:
            if await _names_back(instance, author, instance.urls.actor(username)):
                async with instance.sessions() as session, session.begin():
                    claimed += await escrow.claim(session, author_uri=author, username=username, now=instance.now())
    return claimed


async def _names_back(instance: Instance, author: str, local_actor: str) -> bool:
    try:
        document = await instance.client.fetch_object(author, signer=instance.keyring.cached(INSTANCE_ACTOR))
    except FederationError:
        return False
    return local_actor in named_accounts(document)


def named_accounts(actor: dict[str, Any]) -> set[str]:
    """The ids an actor says are also its owner's: `alsoKnownAs` and the links in its profile fields."""
    also = actor.get("alsoKnownAs")
    named = {alias for alias in (also if isinstance(also, list) else [also]) if isinstance(alias, str)}
    attachments = actor.get("attachment")
    for field in attachments if isinstance(attachments, list) else [attachments]:
        if isinstance(field, dict) and field.get("type") == "PropertyValue" and isinstance(field.get("value"), str):
            named.update(URL.findall(html.unescape(field["value"])))
    return named
