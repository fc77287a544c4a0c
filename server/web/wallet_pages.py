"""The donor's wallet: add money by card or bank transfer, see each receipt, ask for unspent money back.

Adding money makes a top-up and sends the donor to its receipt page, which
says what happens next: the card form (Stripe Elements, the only page that
runs a script, with a Content-Security-Policy that admits Stripe.js and no
one else), the transfer to make and its reference, or that the payment is
confirmed. The browser's word never credits anything: "waiting for
confirmation" stays until the provider's own confirmation has arrived.
"""

from typing import Any
from urllib.parse import urlsplit

from aiohttp import web

from server.appkeys import instance_key, payments_key
from server.http_errors import json_error, refusal_status
from server.i18n.current import gettext as _
from server.i18n.formatting import amount_text
from server.payments import bank_transfers, receipts, stripe_gateway, wallet_service
from server.payments.receipts import Receipt
from server.refusal import Refusal
from server.web.notices import render_with_notice, see_other
from server.web.refusals import as_page_error, said
from server.web.rendering import PageError, field, page, posted_form, render, signed_in
from server.web.state_words import provider_names, receipt_kinds, receipt_states
from server.web.typed_amounts import typed_amount
from settlement import refunds, topups, wallets
from settlement.money import Money


@page
async def wallet_page(request: web.Request) -> web.StreamResponse:
    user = await signed_in(request)
    return await render_with_notice(request, "wallet.html", await _wallet_context(request, user.username))


async def _wallet_context(request: web.Request, username: str, **overrides: Any) -> dict[str, Any]:
    instance, payments = request.app[instance_key], request.app[payments_key]
    currency = instance.settings.instance.currency
    async with instance.sessions() as session:
        balance = await wallets.wallet_balance(session, username, currency)
        history = await receipts.history(session, username)
        asked = await refunds.open_request(session, username, currency)
    return {"balance": balance, "history": history, "providers": payments.enabled, "refund_asked": asked,
            "minimum": wallet_service.minimum(payments, currency), "amount": "", "errors": [],
            "receipt_kinds": receipt_kinds(), "receipt_states": receipt_states(), "providers_named": provider_names(),
            **overrides}


@page
async def add_money(request: web.Request) -> web.StreamResponse:
    user = await signed_in(request)
    form = await posted_form(request)
    instance, payments = request.app[instance_key], request.app[payments_key]
    typed, provider = field(form, "amount"), field(form, "provider")
    try:
        money = wallet_service.at_least_minimum(payments, typed_amount(typed, instance.settings.instance.currency))
        async with instance.sessions() as session, session.begin():
            topup = await wallet_service.start(session, payments, username=user.username, provider=provider,
                                               money=money, now=instance.clock())
    except Refusal as refused:
        context = await _wallet_context(request, user.username, amount=typed, errors=[said(refused)])
        return await render(request, "wallet.html", context, status=refusal_status(refused))
    raise web.HTTPSeeOther(f"/wallet/receipts/{topup.public_id}")


@page
async def receipt_page(request: web.Request) -> web.StreamResponse:
    user = await signed_in(request)
    instance, payments = request.app[instance_key], request.app[payments_key]
    async with instance.sessions() as session:
        found = await receipts.receipt(session, request.match_info["public_id"])
    if found is None or found.username != user.username:
        raise PageError(404, _("There is no such receipt of yours."))
    waiting = found.provider == stripe_gateway.NAME and found.state == topups.AWAITING and bool(found.reference)
    card = _pays_by_card(found) and not waiting
    response = await render_with_notice(request, "receipt.html", {
        "receipt_kinds": receipt_kinds(), "receipt_states": receipt_states(), "providers_named": provider_names(),
        "receipt": found, "card": card, "waiting": waiting, "settings": payments.settings,
        "bank": found.provider == bank_transfers.NAME and found.state == topups.AWAITING})
    if card:
        response.headers["Content-Security-Policy"] = card_page_policy(payments.settings.stripe_js_url,
                                                                       payments.settings.stripe_api_base)
    return response


def _pays_by_card(found: Receipt) -> bool:
    return found.kind == receipts.TOPUP and found.provider == stripe_gateway.NAME and found.state != topups.CONFIRMED


#: Stripe.js loads the frames of Elements, and scripts, from subdomains of js.stripe.com too: Stripe's security
#: guide lists them for a Content-Security-Policy, and they are Stripe's as much as js.stripe.com itself.
STRIPE_JS_SUBDOMAINS = "https://*.js.stripe.com"
#: Where Stripe.js frames the bank's 3-D Secure page.
STRIPE_HOOKS = "https://hooks.stripe.com"


def card_page_policy(js_url: str, api_base: str) -> str:
    """Our own script and Stripe's, Stripe's frames, and calls to Stripe's API: nothing from anywhere else."""
    script, api = _origin(js_url), _origin(api_base)
    return (f"default-src 'none'; style-src 'self' 'unsafe-inline'; img-src 'self' {script}; "
            f"script-src 'self' {script} {STRIPE_JS_SUBDOMAINS}; "
            f"frame-src {script} {STRIPE_JS_SUBDOMAINS} {STRIPE_HOOKS}; "
            f"connect-src 'self' {api} {script}; base-uri 'none'; frame-ancestors 'none'")


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


async def pay_by_card(request: web.Request) -> web.Response:
    """Called by the card page's script with the token Stripe.js made: answers JSON for the script to act on."""
    try:
        user = await signed_in(request)
        form = await posted_form(request)
    except PageError as refused:
        return json_error(refused.status, "refused", refused.message)
    except web.HTTPSeeOther:
        return json_error(401, "unauthenticated", _("Log in again, then pay."))
    instance, payments = request.app[instance_key], request.app[payments_key]
    try:
        outcome = await wallet_service.pay_by_card(instance.sessions, payments, user.username,
                                                   request.match_info["public_id"], field(form, "token"))
    except Refusal as refused:
        return json_error(refusal_status(refused), refused.code, said(refused))
    return web.json_response({"state": outcome.state, "client_secret": outcome.client_secret,
                              "message": outcome.message})


@page
async def ask_refund(request: web.Request) -> web.StreamResponse:
    user = await signed_in(request)
    note = field(await posted_form(request), "note")
    instance = request.app[instance_key]
    currency = instance.settings.instance.currency
    with as_page_error():
        async with instance.sessions() as session, session.begin():
            asked = await wallet_service.ask_refund(session, user.username, currency, note, instance.clock())
            balance = await wallets.wallet_balance(session, user.username, currency)
    return await see_other(request, "/wallet", _("Asked: the operator will refund up to %(amount)s and tell you.")
                           % {"amount": amount_text(Money(balance.amount, asked.currency))})


def routes() -> list[web.RouteDef]:
    return [web.get("/wallet", wallet_page), web.post("/wallet/topups", add_money),
            web.get("/wallet/receipts/{public_id}", receipt_page),
            web.post("/wallet/receipts/{public_id}/card", pay_by_card),
            web.post("/wallet/refund-request", ask_refund)]
