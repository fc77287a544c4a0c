"""Escrow claimed by an account on another Mecene instance: sent there as a payout of its own, both ways settled.

`forward` takes what escrow holds for an author, one claim payout per period
(a `Payout` carries one period), in the caller's transaction: the shares
become `claimed`, unsettled and tagged with their claim payout, and the
ledger moves escrow → `in_flight:{host}` per claim payout. The answer settles
it like an ordinary payout (`settlement.sent_payouts`): accepted lines become `due_to:{host}`; refused
lines go back to escrow for the author, shares and money alike, so a refusal
loses nothing and the claim window still bounds how long they wait.

A claim payout has its own row and id, since the period's ordinary payout to
that host may be settled long before. Its ledger keys name that row, never
the shares: a refused share can be sent again later, in another claim payout.
"""

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from settlement import accounts, escrow, ledger
from settlement.destinations import ESCROW
from settlement.ledger import AccountKey
from settlement.models import CLAIM_PAYOUT_STATES, ClaimPayout, Share
from settlement.payouts import PayoutLine

PayoutIds = Callable[[int], str]


async def forward(session: AsyncSession, *, author_uri: str, creator: str, host: str, currency: str,
                  now: datetime, payout_id: PayoutIds) -> int:
    """Send everything held for `author_uri` to `creator` on `host`; the minor units moved, 0 the second time."""
    periods = await session.scalars(select(Share.period).distinct().where(
        Share.author_uri == author_uri, Share.destination == ESCROW, Share.settled_at.is_(None),
        Share.currency == currency, Share.amount > 0))
    moved = 0
    for period in sorted(periods):
        moved += await _forward_period(session, ClaimPayout(
            author_uri=author_uri, creator=creator, host=host, period=period, total=0, refused=0, currency=currency,
            state=CLAIM_PAYOUT_STATES.birth("pending"), created_at=now), payout_id)
    return moved


async def _forward_period(session: AsyncSession, row: ClaimPayout, payout_id: PayoutIds) -> int:
    session.add(row)
    await session.flush()
    taken = await escrow.take(
        session, Share.author_uri == row.author_uri, Share.period == row.period, Share.currency == row.currency,
        Share.amount > 0, values={"destination": escrow.CLAIMED, "recipient": row.creator, "claim_payout_id": row.id})
    if not taken:
        await session.delete(row)
        return 0
    row.payout_id, row.total = payout_id(row.id), sum(share.amount for share in taken)
    await ledger.post(session, kind="claim_sent", idempotency_key=f"claim_sent:{row.id}", lines=[
        (AccountKey(accounts.ESCROW, row.author_uri, row.currency), -row.total),
        (AccountKey(accounts.IN_FLIGHT, row.host, row.currency), row.total)], now=row.created_at,
        memo=f"escrow of {row.author_uri} claimed by {row.creator}"[:500])
    await session.flush()
    return row.total


async def lines_of(session: AsyncSession, payout: Any) -> list[PayoutLine]:
    """One line per thing, every one naming the claiming account as its creator."""
    rows = await session.execute(
        select(Share.thing_uri, func.sum(Share.amount), func.count(Share.id))
        .where(Share.claim_payout_id == payout.id, Share.destination == escrow.CLAIMED)
        .group_by(Share.thing_uri).order_by(Share.thing_uri))
    return [PayoutLine(payout.creator, thing, int(amount), int(count)) for thing, amount, count in rows]


async def refused_since(session: AsyncSession, *, author_uri: str, creator: str, since: datetime) -> bool:
    """Whether `creator`'s instance refused a claim of `author_uri`'s escrow after `since`."""
    refusals = (await session.execute(select(func.count(ClaimPayout.id)).where(
        ClaimPayout.author_uri == author_uri, ClaimPayout.creator == creator, ClaimPayout.refused > 0,
        ClaimPayout.settled_at >= since))).scalar_one()
    return refusals > 0


def escrow_owner(payout: Any, line: PayoutLine) -> str:
    """A refused line of a claim goes back to the author whose escrow was claimed."""
    return str(payout.author_uri)


async def settle_shares(session: AsyncSession, payout: Any, back: Sequence[PayoutLine], now: datetime) -> None:
    """Refused things' shares go back to escrow for the author; the rest of the claim's shares are settled."""
    payout.refused = sum(line.amount for line in back)
    await _back_to_escrow(session, payout, [line.thing for line in back])
    await session.execute(update(Share).where(
        Share.claim_payout_id == payout.id, Share.destination == escrow.CLAIMED).values(settled_at=now))


async def _back_to_escrow(session: AsyncSession, payout: ClaimPayout, things: Sequence[str]) -> None:
    if things:
        await session.execute(update(Share).where(
            Share.claim_payout_id == payout.id, Share.destination == escrow.CLAIMED, Share.thing_uri.in_(things),
        ).values(destination=ESCROW, recipient=Share.author_uri, claim_payout_id=None))
