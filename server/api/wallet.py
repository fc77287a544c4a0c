"""The donor's wallet over the API: balance and history, top-ups by bank transfer, receipts, refund requests.

A card is paid on the top-up's page (Stripe Elements needs a browser), so a
card top-up made here answers where to pay it; a transfer answers the
account and the reference, as the page does.
"""

from typing import Any

from aiohttp import web

from server.api import representations as rep
from server.api.auth import current_user
from server.api.bodies import json_object, money_field, text_field
from server.appkeys import instance_key, payments_key
from server.payments import bank_transfers, receipts, wallet_service
from server.payments.receipts import Receipt
from server.refusal import Kind, Refusal
from settlement import wallets


async def get_wallet(request: web.Request) -> web.Response:
    instance = request.app[instance_key]
    user = await current_user(request)
    currency = instance.settings.instance.currency
    async with instance.sessions() as session:
        balance = await wallets.wallet_balance(session, user.username, currency)
        history = await receipts.history(session, user.username)
    return web.json_response({"balance": rep.money(balance), "history": [_receipt(item) for item in history]})


async def post_topup(request: web.Request) -> web.Response:
    """`{"amount": "10.00", "provider": "bank"|"stripe"}` (and `currency`, the instance's): a top-up to pay."""
    instance, payments = request.app[instance_key], request.app[payments_key]
    user = await current_user(request)
    body = await json_object(request)
    money = wallet_service.at_least_minimum(payments, money_field(body, instance.settings.instance.currency))
    async with instance.sessions() as session, session.begin():
        topup = await wallet_service.start(session, payments, username=user.username,
                                           provider=text_field(body, "provider"), money=money, now=instance.clock())
    answer = {**_receipt(receipts.of_topup(topup)), "pay_at": f"{instance.settings.base_url}/wallet/receipts/"
                                                               f"{topup.public_id}"}
    if topup.provider == bank_transfers.NAME:
        settings = payments.settings
        answer["transfer"] = {"account_holder": settings.bank_account_holder, "iban": settings.bank_iban,
                              "bic": settings.bank_bic, "reference": topup.reference}
    return web.json_response(answer, status=201)


async def get_receipt(request: web.Request) -> web.Response:
    instance = request.app[instance_key]
    user = await current_user(request)
    async with instance.sessions() as session:
        found = await receipts.receipt(session, request.match_info["public_id"])
    if found is None or found.username != user.username:
        raise Refusal(Kind.NOT_FOUND, "not_found", "There is no such receipt of yours.")
    return web.json_response(_receipt(found))


async def post_refund_request(request: web.Request) -> web.Response:
    """`{"note": "…"}` (optional): ask the operator for the wallet's unspent money back."""
    instance = request.app[instance_key]
    user = await current_user(request)
    note = text_field(await json_object(request), "note", required=False)
    async with instance.sessions() as session, session.begin():
        asked = await wallet_service.ask_refund(session, user.username, instance.settings.instance.currency, note,
                                                instance.clock())
    return web.json_response({"state": asked.state, "currency": asked.currency,
                              "asked_at": asked.asked_at.isoformat()}, status=201)


def _receipt(item: Receipt) -> dict[str, Any]:
    return {"id": item.public_id, "kind": item.kind, "amount": rep.money(item.money), "provider": item.provider,
            "reference": item.reference, "state": item.state, "at": item.at.isoformat(),
            "topup": item.topup_id or None, "note": item.note}


def routes() -> list[web.RouteDef]:
    return [web.get("/api/v1/wallet", get_wallet), web.post("/api/v1/wallet/topups", post_topup),
            web.get("/api/v1/wallet/receipts/{public_id}", get_receipt),
            web.post("/api/v1/wallet/refund-requests", post_refund_request)]
