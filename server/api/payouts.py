"""A creator's money out over the API: payout details, withdrawals, and earnings moved into the wallet.

Changing payout details asks for the account's password in the body, as the
page does: a token alone, which a third-party app may hold, cannot redirect a
creator's money. Each change holds withdrawals for the operator's cooling-off.
"""

from typing import Any

from aiohttp import web

from server.api import representations as rep
from server.api.auth import current_user
from server.api.bodies import json_object, money_field, text_field
from server.appkeys import instance_key
from server.refusal import Kind, Refusal
from server.web.passwords import verify_password
from server.withdrawing import service
from settlement import creator_balances, payout_details, withdrawals
from settlement.agreement_terms import PaymentDetails
from settlement.models import PayoutDetails, Withdrawal
from settlement.money import Money


async def get_payouts(request: web.Request) -> web.Response:
    instance = request.app[instance_key]
    user = await current_user(request)
    async with instance.sessions() as session:
        details = await payout_details.of(session, user.username)
        balances = await creator_balances.of_creator(session, user.username)
        asked = await withdrawals.of_user(session, user.username)
    return web.json_response({"details": None if details is None else _details(details),
                              "balances": [rep.balance(row) for row in balances],
                              "withdrawals": [_withdrawal(row) for row in asked]})


async def put_details(request: web.Request) -> web.Response:
    """`{"password", "iban", "account_holder"}` or `{"password", "instructions"}`."""
    instance = request.app[instance_key]
    user = await current_user(request)
    body = await json_object(request)
    password_ok = await verify_password(user.password_hash, text_field(body, "password"))
    async with instance.sessions() as session, session.begin():
        saved = await service.save_details(
            session, instance.settings.payments, user.username, password_ok=password_ok,
            iban=text_field(body, "iban", required=False), account_holder=text_field(body, "account_holder",
                                                                                     required=False),
            instructions=text_field(body, "instructions", required=False), now=instance.clock())
    return web.json_response(_details(saved))


async def post_withdrawal(request: web.Request) -> web.Response:
    """`{"amount": "25.00", "currency": "EUR"}`: from the available balance in that currency (default: ours)."""
    instance = request.app[instance_key]
    user = await current_user(request)
    body = await json_object(request)
    money = _any_currency(body, instance.settings.instance.currency)
    async with instance.sessions() as session, session.begin():
        row = await service.request(session, instance.settings.payments, instance.settings.instance.currency,
                                    user.username, money, instance.clock())
    return web.json_response(_withdrawal(row), status=201)


async def cancel_withdrawal(request: web.Request) -> web.Response:
    instance = request.app[instance_key]
    user = await current_user(request)
    async with instance.sessions() as session, session.begin():
        row = await service.cancel(session, user.username, request.match_info["public_id"], instance.clock())
    return web.json_response(_withdrawal(row))


async def post_to_wallet(request: web.Request) -> web.Response:
    """`{"amount": "5.00", "key": "…"}`: available earnings into the caller's wallet, once per key."""
    instance = request.app[instance_key]
    user = await current_user(request)
    body = await json_object(request)
    money = money_field(body, instance.settings.instance.currency)
    key = text_field(body, "key")
    if len(key) > 64:
        raise Refusal(Kind.INVALID, "invalid_field", "`key` is at most 64 characters.")
    async with instance.sessions() as session, session.begin():
        moved = await service.to_wallet(session, user.username, money, key, instance.clock())
    return web.json_response({"moved": rep.money(money), "created": moved}, status=201 if moved else 200)


def _any_currency(body: dict[str, Any], default: str) -> Money:
    """A creator may hold money in every currency the instance accepts, and withdraw each."""
    given = body.get("currency", default)
    if not isinstance(given, str):
        raise Refusal(Kind.INVALID, "invalid_field", "`currency` must be an ISO 4217 code such as EUR.")
    return service.amount(text_field(body, "amount"), given.upper())


def _details(row: PayoutDetails) -> dict[str, Any]:
    shown = PaymentDetails(iban=row.iban, account_holder=row.account_holder or None, instructions=row.instructions)
    return {"iban": row.iban, "bic": row.bic, "account_holder": row.account_holder or None,
            "instructions": row.instructions, "described": shown.describe(), "changed_at": row.changed_at.isoformat(),
            "withdrawals_held_until": row.held_until.isoformat()}


def _withdrawal(row: Withdrawal) -> dict[str, Any]:
    return {"id": row.public_id, "amount": rep.money(Money(row.amount, row.currency)), "method": row.method,
            "state": row.state, "requested_at": row.requested_at.isoformat(), "reason": row.reason or None,
            "reference": f"MECENE {row.public_id}"}


def routes() -> list[web.RouteDef]:
    return [web.get("/api/v1/payouts", get_payouts), web.put("/api/v1/payouts/details", put_details),
            web.post("/api/v1/withdrawals", post_withdrawal),
            web.post("/api/v1/withdrawals/{public_id}/cancel", cancel_withdrawal),
            web.post("/api/v1/earnings/to-wallet", post_to_wallet)]
