"""Claiming escrow by a two-way alias: the author's actor names a Mecene account, and that account names it back.

Each side speaks in a document only its owner can serve. The author's half
is its `alsoKnownAs`, or a profile field (PropertyValue) linking to the
Mecene actor, read from a fresh fetch of the author's actor at its origin (a
cached copy could still show an alias its owner removed). The Mecene half is
that account's `alsoKnownAs` (`PUT /api/v1/me/aliases`): read from our
database for an account here, from its actor fetched fresh for an account on
another instance whose NodeInfo says Mecene and that it accepts our currency.

Proven, the escrow goes to the account: credited here by `settlement.escrow`,
or sent to its instance in claim payouts (`settlement.claim_payouts`), one
transaction either way. Every author escrow holds money for is fetched at
each tick, since only its actor says which accounts it names. When the other
instance refused a claim of this author for that account, it is not sent
there again for a day: its actor still names the author, so each tick would
otherwise send it afresh.
"""

import html
import re
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import select

from federation.errors import FederationError
from federation.models import LocalActor
from server.accounts import INSTANCE_ACTOR
from server.instance import Instance
from server.settling.sending import claim_payout_id, send_payouts
from settlement import claim_payouts, escrow
from settlement.destinations import ESCROW
from settlement.models import Share

URL = re.compile(r"https?://[^\s<>\"']+")
RETRY_REFUSED = timedelta(days=1)


async def claim_by_alias(instance: Instance) -> int:
    """The minor units moved, credited here or sent; one transaction per author whose alias is proven both ways."""
    async with instance.sessions() as session:
        held = sorted(set(await session.scalars(select(Share.author_uri).distinct().where(
            Share.destination == ESCROW, Share.settled_at.is_(None)))))
    claimed = 0
    for author in held:
        claimed += await _claim_for(instance, author)
    if claimed:
        await send_payouts(instance)
    return claimed


async def _claim_for(instance: Instance, author: str) -> int:
    document = await _fresh(instance, author)
    for named in sorted(named_accounts(document or {}) - {author}):
        if urlsplit(named).netloc == instance.urls.host:
            moved = await _claim_here(instance, author, named)
        else:
            moved = await _claim_elsewhere(instance, author, named)
        if moved:
            return moved
    return 0


async def _claim_here(instance: Instance, author: str, named: str) -> int:
    username = instance.urls.username_of(named)
    if username is None:
        return 0
    async with instance.sessions() as session, session.begin():
        aliases = await session.scalar(select(LocalActor.also_known_as).where(LocalActor.username == username))
        if author not in (aliases or []):
            return 0
        return await escrow.claim(session, author_uri=author, username=username, now=instance.clock())


async def _claim_elsewhere(instance: Instance, author: str, named: str) -> int:
    host, currency, now = urlsplit(named).netloc, instance.settings.instance.currency, instance.clock()
    async with instance.sessions() as session:
        if await claim_payouts.refused_since(session, author_uri=author, creator=named, since=now - RETRY_REFUSED):
            return 0
    try:
        info = await instance.directory.info(host)
    except FederationError:
        return 0
    if not info.accepts(currency) or author not in also_known_as(await _fresh(instance, named) or {}):
        return 0
    base_url = instance.settings.base_url
    async with instance.sessions() as session, session.begin():
        return await claim_payouts.forward(session, author_uri=author, creator=named, host=host, currency=currency,
                                           now=now, payout_id=lambda number: claim_payout_id(base_url, number))


async def _fresh(instance: Instance, actor: str) -> dict[str, Any] | None:
    try:
        return await instance.client.fetch_object(actor, signer=instance.keyring.cached(INSTANCE_ACTOR))
    except FederationError:
        return None


def also_known_as(actor: dict[str, Any]) -> set[str]:
    also = actor.get("alsoKnownAs")
    return {alias for alias in (also if isinstance(also, list) else [also]) if isinstance(alias, str)}


def named_accounts(actor: dict[str, Any]) -> set[str]:
    """The ids an actor says are also its owner's: `alsoKnownAs` and the links in its profile fields."""
    named = also_known_as(actor)
    attachments = actor.get("attachment")
    for field in attachments if isinstance(attachments, list) else [attachments]:
        if isinstance(field, dict) and field.get("type") == "PropertyValue" and isinstance(field.get("value"), str):
            named.update(URL.findall(html.unescape(field["value"])))
    return named
