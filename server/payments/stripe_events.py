"""What each Stripe webhook event does to the books, applied once per event id, in any order.

The caller has verified the signature and the mode; here the event is
matched to our top-up (by the PaymentIntent, or the top-up named in its
metadata) and applied in the caller's transaction, together with the row that
remembers the event. An event that comes too early (a dispute about a payment
whose success has not arrived yet, the close of a dispute never opened here)
raises `TooEarly`: the caller answers 409, nothing is remembered, and Stripe
delivers it again later, by which time the earlier event has arrived. An event
about a payment we never started is acknowledged and changes nothing.
"""

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from server.payments.stripe_gateway import NAME
from settlement import disputes, provider_events, topups
from settlement.models import TopUp
from settlement.money import Money, MoneyError

#: Outcomes, as the webhook's answer says them.
APPLIED = "applied"
ALREADY_APPLIED = "already_applied"
IGNORED = "ignored"


class TooEarly(Exception):
    """The event depends on one that has not arrived yet; Stripe retries a 409."""


class Mismatch(Exception):
    """The event contradicts our record (another amount or currency): nothing is credited, the operator must look."""


Handler = Callable[[AsyncSession, Any, datetime], Awaitable[str]]


async def apply(session: AsyncSession, event: Any, now: datetime) -> str:
    """Apply `event` once; what it did, as one of APPLIED, ALREADY_APPLIED, IGNORED."""
    handler = HANDLERS.get(event.type)
    if handler is None:
        return IGNORED
    if not await provider_events.first_time(session, provider=NAME, event_id=event.id, type_=event.type, now=now):
        return ALREADY_APPLIED
    return await handler(session, event.data.object, now)


async def _succeeded(session: AsyncSession, intent: Any, now: datetime) -> str:
    """Credit the top-up; a second payment for a top-up already paid (two cards, one click each) is a top-up too."""
    topup = await _topup_of(session, intent.id, intent.metadata)
    if topup is None:
        return IGNORED
    received = _money(intent.amount, intent.currency)
    if received != Money(topup.amount, topup.currency):
        raise Mismatch(f"PaymentIntent {intent.id} is for {received.amount} {received.currency}, "
                       f"top-up {topup.public_id} for {topup.amount} {topup.currency}")
    if topup.state == topups.CONFIRMED and topup.reference != intent.id:
        topup = await topups.start(session, username=topup.username, provider=NAME, money=received,
                                   reference=intent.id, now=now)
    await topups.set_reference(session, topup, intent.id)
    await topups.confirm(session, topup, now)
    return APPLIED


async def _failed(session: AsyncSession, intent: Any, now: datetime) -> str:
    topup = await _topup_of(session, intent.id, intent.metadata)
    if topup is None or topup.reference not in (None, intent.id):
        return IGNORED
    error = intent.last_payment_error
    await topups.set_reference(session, topup, intent.id)
    await topups.fail(session, topup, (error.message if error is not None else None) or "The payment failed.")
    return APPLIED


async def _dispute_created(session: AsyncSession, dispute: Any, now: datetime) -> str:
    topup = await topups.by_reference(session, NAME, dispute.payment_intent or "")
    if topup is None:
        return IGNORED
    if topup.state != topups.CONFIRMED:
        raise TooEarly(f"dispute {dispute.id} on a payment whose success has not arrived yet")
    await disputes.open_dispute(session, topup, provider_reference=dispute.id,
                                money=_money(dispute.amount, dispute.currency), reason=dispute.reason or "", now=now)
    return APPLIED


async def _dispute_closed(session: AsyncSession, dispute: Any, now: datetime) -> str:
    found = await disputes.by_reference(session, NAME, dispute.id)
    if found is None:
        if await topups.by_reference(session, NAME, dispute.payment_intent or "") is None:
            return IGNORED
        raise TooEarly(f"dispute {dispute.id} closed before its opening arrived")
    await disputes.close(session, found, won=dispute.status == "won", now=now)
    return APPLIED


async def _topup_of(session: AsyncSession, intent_id: str, metadata: Any) -> TopUp | None:
    """Ours by its PaymentIntent, or by the top-up its metadata names (a PaymentIntent whose id we never stored)."""
    found = await topups.by_reference(session, NAME, intent_id)
    if found is not None:
        return found
    public_id = (metadata or {}).get("topup")
    topup = await topups.by_public_id(session, public_id) if isinstance(public_id, str) else None
    return topup if topup is not None and topup.provider == NAME else None


def _money(amount: Any, currency: Any) -> Money:
    if not isinstance(amount, int) or not isinstance(currency, str):
        raise Mismatch(f"an amount of {amount!r} {currency!r}")
    try:
        return Money(amount, currency.upper())
    except MoneyError as error:
        raise Mismatch(str(error)) from error


HANDLERS: dict[str, Handler] = {
    "payment_intent.succeeded": _succeeded,
    "payment_intent.payment_failed": _failed,
    "charge.dispute.created": _dispute_created,
    "charge.dispute.closed": _dispute_closed,
}
