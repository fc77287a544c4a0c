"""Clearing: two instances turn what their accepted payouts say they owe each other into real money.

Per peer and currency, each side's ledger holds the gross IOUs both ways
(`due_to:{host}`, `due_from:{host}`). The debtor's operator pays the net by
an ordinary bank transfer and records it (`record_paid`): a clearing of
`amount` in cash that also cancels `netted`, the smaller of the two IOUs,
which the debtor's books name. The creditor's operator confirms receipt
(`confirm`) when its own books can hold it, or disputes it. On confirmation
each side books, in one transaction keyed by the clearing's id:

    debtor:   due_to −(amount + netted), due_from +netted, cleared_out +amount
    creditor: due_from +(amount + netted), due_to −netted, cleared_in −amount

and releases pending money its creators received from the other by Payout,
the oldest credits first: the creditor `amount + netted`, the debtor
`netted`. Shares the peer refused for its credit limit may then leave again
(`settlement.held_shares`). One clearing per peer and currency is unfinished
at a time (a partial unique index), so each is checked against books that no
other clearing is about to move; every move is a conditional UPDATE on the
state it leaves, so an answer that comes late or twice changes nothing.
"""

from collections import defaultdict
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from common.sql import insert_ignoring_duplicates, move_state, rowcount
from common.states import Move
from settlement import held_shares, ledger, positions
from settlement.accounts import CLEARED_IN, CLEARED_OUT, CREATOR, DUE_FROM, DUE_TO, PENDING
from settlement.explained import Explained
from settlement.ledger import AccountKey
from settlement.models import CLEARING_STATES, OPEN_CLEARING_STATES, Agreement, Clearing, PendingCredit
from settlement.money import Money, format_amount

PAID = CLEARING_STATES.birth("paid")
NOTIFIED = CLEARING_STATES.birth("notified")
WE_CONFIRM = CLEARING_STATES.move("notified", "confirmed")
THEY_CONFIRM = CLEARING_STATES.move("paid", "confirmed")
WE_DISPUTE = CLEARING_STATES.move("notified", "disputed")
THEY_DISPUTE = CLEARING_STATES.move("paid", "disputed")
RESENT = CLEARING_STATES.move("paid", "paid")
CONFIRMED = WE_CONFIRM.target
DISPUTED = WE_DISPUTE.target

#: Why a clearing is refused or disputed.
NO_AGREEMENT = "no_agreement"
CLEARING_OPEN = "clearing_open"
MORE_THAN_OWED = "more_than_owed"
NOT_RECEIVED = "not_received"


class ClearingError(Explained):
    """A clearing that cannot be recorded or confirmed; `code` names why, for a Reject or an operator."""


async def open_clearing(session: AsyncSession, host: str, currency: str) -> Clearing | None:
    return await session.scalar(select(Clearing).where(
        Clearing.peer_host == host, Clearing.currency == currency, Clearing.state.in_(OPEN_CLEARING_STATES)))


async def listed(session: AsyncSession) -> list[Clearing]:
    """Every clearing, the newest first."""
    return list(await session.scalars(select(Clearing).order_by(Clearing.id.desc())))


async def by_uri(session: AsyncSession, uri: str, host: str) -> Clearing | None:
    return await session.scalar(select(Clearing).where(Clearing.uri == uri, Clearing.peer_host == host))


async def count_with(session: AsyncSession, host: str, currency: str) -> int:
    """How many clearings with `host` in `currency` were ever recorded: numbers the next one's reference."""
    return int(await session.scalar(select(func.count(Clearing.id)).where(
        Clearing.peer_host == host, Clearing.currency == currency)) or 0)


async def record_paid(session: AsyncSession, *, uri: str, host: str, currency: str, amount: int, reference: str,
                      now: datetime) -> Clearing:
    """Our operator paid `host` `amount` by bank: the clearing, waiting for its confirmation; ClearingError if not.

    We must owe `host` at least `amount` net, under an agreement made once
    (in force or ended: what is owed stays owed until cleared).
    """
    await _require_agreement(session, host, currency)
    found = await positions.position(session, host, currency)
    if amount <= 0 or amount > -found.net:
        owed = _text(max(-found.net, 0), currency)
        raise ClearingError(MORE_THAN_OWED, "We owe %(host)s %(owed)s net: a transfer of %(amount)s is not what we "
                                            "owe (see `mecene clearing list`).",
                            {"host": host, "owed": owed, "amount": _text(amount, currency)})
    await _insert(session, {"uri": uri, "peer_host": host, "currency": currency, "we_paid": True, "amount": amount,
                            "netted": found.netted, "reference": reference, "state": PAID, "created_at": now,
                            "sent_at": now})
    clearing = await by_uri(session, uri, host)
    assert clearing is not None
    return clearing


async def receive_notice(session: AsyncSession, *, uri: str, host: str, currency: str, amount: int, netted: int,
                         reference: str, now: datetime) -> Clearing:
    """`host` says it paid us: the clearing, waiting for our operator; the known one for a repeated notice.

    ClearingError when we have no agreement with it in that currency, or
    another clearing with it is not finished.
    """
    known = await by_uri(session, uri, host)
    if known is not None:
        return known
    await _require_agreement(session, host, currency)
    await _insert(session, {"uri": uri, "peer_host": host, "currency": currency, "we_paid": False,
                            "amount": amount, "netted": netted, "reference": reference, "state": NOTIFIED,
                            "created_at": now})
    clearing = await by_uri(session, uri, host)
    assert clearing is not None
    return clearing


async def confirm(session: AsyncSession, clearing: Clearing, answer_id: str, now: datetime) -> Clearing | None:
    """Our operator received the money: booked and pending money released; None when it was not waiting.

    ClearingError (`MORE_THAN_OWED`) when our books say the peer owes us less
    than the notice clears: the operator should dispute it instead.
    """
    found = await positions.position(session, clearing.peer_host, clearing.currency)
    if found.owed_by < clearing.amount + clearing.netted or found.owed_to < clearing.netted:
        raise ClearingError(MORE_THAN_OWED, "%(host)s owes us %(owed_by)s and we owe it %(owed_to)s by our books: "
                                            "the notice clears more. Wait for payouts still being answered, or "
                                            "dispute it.",
                            {"host": clearing.peer_host, "owed_by": _text(found.owed_by, clearing.currency),
                             "owed_to": _text(found.owed_to, clearing.currency)})
    moved = await _move(session, clearing, WE_CONFIRM, answer_activity_id=answer_id, answered_at=now)
    if moved is not None:
        await _book(session, moved, now)
    return moved


async def dispute(session: AsyncSession, clearing: Clearing, reason: str, answer_id: str,
                  now: datetime) -> Clearing | None:
    return await _move(session, clearing, WE_DISPUTE, reason=reason, answer_activity_id=answer_id, answered_at=now)


async def confirmed(session: AsyncSession, *, host: str, uri: str, answer_id: str, now: datetime) -> Clearing | None:
    """`host` confirmed our payment: booked here too; None when it names nothing of ours waiting."""
    moved = await _move(session, await _ours(session, host, uri), THEY_CONFIRM, answer_activity_id=answer_id,
                        answered_at=now)
    if moved is not None:
        await _book(session, moved, now)
    return moved


async def disputed(session: AsyncSession, *, host: str, uri: str, reason: str | None, answer_id: str,
                   now: datetime) -> Clearing | None:
    return await _move(session, await _ours(session, host, uri), THEY_DISPUTE, reason=reason,
                       answer_activity_id=answer_id, answered_at=now)


async def unanswered(session: AsyncSession, *, sent_before: datetime) -> list[Clearing]:
    """Our notices queued before `sent_before` and still not answered: the answer may have been lost."""
    return list(await session.scalars(select(Clearing).where(
        Clearing.state == RESENT.source, Clearing.we_paid.is_(True),
        func.coalesce(Clearing.sent_at, Clearing.created_at) < sent_before).order_by(Clearing.id)))


async def mark_resent(session: AsyncSession, clearing: Clearing, now: datetime) -> bool:
    """True for the caller that moved its `sent_at`: only that one sends the notice again."""
    result = await session.execute(update(Clearing).where(
        Clearing.id == clearing.id, Clearing.state == RESENT.source,
        Clearing.sent_at.is_not_distinct_from(clearing.sent_at)).values(sent_at=now))
    return bool(rowcount(result))


def _text(amount: int, currency: str) -> str:
    return f"{format_amount(Money(amount, currency))} {currency}"


async def _require_agreement(session: AsyncSession, host: str, currency: str) -> None:
    made = await session.scalar(select(Agreement.id).where(
        Agreement.peer_host == host, Agreement.currency == currency, Agreement.answered_at.is_not(None),
        Agreement.state.in_(("in_force", "ended"))))
    if made is None:
        raise ClearingError(NO_AGREEMENT, "No agreement with %(host)s in %(currency)s was ever in force.",
                            {"host": host, "currency": currency})


async def _insert(session: AsyncSession, values: dict[str, object]) -> None:
    if not await insert_ignoring_duplicates(session, Clearing.__table__, values):
        raise ClearingError(CLEARING_OPEN, "A clearing with %(host)s in %(currency)s is not finished yet.",
                            {"host": str(values["peer_host"]), "currency": str(values["currency"])})


async def _ours(session: AsyncSession, host: str, uri: str) -> Clearing | None:
    return await session.scalar(select(Clearing).where(
        Clearing.uri == uri, Clearing.peer_host == host, Clearing.we_paid.is_(True)))


async def _move(session: AsyncSession, clearing: Clearing | None, move: Move,
                **values: object) -> Clearing | None:
    if clearing is None:
        return None
    if not await move_state(session, clearing, move, **values):
        return None
    return clearing


async def _book(session: AsyncSession, clearing: Clearing, now: datetime) -> None:
    """Both IOUs down, the cash into or out of cleared money, and pending money released, in one transaction."""
    host, currency, cash, netted = clearing.peer_host, clearing.currency, clearing.amount, clearing.netted
    if clearing.we_paid:
        lines = [(AccountKey(DUE_TO, host, currency), -(cash + netted)), (AccountKey(DUE_FROM, host, currency), netted),
                 (AccountKey(CLEARED_OUT, host, currency), cash)]
        released = await _release_pending(session, host, currency, netted)
    else:
        lines = [(AccountKey(DUE_FROM, host, currency), cash + netted), (AccountKey(DUE_TO, host, currency), -netted),
                 (AccountKey(CLEARED_IN, host, currency), -cash)]
        released = await _release_pending(session, host, currency, cash + netted)
    lines += released
    await ledger.post(session, kind="clearing", idempotency_key=f"clearing:{clearing.uri}",
                      lines=[(key, amount) for key, amount in lines if amount], now=now,
                      memo=f"clearing {clearing.reference} with {host}"[:500])
    await held_shares.release(session, host=host, currency=currency)


async def _release_pending(session: AsyncSession, host: str, currency: str,
                           amount: int) -> list[tuple[AccountKey, int]]:
    """Up to `amount` of what `host` paid our creators becomes available, the oldest credits first."""
    released: defaultdict[str, int] = defaultdict(int)
    credits = await session.scalars(select(PendingCredit).where(
        PendingCredit.source_host == host, PendingCredit.currency == currency,
        PendingCredit.released < PendingCredit.amount).order_by(PendingCredit.id).with_for_update())
    for credit in credits:
        if amount <= 0:
            break
        taken = min(amount, credit.amount - credit.released)
        credit.released += taken
        released[credit.creator] += taken
        amount -= taken
    await session.flush()
    lines = []
    for creator, total in released.items():
        lines += [(AccountKey(PENDING, creator, currency), -total), (AccountKey(CREATOR, creator, currency), total)]
    return lines
