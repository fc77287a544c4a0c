"""Shares that waited for an agreement with their creators' instance, sent as a payout of their own once it is in force.

A close gives a creator on a Mecene instance we have no agreement with an
`awaiting` share on `awaiting_peer:{host}` (`settlement.destinations`). Once an
agreement with that host is in force in the shares' currency, `forward` takes
what waits for it, one awaited payout per closed period (a `Payout` carries one
period), in the caller's transaction: the shares become `awaited`, the ledger
moves `awaiting_peer:{host}` → `in_flight:{host}`. It then leaves and is settled
like any payout (`settlement.sent_payouts`): accepted lines become
`due_to:{host}`, refused ones go to escrow for their creators. What is still
waiting when the claim window ends goes back to its donors
(`settlement.escrow.release_expired`).

An awaited payout has its own row and id: the period's ordinary payout to the
same host exists too when the agreement came into force while the period was
closing. Only closed periods are forwarded, so a period's waiting shares for a
host leave together, and (period, host) names one awaited payout per round:
lines the host refused for its credit limit are held
(`settlement.held_shares`) and leave again, after a clearing, in the next round.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from common.sql import insert_ignoring_duplicates
from settlement import accounts, escrow, ledger, payouts
from settlement.closing import CLOSED
from settlement.destinations import AWAITING, ESCROW, HELD
from settlement.ledger import AccountKey
from settlement.models import AWAITED_PAYOUT_STATES, Account, AwaitedPayout, Entry, PeriodClose, Share
from settlement.payouts import PayoutLine

#: A share sent in an awaited payout, until the answer settles it or sends it to escrow.
AWAITED = "awaited"

#: The id of the awaited payout of (period, host, round).
PayoutIds = Callable[[str, str, int], str]


@dataclass(frozen=True)
class Mismatch:
    """An `awaiting_peer` account whose balance is not what its waiting shares add up to."""

    host: str
    currency: str
    balance: int
    shares: int


async def hosts_waiting(session: AsyncSession, currency: str) -> list[str]:
    """Every host whose creators have shares of a closed period waiting for an agreement."""
    return list(await session.scalars(select(Share.host).distinct().where(*_waiting(currency)).order_by(Share.host)))


async def forward(session: AsyncSession, *, host: str, currency: str, now: datetime, payout_id: PayoutIds) -> int:
    """One awaited payout per closed period of what waits for `host`; the minor units moved, 0 the second time.

    The caller has seen an agreement with `host` in force in `currency`.
    """
    periods = await session.scalars(select(Share.period).distinct().where(*_waiting(currency), Share.host == host))
    moved = 0
    for period in sorted(periods):
        moved += await _forward_period(session, host=host, period=period, currency=currency, now=now,
                                       payout_ids=payout_id)
    return moved


async def _forward_period(session: AsyncSession, *, host: str, period: str, currency: str, now: datetime,
                          payout_ids: PayoutIds) -> int:
    """The row, the shares taken and their money in flight, together; nothing when another process was first.

    The shares' return to their donors may take them first, in another
    process: then no row stays, since a Payout of no line is none.
    """
    rounds = await session.scalar(select(func.max(AwaitedPayout.round)).where(
        AwaitedPayout.period == period, AwaitedPayout.host == host))
    round_ = (rounds or 0) + 1
    payout_id = payout_ids(period, host, round_)
    if not await insert_ignoring_duplicates(session, AwaitedPayout.__table__, {
            "period": period, "host": host, "round": round_, "payout_id": payout_id, "total": 0,
            "currency": currency, "state": AWAITED_PAYOUT_STATES.birth("pending"), "created_at": now}):
        return 0
    taken = await escrow.take(session, Share.host == host, Share.period == period, Share.currency == currency,
                              Share.amount > 0, values={"destination": AWAITED}, destination=AWAITING)
    total = sum(share.amount for share in taken)
    if not total:
        await session.execute(delete(AwaitedPayout).where(AwaitedPayout.payout_id == payout_id))
        return 0
    await session.execute(update(AwaitedPayout).where(AwaitedPayout.payout_id == payout_id).values(total=total))
    await ledger.post(session, kind="awaited_sent", idempotency_key=f"awaited_sent:{payout_id}", lines=[
        (AccountKey(accounts.AWAITING_PEER, host, currency), -total),
        (AccountKey(accounts.IN_FLIGHT, host, currency), total)], now=now,
        memo=f"period {period}: waited for an agreement with {host}")
    return total


async def lines_of(session: AsyncSession, payout: Any) -> list[PayoutLine]:
    """One line per (creator, thing), as the period's own payout would have carried them."""
    return await payouts.share_lines(session, payout.period, payout.host, AWAITED)


async def settle_shares(session: AsyncSession, payout: Any, back: Sequence[PayoutLine], now: datetime) -> None:
    """Refused lines' shares go to escrow for their creators; the rest are settled."""
    for line in back:
        await session.execute(update(Share).where(
            Share.period == payout.period, Share.host == payout.host, Share.destination == AWAITED,
            Share.author_uri == line.creator, Share.thing_uri == line.thing, Share.settled_at.is_(None),
        ).values(destination=ESCROW, recipient=Share.author_uri))
    await session.execute(update(Share).where(
        Share.period == payout.period, Share.host == payout.host, Share.destination == AWAITED,
        Share.settled_at.is_(None)).values(settled_at=now))


async def mismatches(session: AsyncSession) -> list[Mismatch]:
    """Every `awaiting_peer:{host}` that differs from its unsettled `awaiting` and `held` shares.

    A close, a forward and a return each move shares and money in one
    transaction, so the two always agree after a commit; a difference is a
    bug, a manual edit or a bad restore, and the operator must see it.
    """
    balances = await session.execute(
        select(Account.owner, Account.currency, func.sum(Entry.amount)).join(Entry, Entry.account_id == Account.id)
        .where(Account.kind == accounts.AWAITING_PEER).group_by(Account.owner, Account.currency))
    shares = await session.execute(
        select(Share.recipient, Share.currency, func.sum(Share.amount))
        .where(Share.destination.in_((AWAITING, HELD)), Share.settled_at.is_(None))
        .group_by(Share.recipient, Share.currency))
    held = {(host, currency): int(total) for host, currency, total in balances}
    waiting = {(host, currency): int(total) for host, currency, total in shares}
    return [Mismatch(host, currency, held.get((host, currency), 0), waiting.get((host, currency), 0))
            for host, currency in sorted(held.keys() | waiting.keys())
            if held.get((host, currency), 0) != waiting.get((host, currency), 0)]


def _waiting(currency: str) -> tuple[ColumnElement[bool], ...]:
    """Unsettled awaiting shares of closed periods only: a closing period may still add some."""
    closed = select(PeriodClose.period).where(PeriodClose.state == CLOSED)
    return (Share.destination == AWAITING, Share.settled_at.is_(None), Share.currency == currency,
            Share.amount > 0, Share.period.in_(closed))
