"""Adding money, asking for it back and refunding it: one place for the pages, the API and the CLI.

Every refusal is a `Refusal` with a stable code, raised before anything is
written, so a bad amount, a provider the operator did not enable or a
reference nobody issued changes nothing wherever it was typed.
"""

from collections.abc import Callable
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from server.i18n.current import N_
from server.mail import notices as mail_notices
from server.payments import bank_transfers, stripe_gateway
from server.payments.providers import Payments
from server.payments.stripe_gateway import CardOutcome, StripeRefused, StripeUnavailable
from server.refusal import Kind, Refusal
from settlement import refunds, topups
from settlement.models import Refund, RefundRequest, TopUp
from settlement.money import Money, MoneyError, format_amount, parse_amount
from settlement.refunds import RefundError

Sessions = async_sessionmaker[AsyncSession]


def minimum(payments: Payments, currency: str) -> Money:
    return parse_amount(payments.settings.minimum_topup, currency)


def topup_amount(payments: Payments, typed: str, currency: str) -> Money:
    """The amount a donor typed, in the instance's currency and no less than the operator's minimum."""
    try:
        money = parse_amount(typed, currency)
    except MoneyError as refused:
        raise Refusal.of(refused) from refused
    return at_least_minimum(payments, money)


def at_least_minimum(payments: Payments, money: Money) -> Money:
    least = minimum(payments, money.currency)
    if money.amount < least.amount:
        raise Refusal(Kind.INVALID, "below_minimum",
                      N_("The smallest top-up is %(least)s %(currency)s: fees would eat a smaller one."),
                      {"least": format_amount(least), "currency": money.currency})
    return money


async def start(session: AsyncSession, payments: Payments, *, username: str, provider: str, money: Money,
                now: datetime) -> TopUp:
    """A top-up awaiting its payment: by card (the page then charges it) or by transfer (with its reference)."""
    if provider not in payments.enabled:
        if not payments.enabled:
            raise Refusal(Kind.INVALID, "provider_not_enabled",
                          N_("This instance does not take payments by %(provider)s; it takes: none: ask the operator "
                             "to credit your wallet by hand."), {"provider": repr(provider)})
        raise Refusal(Kind.INVALID, "provider_not_enabled",
                      N_("This instance does not take payments by %(provider)s; it takes: %(offered)s."),
                      {"provider": repr(provider), "offered": ", ".join(payments.enabled)})
    reference = bank_transfers.new_reference() if provider == bank_transfers.NAME else None
    return await topups.start(session, username=username, provider=provider, money=money, reference=reference,
                              now=now)


async def own_topup(session: AsyncSession, username: str, public_id: str) -> TopUp:
    """The donor's own top-up; anyone else's is as unknown as one that does not exist."""
    topup = await topups.by_public_id(session, public_id)
    if topup is None or topup.username != username:
        raise Refusal(Kind.NOT_FOUND, "not_found", N_("There is no such top-up of yours."))
    return topup


async def pay_by_card(sessions: Sessions, payments: Payments, username: str, public_id: str,
                      token: str) -> CardOutcome:
    """Charge the card for the donor's top-up; the wallet is credited later, by Stripe's signed webhook."""
    if payments.stripe is None:
        raise Refusal(Kind.INVALID, "provider_not_enabled", N_("This instance does not take cards."))
    if not token.startswith("tok_") or len(token) > 255:
        raise Refusal(Kind.INVALID, "invalid_token", N_("The card could not be read; reload the page and try again."))
    async with sessions() as session:
        topup = await own_topup(session, username, public_id)
    if topup.provider != stripe_gateway.NAME or topup.state == topups.CONFIRMED:
        raise Refusal(Kind.CONFLICT, "not_payable", N_("This top-up is not waiting for a card payment."))
    if under_way(topup):
        raise Refusal(Kind.CONFLICT, "payment_under_way", UNDER_WAY)
    try:
        outcome = await payments.stripe.charge_card(topup, token)
    except StripeUnavailable as error:
        raise Refusal(Kind.UPSTREAM, "provider_unavailable",
                      N_("The card payment service did not answer (%(error)s); nothing was charged. Try again."),
                      {"error": str(error)}) from error
    async with sessions() as session, session.begin():
        topup = await session.get_one(TopUp, topup.id)
        if outcome.payment_intent:
            await topups.set_reference(session, topup, outcome.payment_intent)
        if outcome.state == stripe_gateway.FAILED:
            await topups.fail(session, topup, outcome.message)
    return outcome


#: Said when a card was charged and its confirmation has not come yet: a second card would be a second payment.
UNDER_WAY = N_("A card payment of this top-up is under way: its confirmation will credit your wallet. If you left "
               "the bank's check unfinished, add money again for a new payment.")


def under_way(topup: TopUp) -> bool:
    """Charged (a PaymentIntent exists) and neither confirmed nor failed: paying again could charge twice."""
    return topup.state == topups.AWAITING and topup.reference is not None


async def ask_refund(session: AsyncSession, username: str, currency: str, note: str, now: datetime) -> RefundRequest:
    try:
        return await refunds.ask(session, username, currency, note, now)
    except RefundError as refused:
        raise Refusal.of(refused, Kind.CONFLICT) from refused


async def refund(sessions: Sessions, payments: Payments, public_id: str, typed: str | None, operator_reference: str,
                 now: Callable[[], datetime]) -> Refund:
    """Refund a top-up, whole (what may still go back) or `typed`; the donor's request, if any, is answered."""
    async with sessions() as session, session.begin():
        topup = await topups.by_public_id(session, public_id)
        if topup is None:
            raise Refusal(Kind.NOT_FOUND, "not_found", N_("No top-up %(public_id)s."), {"public_id": repr(public_id)})
        if topup.provider != stripe_gateway.NAME and not operator_reference.strip():
            raise Refusal(Kind.INVALID, "reference_needed", N_("Pay the refund back by transfer first, then give "
                                                               "that transfer's reference."))
        money = await _refund_amount(session, topup, typed)
        made = await _record(session, topup, money, now())
    return await send_refund(sessions, payments, made, operator_reference.strip(), now)


async def send_refund(sessions: Sessions, payments: Payments, made: Refund, operator_reference: str,
                      now: Callable[[], datetime]) -> Refund:
    """Ask the provider to pay a written refund, with its public id as idempotency key: sent again, paid once."""
    async with sessions() as session:
        topup = await session.get_one(TopUp, made.topup_id)
    money = Money(made.amount, made.currency)
    try:
        reference = await payments.refunder(topup, operator_reference).refund(topup, money, made.public_id)
    except StripeRefused as refused:
        async with sessions() as session, session.begin():
            await refunds.failed(session, made, str(refused), now())
        raise Refusal(Kind.UPSTREAM, "provider_refused",
                      N_("Stripe refused the refund: %(refused)s. The wallet keeps the money."),
                      {"refused": str(refused)}) from refused
    except StripeUnavailable as error:
        raise Refusal(Kind.UPSTREAM, "provider_unavailable", N_("Stripe did not answer (%(error)s); the refund is "
                                                                "written and is sent again by `mecene topups "
                                                                "retry-refunds`."),
                                                             {"error": str(error)}) from error
    async with sessions() as session, session.begin():
        await refunds.made(session, made, reference)
        await mail_notices.refund_made(session, made, topup, now())
        await refunds.answer_request(session, made.username, made.currency, refunded=True,
                                     answer=f"{format_amount(money)} {money.currency} refunded", now=now())
        return await session.get_one(Refund, made.id)


async def _refund_amount(session: AsyncSession, topup: TopUp, typed: str | None) -> Money:
    if typed is None or not typed.strip():
        most = await refunds.refundable(session, topup)
        if not most.amount:
            raise Refusal(Kind.CONFLICT, "nothing_to_refund", N_("Nothing of this top-up can be refunded: it is "
                                                                 "refunded already, spent, or not confirmed."))
        return most
    try:
        return parse_amount(typed, topup.currency)
    except MoneyError as refused:
        raise Refusal.of(refused) from refused


async def _record(session: AsyncSession, topup: TopUp, money: Money, now: datetime) -> Refund:
    try:
        return await refunds.record(session, topup, money, now)
    except RefundError as refused:
        raise Refusal.of(refused, Kind.CONFLICT) from refused


async def receive_transfer(sessions: Sessions, text: str, typed: str, currency: str,
                           now: datetime) -> bank_transfers.Received:
    """The operator saw a transfer arrive: `text` holds its reference (the remittance line), `typed` its amount."""
    try:
        money = parse_amount(typed, currency)
    except MoneyError as refused:
        raise Refusal.of(refused) from refused
    async with sessions() as session, session.begin():
        return await bank_transfers.record(session, text, money, now)


async def import_statement(sessions: Sessions, content: str, currency: str,
                           now: datetime) -> list[tuple[bank_transfers.StatementLine, bank_transfers.Received | None]]:
    """Every credit line of a bank's CSV export recorded, each in its own transaction; what each did."""
    try:
        lines = bank_transfers.read_statement(content, currency)
    except (ValueError, UnicodeError) as unreadable:
        raise Refusal(Kind.INVALID, "unreadable_statement", N_("This file cannot be read: %(unreadable)s."),
                      {"unreadable": str(unreadable)}) from None
    done: list[tuple[bank_transfers.StatementLine, bank_transfers.Received | None]] = []
    for line in lines:
        if line.money is None or line.money.amount <= 0:
            done.append((line, None))
            continue
        async with sessions() as session, session.begin():
            done.append((line, await bank_transfers.record(session, line.text, line.money, now)))
    return done


async def retry_refunds(sessions: Sessions, payments: Payments, now: Callable[[], datetime]) -> list[Refund]:
    """Refunds a stopped process wrote but never sent: asked again, with the same keys, so each pays once."""
    async with sessions() as session:
        waiting = list(await refunds.unsent(session))
    return [await send_refund(sessions, payments, made, "", now) for made in waiting]


async def decline_request(session: AsyncSession, username: str, currency: str, reason: str, now: datetime) -> None:
    if not reason.strip():
        raise Refusal(Kind.INVALID, "reason_needed", N_("Say why the refund is declined: the donor reads it."))
    if not await refunds.answer_request(session, username, currency, refunded=False, answer=reason.strip(), now=now):
        raise Refusal(Kind.NOT_FOUND, "not_found", N_("%(username)s has no refund request waiting in %(currency)s."),
                      {"username": username, "currency": currency})
