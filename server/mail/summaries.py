"""After a period closes: "where your money went" to each donor, "what you earned" to each creator.

The settlement tick asks after every round; the newest closed period's
summaries are queued in one transaction, each keyed by period and person, so
a close finished by a process that stopped before queuing them is caught up
by the next tick, and none is queued twice. Only accounts with a confirmed
address that want summaries are read, so an instance where nobody does pays
one query a tick.
"""

from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from server.instance import Instance
from server.mail import kinds, outbox
from server.mail.outbox import amount
from server.models import MailMessage, User
from settlement.closing import CLOSED
from settlement.donor_history import PeriodSpending, recent
from settlement.earnings import of_creator
from settlement.models import DonorClose, Earning, PeriodClose

#: Lines listed in one summary; the page has them all.
MOST_LINES = 20


async def catch_up(instance: Instance) -> int:
    """Queue the summaries of the newest closed period, unless they were; how many were queued."""
    async with instance.sessions() as session, session.begin():
        period = await session.scalar(select(func.max(PeriodClose.period)).where(PeriodClose.state == CLOSED))
        if period is None or await session.scalar(select(MailMessage.id).where(
                MailMessage.key.startswith(f"summary:{period}:", autoescape=True)).limit(1)) is not None:
            return 0
        return await queue_for_period(session, period, instance.settings.instance.currency, instance.clock())


async def queue_for_period(session: AsyncSession, period: str, currency: str, now: datetime) -> int:
    readers = list(await session.scalars(select(User.username).where(User.email.is_not(None), User.mail_summaries)))
    if not readers:
        return 0
    queued = 0
    donors = set(await session.scalars(select(DonorClose.donor).where(
        DonorClose.period == period, DonorClose.donor.in_(readers), DonorClose.spend > 0)))
    for donor in sorted(donors):
        spending = next((found for found in await recent(session, donor, limit=12) if found.period == period), None)
        if spending is not None:
            queued += await outbox.to_user(session, donor, kinds.DONOR_SUMMARY, f"summary:{period}:donor:{donor}",
                                           _donor_context(donor, spending, currency), now)
    creators = set(await session.scalars(select(Earning.creator).where(
        Earning.period == period, Earning.currency == currency, Earning.creator.in_(readers))))
    for creator in sorted(creators):
        earned = await of_creator(session, creator, currency, period)
        things = [thing for found in earned.periods for thing in found.things]
        queued += await outbox.to_user(session, creator, kinds.CREATOR_SUMMARY, f"summary:{period}:creator:{creator}", {
            "username": creator, "period": period, "earned": amount(earned.amount, currency),
            "flattrs": earned.flattrs, "more": max(0, len(things) - MOST_LINES),
            "things": [{"uri": thing.thing_uri, "amount": amount(thing.amount, currency), "flattrs": thing.flattrs}
                       for thing in things[:MOST_LINES]]}, now)
    return queued


def _donor_context(donor: str, spending: PeriodSpending, currency: str) -> dict[str, Any]:
    return {"username": donor, "period": spending.period, "spent": amount(spending.spend, currency),
            "fee": amount(spending.fee, currency), "more": max(0, len(spending.shares) - MOST_LINES),
            "shares": [{"uri": line.thing_uri, "author": line.author_uri, "amount": amount(line.amount, currency)}
                       for line in spending.shares[:MOST_LINES]]}
