"""Statements two instances exchange each period: each side's account of the money between them, and where they differ.

After each period closes, an instance tells every peer it ever had an
agreement with, per currency, what its own books say: what it owes the peer
and is owed, every payout between them with the amount its books hold (what
the peer accepted of ours, what we credited of theirs) and every confirmed
clearing. The receiver compares that with its books, line by line (`compare`),
and keeps the result for both operators to see (`stl_statement_checks`).

Only settled facts are compared. A payout the peer sent and settled was
credited here before our answer left, so its amount must match at once; a
payout of ours still waiting for its answer, or a clearing still waiting for
one side's word, may legitimately be missing from one side and is skipped.
The totals are compared only when nothing was skipped: a difference in
them without a differing line would be a bug in one side's books.
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from common.sql import insert_ignoring_duplicates
from settlement import accounts, positions, sent_payouts
from settlement.agreements import ENDED, IN_FORCE
from settlement.clearings import CONFIRMED, DISPUTED
from settlement.models import (
    Account,
    Agreement,
    Clearing,
    Entry,
    ReceivedPayout,
    StatementCheck,
    StatementSent,
    Transaction,
)

#: How long before a statement was written our side of a payout or clearing may be, and still missing from it.
MARGIN = timedelta(hours=1)
#: What a check found.
AGREE = "agree"
DIFFER = "differ"


@dataclass(frozen=True)
class Books:
    """One side's account of the money between it and one peer in one currency."""

    currency: str
    owed_to: int
    owed_by: int
    #: Our payouts the peer answered: payout id → what it accepted.
    sent: dict[str, int] = field(default_factory=dict)
    #: The peer's payouts we credited: payout id → what we credited.
    received: dict[str, int] = field(default_factory=dict)
    #: Confirmed clearings: clearing id → (cash, netted); positive cash when we paid.
    cleared: dict[str, tuple[int, int]] = field(default_factory=dict)


@dataclass(frozen=True)
class Difference:
    """One line where the peer's statement and our books disagree; None where a side has no such line."""

    what: str
    id: str
    theirs: Any
    ours: Any

    def as_dict(self) -> dict[str, Any]:
        return {"what": self.what, "id": self.id, "theirs": self.theirs, "ours": self.ours}


async def books(session: AsyncSession, host: str, currency: str) -> Books:
    """Our books as a statement to `host` states them."""
    position = await positions.position(session, host, currency)
    return Books(currency, position.owed_to, position.owed_by, await _sent(session, host, currency),
                 await _received(session, host, currency), await _cleared(session, host, currency))


async def compare(session: AsyncSession, host: str, theirs: Books, published: datetime) -> list[Difference]:
    """Where `host`'s statement (`theirs`, from its side, written at `published`) differs from our books.

    A payout we settled, or a clearing we confirmed, less than `MARGIN`
    before the statement was written may have been settled on its side just
    after: it is skipped rather than called a difference.
    """
    ours = await books(session, host, theirs.currency)
    recent = await _recent(session, host, theirs.currency, published - MARGIN)
    waiting = await _our_unanswered(session, host, theirs.currency)
    found = [Difference("payout", payout_id, amount, ours.received.get(payout_id))
             for payout_id, amount in sorted(theirs.sent.items()) if ours.received.get(payout_id) != amount]
    found += [Difference("payout", payout_id, theirs.received.get(payout_id), amount)
              for payout_id, amount in sorted(ours.sent.items())
              if theirs.received.get(payout_id) != amount and not (payout_id in recent
                                                                   and payout_id not in theirs.received)]
    found += [Difference("payout", payout_id, amount, None) for payout_id, amount in sorted(theirs.received.items())
              if payout_id not in ours.sent and payout_id not in waiting]
    found += _clearing_differences(theirs, ours, await _ours_waiting(session, host, theirs.currency) | recent)
    skipped = bool(waiting or recent) or set(ours.received) != set(theirs.sent)
    if not found and not skipped and (theirs.owed_to, theirs.owed_by) != (ours.owed_by, ours.owed_to):
        found.append(Difference("total", "", [theirs.owed_to, theirs.owed_by], [ours.owed_by, ours.owed_to]))
    return found


async def record_check(session: AsyncSession, *, activity_id: str, label: str, host: str, currency: str,
                       differences: list[Difference], now: datetime) -> bool:
    """Keep what a peer's statement showed; False for a statement already checked."""
    return await insert_ignoring_duplicates(session, StatementCheck.__table__, {
        "activity_id": activity_id, "period": label, "peer_host": host, "currency": currency,
        "result": DIFFER if differences else AGREE, "differences": [item.as_dict() for item in differences],
        "checked_at": now})


async def unsent(session: AsyncSession, label: str, ended: datetime) -> list[tuple[str, str]]:
    """(peer, currency) of every agreement in force before the period `label` `ended`, not sent its statement yet."""
    agreed = await session.execute(select(Agreement.peer_host, Agreement.currency).distinct().where(
        Agreement.answered_at < ended, Agreement.state.in_((IN_FORCE, ENDED))))
    sent = set(await session.execute(select(StatementSent.peer_host, StatementSent.currency).where(
        StatementSent.period == label)))
    return sorted((host, currency) for host, currency in agreed if (host, currency) not in sent)


async def record_sent(session: AsyncSession, *, label: str, host: str, currency: str, activity_id: str,
                      now: datetime) -> bool:
    """False when another process sent this statement first: then the caller sends nothing."""
    return await insert_ignoring_duplicates(session, StatementSent.__table__, {
        "period": label, "peer_host": host, "currency": currency, "activity_id": activity_id, "sent_at": now})


async def latest_checks(session: AsyncSession) -> dict[tuple[str, str], StatementCheck]:
    """The newest check per (peer, currency)."""
    found: dict[tuple[str, str], StatementCheck] = {}
    for check in await session.scalars(select(StatementCheck).order_by(StatementCheck.id.desc())):
        found.setdefault((check.peer_host, check.currency), check)
    return found


def _clearing_differences(theirs: Books, ours: Books, waiting: set[str]) -> list[Difference]:
    """Their cash is positive when they paid, ours when we did: the same clearing has opposite signs."""
    found = []
    for uri in sorted(set(theirs.cleared) | set(ours.cleared)):
        their, our = theirs.cleared.get(uri), ours.cleared.get(uri)
        mirrored = None if their is None else (-their[0], their[1])
        if mirrored != our and not (uri in waiting and (our is None or their is None)):
            found.append(Difference("clearing", uri, list(their) if their else None, list(our) if our else None))
    return found


async def _sent(session: AsyncSession, host: str, currency: str) -> dict[str, int]:
    """What each answered payout of ours put on `due_to:{host}`: its booking says what the peer accepted."""
    found: dict[str, int] = {}
    for kind in sent_payouts.KINDS:
        settled = kind.settle()[1]
        ids = [payout_id for payout_id in await session.scalars(select(kind.model.payout_id).where(
            kind.model.host == host, kind.model.currency == currency, kind.model.state == settled)) if payout_id]
        accepted = await _booked(session, [f"{kind.key}:{payout_id}" for payout_id in ids], host, currency)
        found.update({payout_id: accepted.get(f"{kind.key}:{payout_id}", 0) for payout_id in ids})
    return {payout_id: amount for payout_id, amount in found.items() if amount}


async def _booked(session: AsyncSession, keys: list[str], host: str, currency: str) -> dict[str, int]:
    if not keys:
        return {}
    rows = await session.execute(
        select(Transaction.idempotency_key, Entry.amount).join(Entry, Entry.transaction_id == Transaction.id)
        .join(Account, Account.id == Entry.account_id)
        .where(Transaction.idempotency_key.in_(keys), Account.kind == accounts.DUE_TO, Account.owner == host,
               Account.currency == currency))
    return {key: int(amount) for key, amount in rows}


async def _received(session: AsyncSession, host: str, currency: str) -> dict[str, int]:
    rows = await session.execute(select(ReceivedPayout.payout_id, ReceivedPayout.credited).where(
        ReceivedPayout.source_host == host, ReceivedPayout.currency == currency, ReceivedPayout.credited > 0))
    return {payout_id: int(credited) for payout_id, credited in rows}


async def _cleared(session: AsyncSession, host: str, currency: str) -> dict[str, tuple[int, int]]:
    rows = await session.scalars(select(Clearing).where(
        Clearing.peer_host == host, Clearing.currency == currency, Clearing.state == CONFIRMED))
    return {row.uri: (row.amount if row.we_paid else -row.amount, row.netted) for row in rows}


async def _our_unanswered(session: AsyncSession, host: str, currency: str) -> set[str]:
    """Our payouts to `host` not answered yet: the peer may have credited them while we have not heard."""
    found: set[str] = set()
    for kind in sent_payouts.KINDS:
        settled = kind.settle()[1]
        found.update(payout_id for payout_id in await session.scalars(select(kind.model.payout_id).where(
            kind.model.host == host, kind.model.currency == currency, kind.model.state != settled)) if payout_id)
    return found


async def _recent(session: AsyncSession, host: str, currency: str, since: datetime) -> set[str]:
    """Our payouts settled and clearings confirmed since `since`: the peer's statement may predate its side of them."""
    found: set[str] = set()
    for kind in sent_payouts.KINDS:
        found.update(payout_id for payout_id in await session.scalars(select(kind.model.payout_id).where(
            kind.model.host == host, kind.model.currency == currency, kind.model.settled_at >= since)) if payout_id)
    found.update(await session.scalars(select(Clearing.uri).where(
        Clearing.peer_host == host, Clearing.currency == currency, Clearing.answered_at >= since)))
    return found


async def _ours_waiting(session: AsyncSession, host: str, currency: str) -> set[str]:
    """Our clearings with `host` not finished: the peer may have confirmed one whose Accept is on its way."""
    return set(await session.scalars(select(Clearing.uri).where(
        Clearing.peer_host == host, Clearing.currency == currency, Clearing.state.not_in((CONFIRMED, DISPUTED)))))
