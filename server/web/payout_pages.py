"""The creator's money out: what they hold, where they are paid, their withdrawals, and earnings moved to the wallet.

One page, small forms each posting to its own address, as the wallet's are:
a refusal re-renders the page with the message beside its form and changes
nothing; a change answers 303 back with what it did, so a reload never posts
twice. Changing the payout details asks for the password again, so a session
left open somewhere cannot send the money elsewhere (wrong ones count against
the login's limits); the notice that they changed, and until when withdrawals
wait, is the creator's word of it. Money
moves only through `server.withdrawing.service`, which the API uses too.
"""

import secrets
from collections.abc import Sequence
from typing import Any

from aiohttp import web
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from server.appkeys import instance_key, login_limits_key
from server.http_errors import refusal_status
from server.i18n.current import N_
from server.i18n.current import gettext as _
from server.i18n.formatting import amount_text, date_text
from server.models import User
from server.refusal import Kind, Refusal
from server.storable import checked_text
from server.web.client_address import client_address
from server.web.notices import render_with_notice, see_other
from server.web.passwords import verify_password
from server.web.refusals import said
from server.web.rendering import field, page, posted_form, render, signed_in
from server.web.state_words import withdrawal_methods, withdrawal_states
from server.web.typed_amounts import typed_amount
from server.withdrawing import service
from settlement import creator_balances, payout_details, withdrawals
from settlement.agreement_terms import PaymentDetails
from settlement.models import PayoutDetails, Withdrawal, WithdrawalBatch
from settlement.money import Money, parse_amount

#: The longest key of a move to the wallet, as the API takes it.
MAX_MOVE_KEY = 64
#: The password asked again counts against the login's limits: a borrowed session guesses no faster than a login.
TOO_MANY_GUESSES = N_("Too many wrong passwords. Wait a quarter of an hour, then try again.")


@page
async def payouts_page(request: web.Request) -> web.StreamResponse:
    user = await signed_in(request)
    return await render_with_notice(request, "payouts.html", await _context(request, user.username))


async def _context(request: web.Request, username: str, **overrides: Any) -> dict[str, Any]:
    instance = request.app[instance_key]
    currency = instance.settings.instance.currency
    async with instance.sessions() as session:
        balances = await creator_balances.of_creator(session, username)
        details = await payout_details.of(session, username)
        asked = await withdrawals.of_user(session, username)
        batches = await _batch_ids(session, asked)
    return {"balances": balances, "details": details, "paid_to": None if details is None else paid_to(details),
            "held": details is not None and instance.clock() < details.held_until,
            "currencies": sorted({balance.currency for balance in balances} | {currency}),
            "minimum": parse_amount(instance.settings.payments.minimum_withdrawal, currency),
            "withdrawals": asked, "batches": batches, "states": withdrawal_states(), "methods": withdrawal_methods(),
            "requested": withdrawals.REQUESTED,
            "values": _typed(details), "move_key": secrets.token_urlsafe(16), "errors": {}, **overrides}


def paid_to(row: PayoutDetails | Withdrawal) -> str:
    """An IBAN in groups of four with its holder, as a bank statement prints it, or the instructions."""
    return PaymentDetails(iban=row.iban, account_holder=row.account_holder or None,
                          instructions=row.instructions).describe()


def _typed(details: PayoutDetails | None) -> dict[str, str]:
    """The forms' fields as first shown: the details in force, so a change starts from them."""
    if details is None:
        return {}
    return {"iban": details.iban or "", "account_holder": details.account_holder, "instructions":
            details.instructions or ""}


async def _batch_ids(session: AsyncSession, asked: Sequence[Withdrawal]) -> dict[int, str]:
    """The public id of each batch the withdrawals are in, which the operator's bank statement names too."""
    ids = {row.batch_id for row in asked if row.batch_id is not None}
    if not ids:
        return {}
    rows = await session.execute(select(WithdrawalBatch.id, WithdrawalBatch.public_id)
                                 .where(WithdrawalBatch.id.in_(ids)))
    return {batch_id: public_id for batch_id, public_id in rows}


async def _refused(request: web.Request, user: User, form: str, message: str, status: int,
                   **typed: str) -> web.Response:
    context = await _context(request, user.username, errors={form: message})
    context["values"] = {**context["values"], **typed}
    return await render(request, "payouts.html", context, status=status)


@page
async def save_details(request: web.Request) -> web.StreamResponse:
    user = await signed_in(request)
    form = await posted_form(request)
    typed = {name: field(form, name) for name in ("iban", "account_holder", "instructions")}
    instance = request.app[instance_key]
    limits, address, admitted = request.app[login_limits_key], client_address(request), instance.clock()
    if not limits.admit(user.username, address, admitted):
        return await _refused(request, user, "details", _(TOO_MANY_GUESSES), 429, **typed)
    password_ok = await verify_password(user.password_hash, str(form.get("password", "")))
    if password_ok:
        limits.succeeded(user.username, address, admitted)
    try:
        async with instance.sessions() as session, session.begin():
            saved = await service.save_details(session, instance.settings.payments, user.username,
                                               password_ok=password_ok, now=instance.clock(), **typed)
    except Refusal as refused:
        return await _refused(request, user, "details", said(refused), refusal_status(refused), **typed)
    return await see_other(request, "/payouts", _(
        "Your payout details changed. Withdrawals wait until %(day)s %(time)s UTC. If you did not change them, "
        "tell the operator at once.") % {"day": date_text(saved.held_until), "time": f"{saved.held_until:%H:%M}"})


@page
async def ask_withdrawal(request: web.Request) -> web.StreamResponse:
    user = await signed_in(request)
    form = await posted_form(request)
    typed = {"amount": field(form, "amount"), "currency": field(form, "currency").upper()}
    instance = request.app[instance_key]
    try:
        money = typed_amount(typed["amount"], typed["currency"])
        async with instance.sessions() as session, session.begin():
            asked = await service.request(session, instance.settings.payments, instance.settings.instance.currency,
                                          user.username, money, instance.clock())
    except Refusal as refused:
        return await _refused(request, user, "withdrawal", said(refused), refusal_status(refused), **typed)
    return await see_other(request, "/payouts", _(
        "Asked: %(amount)s set aside for the operator's next batch (%(id)s). You may cancel it until then.")
        % {"amount": _money(asked), "id": asked.public_id})


@page
async def cancel_withdrawal(request: web.Request) -> web.StreamResponse:
    user = await signed_in(request)
    await posted_form(request)
    instance = request.app[instance_key]
    try:
        async with instance.sessions() as session, session.begin():
            canceled = await service.cancel(session, user.username, request.match_info["public_id"],
                                            instance.clock())
    except Refusal as refused:
        return await _refused(request, user, "list", said(refused), refusal_status(refused))
    return await see_other(request, "/payouts", _("Canceled %(id)s: %(amount)s is available again.")
                           % {"id": canceled.public_id, "amount": _money(canceled)})


@page
async def move_to_wallet(request: web.Request) -> web.StreamResponse:
    user = await signed_in(request)
    form = await posted_form(request)
    typed = field(form, "move_amount")
    instance = request.app[instance_key]
    try:
        key = _move_key(field(form, "key"))
        money = typed_amount(typed, instance.settings.instance.currency)
        async with instance.sessions() as session, session.begin():
            moved = await service.to_wallet(session, user.username, money, key, instance.clock())
    except Refusal as refused:
        return await _refused(request, user, "wallet", said(refused), refusal_status(refused), move_amount=typed)
    done = (_("Moved %(amount)s to your wallet, to flattr others with.") if moved
            else _("Those %(amount)s were moved to your wallet already; nothing changed."))
    return await see_other(request, "/payouts", done % {"amount": amount_text(money)})


def _move_key(key: str) -> str:
    """The key the page made, so that the same form sent twice moves the money once."""
    if not key:
        raise Refusal(Kind.INVALID, "invalid_field", _("This form has no key: reload the page and send it again."))
    return checked_text(key, N_("The form's key"), MAX_MOVE_KEY)


def _money(row: Withdrawal) -> str:
    return amount_text(Money(row.amount, row.currency))


def routes() -> list[web.RouteDef]:
    return [web.get("/payouts", payouts_page), web.post("/payouts/details", save_details),
            web.post("/payouts/withdrawals", ask_withdrawal),
            web.post("/payouts/withdrawals/{public_id}/cancel", cancel_withdrawal),
            web.post("/payouts/to-wallet", move_to_wallet)]
