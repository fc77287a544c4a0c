"""Telling creators on servers without Mecene that flattrs wait for them in escrow: once per period, by DM.

Runs in the settlement tick after the claims, so money a linked account has
already collected is never announced. The author's actor is fetched first,
outside any transaction (network); then one transaction inserts the
`escrow:{period}` row of `bot_notices` and queues the DM, so two processes
never both send it. An author we cannot reach keeps that row too: one try per
period, not one per tick. Accounts that answered "stop" are left out.
"""

import logging

from sqlalchemy import exists, func, literal, select
from sqlalchemy.ext.asyncio import AsyncSession

from common.sql import insert_ignoring_duplicates
from federation.errors import FederationError
from server.bot import replies
from server.instance import Instance
from server.models import BotNotice, BotOptOut
from settlement import escrow
from settlement.destinations import ESCROW
from settlement.models import Share
from settlement.money import Money, format_amount

log = logging.getLogger(__name__)

KIND_PREFIX = "escrow:"


async def send_escrow_notices(instance: Instance) -> int:
    """The number of DMs queued."""
    async with instance.sessions() as session:
        waiting = await _unannounced(session, instance.settings.instance.currency)
    sent = 0
    for author, period, amount in waiting:
        sent += await _notify(instance, author, period, amount)
    if sent:
        instance.delivery.wakeup.set()
    return sent


async def _unannounced(session: AsyncSession, currency: str) -> list[tuple[str, str, int]]:
    """(author, period, amount held) for every author and period escrow holds money for and nobody was told."""
    noticed = exists().where(BotNotice.actor_uri == Share.author_uri,
                             BotNotice.kind == literal(KIND_PREFIX) + Share.period)
    stopped = exists().where(BotOptOut.actor_uri == Share.author_uri)
    rows = await session.execute(
        select(Share.author_uri, Share.period, func.sum(Share.amount))
        .where(Share.destination == ESCROW, Share.settled_at.is_(None), Share.currency == currency, ~noticed, ~stopped)
        .group_by(Share.author_uri, Share.period).order_by(Share.period, Share.author_uri))
    return [(author, period, int(amount)) for author, period, amount in rows]


async def _notify(instance: Instance, author: str, period: str, amount: int) -> int:
    try:
        await instance.actors.actor(author)
    except FederationError as exc:
        log.info("escrow notice to %s not sent: %s", author, exc)
    now = instance.clock()
    async with instance.sessions() as session, session.begin():
        first = await insert_ignoring_duplicates(session, BotNotice.__table__, {
            "actor_uri": author, "kind": f"{KIND_PREFIX}{period}", "sent_at": now})
        recipient = await replies.recipient(session, author)
        if not first or recipient is None:
            return 0
        await replies.send(session, instance.urls, instance.settings.instance.bot_username, recipient,
                           _text(instance, period, amount), in_reply_to=None, now=now)
    return 1


def _text(instance: Instance, period: str, amount: int) -> str:
    options, currency = instance.settings.settlement, instance.settings.instance.currency
    until = escrow.expiry(period, claim_months=options.escrow_claim_months, period_length=options.period)
    held = f"{format_amount(Money(amount, currency))} {currency}"
    return replies.escrow_waiting(instance.urls.base_url, period, held, until.date().isoformat())
