"""What escrow holds for a few given authors: a creator's view of their own waiting money.

`settlement.escrow.held` lists every author for the operator; a creator's
page asks only about the accounts they linked or named, so it filters in the
query rather than scanning every author escrow holds money for.
"""

from collections.abc import Collection

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from settlement.destinations import ESCROW
from settlement.escrow import EscrowHolding, expiry
from settlement.models import Share


async def held_for(session: AsyncSession, authors: Collection[str], *, currency: str, claim_months: int,
                   period_length: str) -> list[EscrowHolding]:
    """Only authors escrow holds something for; largest amount first."""
    if not authors:
        return []
    rows = await session.execute(
        select(Share.author_uri, func.sum(Share.amount), func.count(Share.id), func.min(Share.period))
        .where(Share.destination == ESCROW, Share.settled_at.is_(None), Share.currency == currency,
               Share.author_uri.in_(list(authors)))
        .group_by(Share.author_uri)
        .order_by(func.sum(Share.amount).desc(), Share.author_uri))
    return [EscrowHolding(author, int(amount), int(shares), oldest,
                          expiry(oldest, claim_months=claim_months, period_length=period_length))
            for author, amount, shares, oldest in rows]
