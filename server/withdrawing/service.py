"""Payout details, withdrawals, batches and moving earnings to the wallet: one place for pages, API and CLI.

Changing payout details asks for the account's password again (the pages and
the API check it before calling here): the caller passes `password_ok`.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from config.settings import PaymentSettings
from server.i18n.current import N_
from server.mail import notices as mail_notices
from server.refusal import Kind, Refusal
from server.storable import is_storable
from settlement import payout_details, withdrawals
from settlement.agreement_terms import TermsError, payment_details
from settlement.models import PayoutDetails, Withdrawal, WithdrawalBatch
from settlement.money import Money, MoneyError, parse_amount
from settlement.withdrawals import WithdrawalError

_CONFLICTS = {"more_than_available", "details_cooling_off", "nothing_to_batch"}


def amount(typed: str, currency: str) -> Money:
    try:
        return parse_amount(typed, currency)
    except MoneyError as refused:
        raise Refusal.of(refused) from refused


async def save_details(session: AsyncSession, settings: PaymentSettings, username: str, *, password_ok: bool,
                       iban: str, account_holder: str, instructions: str, now: datetime) -> PayoutDetails:
    """New details in force at once, withdrawals held for the cooling-off time."""
    if not password_ok:
        raise Refusal(Kind.FORBIDDEN, "wrong_password", N_("That is not your password: your payout details are "
                                                           "unchanged."))
    try:
        details = payment_details(iban=iban, account_holder=account_holder, instructions=instructions)
    except TermsError as refused:
        raise Refusal.of(refused) from refused
    saved = await payout_details.save(session, username, details, now=now,
                                      cooling_off=timedelta(hours=settings.payout_cooling_off_hours))
    await mail_notices.payout_details_changed(session, username, saved.held_until, now)
    return saved


async def request(session: AsyncSession, settings: PaymentSettings, currency: str, username: str, money: Money,
                  now: datetime) -> Withdrawal:
    """`currency` is the instance's, in which `payments.minimum_withdrawal` is counted."""
    minimum = parse_amount(settings.minimum_withdrawal, currency)
    with _refusals():
        return await withdrawals.request(session, username, money, minimum=minimum, now=now)


async def own(session: AsyncSession, username: str, public_id: str) -> Withdrawal:
    row = await _withdrawal(session, public_id)
    if row is None or row.username != username:
        raise Refusal(Kind.NOT_FOUND, "not_found", N_("There is no such withdrawal of yours."))
    return row


async def cancel(session: AsyncSession, username: str, public_id: str, now: datetime) -> Withdrawal:
    row = await own(session, username, public_id)
    if not await withdrawals.cancel(session, row, now):
        raise Refusal(Kind.CONFLICT, "not_cancelable", N_("This withdrawal is %(state)s: only one still waiting for "
                                                          "the operator's batch can be canceled."),
                                                       {"state": row.state})
    return row


async def batch(session: AsyncSession, currency: str, chosen: list[str] | None, now: datetime) -> WithdrawalBatch:
    with _refusals():
        return await withdrawals.batch(session, currency, chosen, now)


async def the_batch(session: AsyncSession, public_id: str) -> WithdrawalBatch:
    found = await withdrawals.batch_by_public_id(session, public_id) if is_storable(public_id) else None
    if found is None:
        raise Refusal(Kind.NOT_FOUND, "not_found", N_("No batch %(public_id)s."), {"public_id": repr(public_id)})
    return found


async def executed(session: AsyncSession, public_id: str, now: datetime) -> WithdrawalBatch:
    """Marked once; marking it again says so and moves nothing."""
    found = await the_batch(session, public_id)
    if not await withdrawals.executed(session, found, now):
        raise Refusal(Kind.CONFLICT, "already_executed", N_("Batch %(public_id)s was marked executed already."),
                                                         {"public_id": public_id})
    for line in await withdrawals.lines(session, found):
        if line.state == withdrawals.PAY.target:
            await mail_notices.withdrawal_paid(session, line, now)
    return found


async def return_line(session: AsyncSession, public_id: str, reason: str, now: datetime) -> Withdrawal:
    row = await _withdrawal(session, public_id)
    if row is None:
        raise Refusal(Kind.NOT_FOUND, "not_found", N_("No withdrawal %(public_id)s."),
                                                   {"public_id": repr(public_id)})
    with _refusals():
        moved = await withdrawals.returned(session, row, reason, now)
    if not moved:
        raise Refusal(Kind.CONFLICT, "not_returnable", N_("Withdrawal %(public_id)s is %(state)s: only a batched or "
                                                          "paid line can come back."),
                                                       {"public_id": public_id, "state": row.state})
    await mail_notices.withdrawal_returned(session, row, reason, now)
    return row


async def to_wallet(session: AsyncSession, username: str, money: Money, key: str, now: datetime) -> bool:
    with _refusals():
        return await withdrawals.to_wallet(session, username, money, key, now)


async def _withdrawal(session: AsyncSession, public_id: str) -> Withdrawal | None:
    """None for an id no row can have, such as one with a NUL from a URL path, which PostgreSQL cannot even read."""
    return await withdrawals.by_public_id(session, public_id) if is_storable(public_id) else None


@contextmanager
def _refusals() -> Iterator[None]:
    """Settlement's refusals, as the edges speak them."""
    try:
        yield
    except WithdrawalError as error:
        status = Kind.CONFLICT if error.code in _CONFLICTS else Kind.INVALID
        raise Refusal.of(error, status) from error
