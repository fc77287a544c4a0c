"""Our payouts to other Mecene instances, of a period, of a claim or of a wait: queued and settled by one path.

A period payout (`settlement.payouts`) carries a closed period's shares for the
creators of one host; a claim payout (`settlement.claim_payouts`) carries the
escrow of one author, claimed by an account on that host; an awaited payout
(`settlement.awaited_payouts`) carries what waited for an agreement with that
host. All leave by the
same moves of their state graphs (pending → sent → settled), and the answer
settles whichever the id names, in one ledger transaction per payout: the
total leaves `in_flight:{host}`, accepted lines become `due_to:{host}` (we now
owe that instance real money) and refused lines go back to escrow, shares and
money alike, except lines of a period's or a wait's refused for the host's
credit limit, which are held for it on `awaiting_peer:{host}` until a clearing
(`settlement.held_shares`). Only what each kind does with its shares differs (`SentKind`).
"""

from collections import defaultdict
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from common.sql import rowcount
from common.states import StateGraph
from settlement import awaited_payouts, claim_payouts, held_shares, ledger, payouts
from settlement.accounts import AWAITING_PEER, DUE_TO, ESCROW, IN_FLIGHT
from settlement.destinations import PAYOUT as PAYOUT_SHARES
from settlement.ledger import AccountKey
from settlement.models import (
    AWAITED_PAYOUT_STATES,
    CLAIM_PAYOUT_STATES,
    PAYOUT_STATES,
    AwaitedPayout,
    ClaimPayout,
    Payout,
)
from settlement.payouts import PayoutLine

SentPayout = Payout | ClaimPayout | AwaitedPayout


@dataclass(frozen=True)
class SentKind:
    """What differs between a period payout, a claim payout and an awaited payout once sent."""

    model: type[Payout] | type[ClaimPayout] | type[AwaitedPayout]
    states: StateGraph
    booking: str
    key: str
    memo: str
    lines_of: Callable[[AsyncSession, SentPayout], Awaitable[list[PayoutLine]]]
    escrow_owner: Callable[[SentPayout, PayoutLine], str]
    settle_shares: Callable[[AsyncSession, SentPayout, Sequence[PayoutLine], datetime], Awaitable[None]]
    #: The destination its shares travel as, when lines refused for a credit limit are held; None: they go to escrow.
    holds_as: str | None

    def send(self) -> tuple[str, str]:
        move = self.states.move("pending", "sent")
        return move.source, move.target

    def resend(self) -> str:
        return self.states.move("sent", "sent").source

    def settle(self) -> tuple[str, str]:
        move = self.states.move("sent", "settled")
        return move.source, move.target


PERIOD = SentKind(Payout, PAYOUT_STATES, "payout_settled", "settled", "payout", payouts.lines_of,
                  payouts.escrow_owner, payouts.settle_shares, PAYOUT_SHARES)
CLAIM = SentKind(ClaimPayout, CLAIM_PAYOUT_STATES, "claim_settled", "claim_settled", "claim payout",
                 claim_payouts.lines_of, claim_payouts.escrow_owner, claim_payouts.settle_shares, None)
AWAITED = SentKind(AwaitedPayout, AWAITED_PAYOUT_STATES, "awaited_settled", "awaited_settled", "awaited payout",
                   awaited_payouts.lines_of, payouts.escrow_owner, awaited_payouts.settle_shares,
                   awaited_payouts.AWAITED)
KINDS = (PERIOD, CLAIM, AWAITED)
SETTLED = PERIOD.settle()[1]


async def pending(session: AsyncSession) -> list[tuple[SentKind, SentPayout]]:
    """Every payout not queued yet, period payouts first, each kind oldest first."""
    waiting: list[tuple[SentKind, SentPayout]] = []
    for kind in KINDS:
        source, _ = kind.send()
        rows = await session.scalars(select(kind.model).where(kind.model.state == source).order_by(kind.model.id))
        waiting += [(kind, _sent(row)) for row in rows]
    return waiting


async def find(session: AsyncSession, payout_id: str) -> tuple[SentKind, SentPayout] | None:
    for kind in KINDS:
        row = await session.scalar(select(kind.model).where(kind.model.payout_id == payout_id))
        if row is not None:
            return kind, _sent(row)
    return None


async def mark_sent(session: AsyncSession, kind: SentKind, payout_id: str, now: datetime) -> bool:
    """True for the caller that moved it from pending: only that one queues the activity."""
    source, target = kind.send()
    result = await session.execute(update(kind.model).where(
        kind.model.payout_id == payout_id, kind.model.state == source).values(state=target, sent_at=now))
    return bool(rowcount(result))


async def unanswered(session: AsyncSession, *, sent_before: datetime) -> list[tuple[SentKind, SentPayout]]:
    """Payouts sent before `sent_before` and still not answered (one sent before `sent_at` existed counts)."""
    found: list[tuple[SentKind, SentPayout]] = []
    for kind in KINDS:
        model = kind.model
        rows = await session.scalars(select(model).where(
            model.state == kind.resend(), func.coalesce(model.sent_at, model.created_at) < sent_before)
            .order_by(model.id))
        found += [(kind, _sent(row)) for row in rows]
    return found


async def mark_resent(session: AsyncSession, kind: SentKind, payout: SentPayout, now: datetime) -> bool:
    """True for the caller that moved its `sent_at`: only that one sends it again."""
    model = kind.model
    result = await session.execute(update(model).where(
        model.id == payout.id, model.state == kind.resend(), model.sent_at.is_not_distinct_from(payout.sent_at))
        .values(sent_at=now))
    return bool(rowcount(result))


async def settle(session: AsyncSession, *, payout_id: str, host: str, refused: Sequence[tuple[str, str]],
                 now: datetime, rejected: bool = False, over_limit: Sequence[tuple[str, str]] = ()) -> bool:
    """Book `host`'s answer to whichever of our payouts `payout_id` names; False when there is nothing to settle.

    `refused` lists the (creator, thing) lines the destination did not credit;
    `rejected`, that it credited none (a Payout it could not read at all);
    `over_limit`, the refused lines it would take after a clearing.
    """
    found = await find(session, payout_id)
    if found is None:
        return False
    kind, payout = found
    source, target = kind.settle()
    if payout.host != host or payout.state != source:
        return False
    held, back = _refused_lines(kind, await kind.lines_of(session, payout), set(refused), set(over_limit), rejected)
    await ledger.post(session, kind=kind.booking, idempotency_key=f"{kind.key}:{payout_id}",
                      lines=_entries(kind, payout, back, held), now=now, memo=f"{kind.memo} {payout.period} to {host}")
    if kind.holds_as is not None:
        await held_shares.hold(session, period=payout.period, host=host, destination=kind.holds_as, lines=held)
    await kind.settle_shares(session, payout, back, now)
    payout.state, payout.settled_at = target, now
    return True


def _refused_lines(kind: SentKind, lines: Sequence[PayoutLine], refused: set[tuple[str, str]],
                   over_limit: set[tuple[str, str]], rejected: bool) -> tuple[list[PayoutLine], list[PayoutLine]]:
    """The lines held for room under the host's credit limit, and the lines going to escrow."""
    held, back = [], []
    for line in lines:
        key = (line.creator, line.thing)
        if kind.holds_as is not None and not rejected and key in over_limit and key in refused:
            held.append(line)
        elif rejected or key in refused:
            back.append(line)
    return held, back


def _sent(row: object) -> SentPayout:
    """Narrows what a select over either model returns (SQLAlchemy types it as their common base)."""
    if not isinstance(row, Payout | ClaimPayout | AwaitedPayout):
        raise TypeError(f"not a payout row: {row!r}")
    return row


def _entries(kind: SentKind, payout: SentPayout, back: Sequence[PayoutLine],
             held: Sequence[PayoutLine]) -> list[tuple[AccountKey, int]]:
    escrowed: defaultdict[str, int] = defaultdict(int)
    for line in back:
        escrowed[kind.escrow_owner(payout, line)] += line.amount
    waiting = sum(line.amount for line in held)
    entries = [(AccountKey(IN_FLIGHT, payout.host, payout.currency), -payout.total),
               (AccountKey(DUE_TO, payout.host, payout.currency), payout.total - sum(escrowed.values()) - waiting),
               (AccountKey(AWAITING_PEER, payout.host, payout.currency), waiting)]
    entries += [(AccountKey(ESCROW, owner, payout.currency), amount) for owner, amount in escrowed.items()]
    return [(key, amount) for key, amount in entries if amount]
