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

from server.mail import alerts as mail_alerts
from server.mail import notices as mail_notices
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


Handler = Callable[[AsyncSession, dict[str, Any], datetime], Awaitable[str]]


async def apply(session: AsyncSession, event: Any, now: datetime) -> str:
    """Apply `event` once; what it did, as one of APPLIED, ALREADY_APPLIED, IGNORED."""
    handler = HANDLERS.get(event.type)
    if handler is None:
        return IGNORED
    if not await provider_events.first_time(session, provider=NAME, event_id=event.id, type_=event.type, now=now):
        return ALREADY_APPLIED
    return await handler(session, event.data.object.to_dict(), now)


async def _succeeded(session: AsyncSession, intent: dict[str, Any], now: datetime) -> str:
    """Credit the top-up; a second payment for a top-up already paid (two cards, one click each) is a top-up too."""
    intent_id = _text(intent, "id")
    topup = await _topup_of(session, intent_id, intent.get("metadata"))
    if topup is None:
        return IGNORED
    received = _money(intent.get("amount"), intent.get("currency"))
    if received != Money(topup.amount, topup.currency):
        raise Mismatch(f"PaymentIntent {intent_id} is for {received.amount} {received.currency}, "
                       f"top-up {topup.public_id} for {topup.amount} {topup.currency}")
    if topup.state == topups.CONFIRMED and topup.reference != intent_id:
        topup = await topups.start(session, username=topup.username, provider=NAME, money=received,
                                   reference=intent_id, now=now)
    await topups.set_reference(session, topup, intent_id)
    if await topups.confirm(session, topup, now):
        await mail_notices.topup_confirmed(session, topup, now)
    return APPLIED


async def _failed(session: AsyncSession, intent: dict[str, Any], now: datetime) -> str:
    intent_id = _text(intent, "id")
    topup = await _topup_of(session, intent_id, intent.get("metadata"))
    if topup is None or topup.reference not in (None, intent_id):
        return IGNORED
    error = intent.get("last_payment_error")
    message = error.get("message") if isinstance(error, dict) else None
    await topups.set_reference(session, topup, intent_id)
    await topups.fail(session, topup, message if isinstance(message, str) and message else "The payment failed.")
    return APPLIED


async def _dispute_created(session: AsyncSession, dispute: dict[str, Any], now: datetime) -> str:
    dispute_id = _text(dispute, "id")
    topup = await topups.by_reference(session, NAME, _text(dispute, "payment_intent"))
    if topup is None:
        return IGNORED
    if topup.state != topups.CONFIRMED:
        raise TooEarly(f"dispute {dispute_id} on a payment whose success has not arrived yet")
    reason = dispute.get("reason")
    opened = await disputes.open_dispute(session, topup, provider_reference=dispute_id,
                                         money=_money(dispute.get("amount"), dispute.get("currency")),
                                         reason=reason if isinstance(reason, str) else "", now=now)
    if opened is not None:
        await mail_alerts.dispute_opened(session, opened, reason if isinstance(reason, str) else "", now)
    return APPLIED


async def _dispute_closed(session: AsyncSession, dispute: dict[str, Any], now: datetime) -> str:
    dispute_id = _text(dispute, "id")
    found = await disputes.by_reference(session, NAME, dispute_id)
    if found is None:
        if await topups.by_reference(session, NAME, _text(dispute, "payment_intent")) is None:
            return IGNORED
        raise TooEarly(f"dispute {dispute_id} closed before its opening arrived")
    await disputes.close(session, found, won=dispute.get("status") == "won", now=now)
    return APPLIED


async def _topup_of(session: AsyncSession, intent_id: str, metadata: object) -> TopUp | None:
    """Ours by its PaymentIntent, or by the top-up its metadata names (a PaymentIntent whose id we never stored)."""
    found = await topups.by_reference(session, NAME, intent_id)
    if found is not None:
        return found
    public_id = metadata.get("topup") if isinstance(metadata, dict) else None
    topup = await topups.by_public_id(session, public_id) if isinstance(public_id, str) else None
    return topup if topup is not None and topup.provider == NAME else None


def _text(found: dict[str, Any], name: str) -> str:
    """An id the event must carry; an event without it is not one we can match to anything."""
    value = found.get(name)
    if not isinstance(value, str) or not value or len(value) > 255:
        raise Mismatch(f"the event's object has no usable {name!r}")
    return value


def _money(amount: Any, currency: Any) -> Money:
    if not isinstance(amount, int) or isinstance(amount, bool) or not isinstance(currency, str):
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
