"""Payouts between Mecene instances, both sides.

Sender: a closed period leaves one `stl_payouts` row per destination host;
its lines are the period's `payout` shares summed per (creator, thing). It is
queued and settled with claim payouts by `settlement.sent_payouts`; what is
particular to it is here: its lines, and where refused lines' shares go
(escrow, for their own creator).

Receiver: `receive` credits each acceptable line to its local creator and
books the total against `due_from:{source}`, keyed by the payout id, so a
duplicate, replayed or late payout credits nothing twice and gets the same
answer as the first time. A claim payout (escrow another instance held for an
author who proved to be one of our creators) is received the same way. What
a creator is paid this way is *pending* (`pending:{creator}`, one
`PendingCredit` per payout) until `source` clears it (`settlement.clearings`);
and a line that would make `source` owe us, net of what we owe it, more than
the credit limit our operator set is refused (`CREDIT_LIMIT`), so the sender
keeps it and sends it again once a clearing has made room.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from common.sql import dialect_insert, insert_ignoring_duplicates
from settlement import ledger, positions
from settlement.accounts import DUE_FROM, PENDING
from settlement.destinations import ESCROW, PAYOUT
from settlement.ledger import AccountKey
from settlement.models import Earning, Payout, PendingCredit, ReceivedPayout, Share

UNKNOWN_CREATOR = "unknown_creator"
WRONG_CURRENCY = "wrong_currency"
INVALID_LINE = "invalid_line"
#: The line would take what the sender owes us past the credit limit we set: it may come again after a clearing.
CREDIT_LIMIT = "credit_limit"


@dataclass(frozen=True)
class PayoutLine:
    creator: str
    thing: str
    amount: int
    flattrs: int


@dataclass(frozen=True)
class Refusal:
    creator: str
    thing: str
    reason: str

    def as_dict(self) -> dict[str, str]:
        """As the answer lists it: `object` is the thing, in ActivityStreams' words."""
        return {"creator": self.creator, "object": self.thing, "reason": self.reason}


@dataclass(frozen=True)
class IncomingLine:
    """A line as the receiver read it; `amount` is None when it could not be read exactly."""

    creator: str
    thing: str
    amount: int | None
    currency: str
    flattrs: int


async def lines_of(session: AsyncSession, payout: Any) -> list[PayoutLine]:
    return await share_lines(session, payout.period, payout.host, PAYOUT)


async def share_lines(session: AsyncSession, period: str, host: str, destination: str) -> list[PayoutLine]:
    """One line per (creator, thing) of the period's unsettled shares for `host` with that destination."""
    rows = await session.execute(
        select(Share.author_uri, Share.thing_uri, func.sum(Share.amount), func.count(Share.id))
        .where(Share.period == period, Share.host == host, Share.destination == destination,
               Share.settled_at.is_(None))
        .group_by(Share.author_uri, Share.thing_uri)
        .having(func.sum(Share.amount) > 0)
        .order_by(Share.author_uri, Share.thing_uri))
    return [PayoutLine(creator, thing, int(amount), int(count)) for creator, thing, amount, count in rows]


def escrow_owner(payout: object, line: PayoutLine) -> str:
    """A refused line of a period payout, or of an awaited one, is held for its own creator."""
    return line.creator


async def settle_shares(session: AsyncSession, payout: Any, back: Sequence[PayoutLine], now: datetime) -> None:
    """Refused lines' shares go to escrow for their creators; the rest of the period's shares to `host` are settled."""
    await _escrow_refused_shares(session, payout, back)
    await session.execute(update(Share).where(
        Share.period == payout.period, Share.host == payout.host, Share.destination == PAYOUT).values(settled_at=now))


async def _escrow_refused_shares(session: AsyncSession, payout: Payout, back: Sequence[PayoutLine]) -> None:
    if not back:
        return
    matches = or_(*(and_(Share.author_uri == line.creator, Share.thing_uri == line.thing) for line in back))
    await session.execute(update(Share).where(
        Share.period == payout.period, Share.host == payout.host, Share.destination == PAYOUT, matches,
    ).values(destination=ESCROW, recipient=Share.author_uri))


async def received(session: AsyncSession, payout_id: str) -> bool:
    """Whether this payout id was handled before: a repeat gets its first answer, whatever changed since."""
    return await session.scalar(select(ReceivedPayout.id).where(ReceivedPayout.payout_id == payout_id)) is not None


async def receive(session: AsyncSession, *, payout_id: str, source: str, period: str, currency: str,
                  lines: Sequence[IncomingLine], creators: Mapping[str, str], credit_limit: int,
                  now: datetime) -> list[Refusal]:
    """Credit what we can, once per payout id; returns the refused lines (the same ones on every repeat).

    `creators` maps the actor URIs of our local creators to their usernames;
    `credit_limit` is the most `source` may owe us in `currency`, net of what
    we owe it. The caller holds the agreement's row lock, so two payouts from
    one peer cannot both fit in the same room.
    """
    if not await insert_ignoring_duplicates(session, ReceivedPayout.__table__, {
            "payout_id": payout_id, "source_host": source, "period": period, "credited": 0, "currency": currency,
            "refused": [], "received_at": now}):
        stored = await session.scalar(select(ReceivedPayout.refused).where(ReceivedPayout.payout_id == payout_id))
        return [Refusal(item["creator"], item["object"], item["reason"]) for item in stored or []]
    credited, refusals = _sort_lines(lines, currency, creators)
    room = credit_limit - (await positions.position(session, source, currency)).net
    credited, over = _within(credited, room)
    refusals += over
    total = sum(line.amount or 0 for line in credited)
    if total:
        entries = _credit_entries(credited, creators, currency)
        await ledger.post(session, kind="payout_received", idempotency_key=f"received:{payout_id}",
                          lines=[*entries, (AccountKey(DUE_FROM, source, currency), -total)], now=now,
                          memo=f"payout {period} from {source}")
        await _record_pending(session, entries, source, payout_id, now)
        await _record_earnings(session, credited, creators, period, source, currency)
    await session.execute(update(ReceivedPayout).where(ReceivedPayout.payout_id == payout_id).values(
        credited=total, refused=[refusal.as_dict() for refusal in refusals]))
    return refusals


def _within(lines: Sequence[IncomingLine], room: int) -> tuple[list[IncomingLine], list[Refusal]]:
    """The lines that fit in `room`, in the payout's order, each one whole; the others refused for the limit."""
    fitting, over = [], []
    for line in lines:
        amount = line.amount or 0
        if amount <= room:
            fitting.append(line)
            room -= amount
        else:
            over.append(Refusal(line.creator, line.thing, CREDIT_LIMIT))
    return fitting, over


def _sort_lines(lines: Sequence[IncomingLine], currency: str,
                creators: Mapping[str, str]) -> tuple[list[IncomingLine], list[Refusal]]:
    credited, refusals, seen = [], [], set()
    for line in lines:
        reason = None
        if line.amount is None or line.amount <= 0 or (line.creator, line.thing) in seen:
            reason = INVALID_LINE
        elif line.currency != currency:
            reason = WRONG_CURRENCY
        elif line.creator not in creators:
            reason = UNKNOWN_CREATOR
        seen.add((line.creator, line.thing))
        if reason:
            refusals.append(Refusal(line.creator, line.thing, reason))
        else:
            credited.append(line)
    return credited, refusals


def _credit_entries(lines: Sequence[IncomingLine], creators: Mapping[str, str],
                    currency: str) -> list[tuple[AccountKey, int]]:
    totals: dict[str, int] = {}
    for line in lines:
        username = creators[line.creator]
        totals[username] = totals.get(username, 0) + (line.amount or 0)
    return [(AccountKey(PENDING, username, currency), amount) for username, amount in totals.items()]


async def _record_pending(session: AsyncSession, entries: Sequence[tuple[AccountKey, int]], source: str,
                          payout_id: str, now: datetime) -> None:
    """One credit per creator, which a clearing with `source` releases in the order they came."""
    await session.execute(PendingCredit.__table__.insert(), [
        {"creator": key.owner, "source_host": source, "currency": key.currency, "amount": amount, "released": 0,
         "payout_id": payout_id, "received_at": now} for key, amount in entries])


async def _record_earnings(session: AsyncSession, lines: Sequence[IncomingLine], creators: Mapping[str, str],
                           period: str, source: str, currency: str) -> None:
    """Added to what an earlier payout from `source` recorded: a claim payout can bring more of the same thing."""
    for line in lines:
        values: dict[str, Any] = {"creator": creators[line.creator], "period": period, "thing_uri": line.thing,
                                  "source": source, "amount": line.amount, "currency": currency,
                                  "flattrs": line.flattrs}
        statement = dialect_insert(session, Earning.__table__).values(**values)
        await session.execute(statement.on_conflict_do_update(
            index_elements=["creator", "period", "thing_uri", "source"],
            set_={"amount": Earning.amount + statement.excluded.amount,
                  "flattrs": Earning.flattrs + statement.excluded.flattrs}))
