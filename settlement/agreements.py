"""Agreements with other Mecene instances, per peer host and currency, moved along `AGREEMENT_STATES`.

Every change is one conditional UPDATE on the state it leaves, in the
caller's transaction: whoever moves a row first wins, and an answer that comes
late, twice or for another agreement finds nothing to move and changes
nothing. At most one agreement per (peer, currency) is unfinished, which a
partial unique index holds even against two writers at once. Ending one stops
new payouts under it; what either side owes stays in the ledger until cleared.
"""

from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from common.sql import insert_ignoring_duplicates, rowcount
from common.states import Move
from settlement.agreement_terms import PaymentDetails, Terms
from settlement.models import AGREEMENT_STATES, OPEN_AGREEMENT_STATES, Agreement

PROPOSED = AGREEMENT_STATES.birth("proposed")
OFFERED = AGREEMENT_STATES.birth("offered")
WE_ACCEPT = AGREEMENT_STATES.move("offered", "in_force")
THEY_ACCEPT = AGREEMENT_STATES.move("proposed", "in_force")
WE_DECLINE = AGREEMENT_STATES.move("offered", "declined")
THEY_DECLINE = AGREEMENT_STATES.move("proposed", "declined")
LEFT = AGREEMENT_STATES.move("in_force", "ended")
ENDED = LEFT.target
IN_FORCE = LEFT.source
#: Our operator's end, by the state it finds: a proposal is withdrawn, an agreement in force ended.
OUR_ENDS = {move.source: move for move in (AGREEMENT_STATES.move("proposed", "withdrawn"), LEFT)}
#: The peer's Leave, by the state it finds; an Offer it took back, or an agreement it left, perhaps
#: before its Accept reached us.
THEIR_ENDS = {move.source: move for move in (AGREEMENT_STATES.move("offered", "withdrawn"),
                                             AGREEMENT_STATES.move("proposed", "ended"), LEFT)}
#: What a Reject says when an operator declined, rather than the Offer being unreadable.
DECLINED_BY_OPERATOR = "declined"


async def listed(session: AsyncSession) -> list[Agreement]:
    """Every agreement, by peer and currency, the newest first within each."""
    return list(await session.scalars(select(Agreement).order_by(
        Agreement.peer_host, Agreement.currency, Agreement.id.desc())))


async def open_agreement(session: AsyncSession, host: str, currency: str) -> Agreement | None:
    return await session.scalar(select(Agreement).where(
        Agreement.peer_host == host, Agreement.currency == currency, Agreement.state.in_(OPEN_AGREEMENT_STATES)))


async def in_force(session: AsyncSession, host: str, currency: str) -> bool:
    """Whether `host` and we agreed to owe each other in `currency`: the only peer a Payout may come from or go to."""
    return await session.scalar(select(Agreement.id).where(
        Agreement.peer_host == host, Agreement.currency == currency, Agreement.state == IN_FORCE)) is not None


async def locked_in_force(session: AsyncSession, host: str, currency: str) -> Agreement | None:
    """The agreement in force with `host` in `currency`, its row locked until the caller's transaction ends.

    Whatever reads and then moves what `host` owes us (a payout received
    within the credit limit, a clearing booked) holds this lock, so two
    processes cannot both spend the same room. SQLite has one writer at a time anyway.
    """
    return await session.scalar(select(Agreement).where(
        Agreement.peer_host == host, Agreement.currency == currency, Agreement.state == IN_FORCE).with_for_update())


async def hosts_in_force(session: AsyncSession, currency: str) -> set[str]:
    """Every peer with an agreement in force in `currency`: read once before a close classifies its authors."""
    return set(await session.scalars(select(Agreement.peer_host).where(
        Agreement.currency == currency, Agreement.state == IN_FORCE)))


async def by_uri(session: AsyncSession, uri: str, host: str) -> Agreement | None:
    return await session.scalar(select(Agreement).where(Agreement.uri == uri, Agreement.peer_host == host))


def our_payment(agreement: Agreement) -> PaymentDetails | None:
    """Where we want to be paid under `agreement`; None until we said (an Offer our operator has not answered)."""
    return _payment(agreement.iban, agreement.account_holder, agreement.instructions)


def peer_payment(agreement: Agreement) -> PaymentDetails | None:
    """Where the peer wants to be paid, as it told us; None until it said (a proposal of ours not answered)."""
    return _payment(agreement.peer_iban, agreement.peer_account_holder, agreement.peer_instructions)


async def propose(session: AsyncSession, *, uri: str, host: str, ours: Terms, offer_id: str, now: datetime) -> bool:
    """Our Offer to `host`; False when an agreement with it in that currency is not finished yet."""
    return await insert_ignoring_duplicates(session, Agreement.__table__, {
        "uri": uri, "peer_host": host, "currency": ours.credit_limit.currency, "state": PROPOSED,
        "proposed_by_us": True, **_ours(ours), "offer_activity_id": offer_id, "created_at": now})


async def receive_offer(session: AsyncSession, *, uri: str, host: str, theirs: Terms, offer_id: str,
                        now: datetime) -> bool:
    """The peer's Offer, waiting for our operator; False when one is not finished yet, or this one is known."""
    return await insert_ignoring_duplicates(session, Agreement.__table__, {
        "uri": uri, "peer_host": host, "currency": theirs.credit_limit.currency, "state": OFFERED,
        "proposed_by_us": False, **_theirs(theirs), "offer_activity_id": offer_id, "created_at": now})


async def accept(session: AsyncSession, agreement: Agreement, ours: Terms, answer_id: str,
                 now: datetime) -> Agreement | None:
    """Our operator's yes to the peer's Offer, with our terms; None when it is no longer waiting for one."""
    return await _move(session, agreement, WE_ACCEPT, **_ours(ours), answer_activity_id=answer_id, answered_at=now)


async def accepted(session: AsyncSession, *, host: str, offer_id: str, uri: str, theirs: Terms, answer_id: str,
                   now: datetime) -> Agreement | None:
    """The peer's yes to our Offer, naming the agreement and the currency we proposed."""
    agreement = await session.scalar(select(Agreement).where(
        _ours_offered(host, offer_id), Agreement.uri == uri, Agreement.currency == theirs.credit_limit.currency))
    return await _move(session, agreement, THEY_ACCEPT, **_theirs(theirs), answer_activity_id=answer_id,
                       answered_at=now)


async def decline(session: AsyncSession, agreement: Agreement, answer_id: str, now: datetime) -> Agreement | None:
    return await _move(session, agreement, WE_DECLINE, reason=DECLINED_BY_OPERATOR, answer_activity_id=answer_id,
                       answered_at=now)


async def declined(session: AsyncSession, *, host: str, offer_id: str, reason: str | None, answer_id: str,
                   now: datetime) -> Agreement | None:
    agreement = await session.scalar(select(Agreement).where(_ours_offered(host, offer_id)))
    return await _move(session, agreement, THEY_DECLINE, reason=reason, answer_activity_id=answer_id,
                       answered_at=now)


async def end(session: AsyncSession, agreement: Agreement, end_id: str, now: datetime) -> Agreement | None:
    """Our operator leaves: a proposal withdrawn, an agreement in force ended; None when neither is waiting."""
    return await _move(session, agreement, OUR_ENDS.get(agreement.state), end_activity_id=end_id, ended_by_us=True,
                       ended_at=now)


async def left(session: AsyncSession, *, host: str, uri: str, end_id: str, now: datetime) -> Agreement | None:
    """The peer leaves the agreement `uri`, of either side's proposing; None when it had nothing to end."""
    agreement = await by_uri(session, uri, host)
    move = None if agreement is None else THEIR_ENDS.get(agreement.state)
    return await _move(session, agreement, move, end_activity_id=end_id, ended_by_us=False, ended_at=now)


async def _move(session: AsyncSession, agreement: Agreement | None, move: Move | None,
                **values: object) -> Agreement | None:
    """Make `move` if the row is still in its source state: the row as it is now, or None when it was not."""
    if agreement is None or move is None:
        return None
    result = await session.execute(update(Agreement).where(Agreement.id == agreement.id, Agreement.state == move.source)
                                   .values(state=move.target, **values).execution_options(synchronize_session=False))
    if not rowcount(result):
        return None
    await session.refresh(agreement)
    return agreement


def _ours_offered(host: str, offer_id: str) -> ColumnElement[bool]:
    """Our Offer to `host`: an answer from any other host names nothing of ours."""
    return and_(Agreement.offer_activity_id == offer_id, Agreement.peer_host == host,
                Agreement.proposed_by_us.is_(True))


def _payment(iban: str | None, account_holder: str | None, instructions: str | None) -> PaymentDetails | None:
    return None if iban is None and instructions is None else PaymentDetails(iban, account_holder, instructions)


def _ours(terms: Terms) -> dict[str, Any]:
    payment = terms.payment
    return {"credit_limit": terms.credit_limit.amount, "iban": payment.iban, "account_holder": payment.account_holder,
            "instructions": payment.instructions}


def _theirs(terms: Terms) -> dict[str, Any]:
    return {f"peer_{name}": value for name, value in _ours(terms).items()}
