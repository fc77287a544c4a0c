"""Operator actions over the API: crediting a wallet through the manual payment provider."""

import secrets

from aiohttp import web
from sqlalchemy import select

from server.api import representations as rep
from server.api.auth import current_admin
from server.api.bodies import json_object, money_field
from server.appkeys import instance_key
from server.errors import ApiError
from server.models import User
from settlement import wallets
from settlement.wallets import ManualProvider


async def post_topup(request: web.Request) -> web.Response:
    """201 for a new credit; 200 when `reference` was already used, which makes retries safe."""
    instance = request.app[instance_key]
    await current_admin(request)
    body = await json_object(request)
    credit = money_field(body, instance.settings.instance.currency)
    reference = body.get("reference") or secrets.token_hex(8)
    if not isinstance(reference, str) or len(reference) > 100:
        raise ApiError(400, "invalid_field", "`reference` must be a string of at most 100 characters.")
    username = request.match_info["username"]
    async with instance.sessions() as session, session.begin():
        if await session.scalar(select(User.id).where(User.username == username)) is None:
            raise ApiError(404, "not_found", f"No account {username!r} here.")
        transaction_id, created = await ManualProvider().credit(
            session, username=username, money=credit, reference=reference, now=instance.now())
        balance = await wallets.wallet_balance(session, username, credit.currency)
    return web.json_response({"transaction": transaction_id, "reference": reference, "credited": rep.money(credit),
                              "wallet": rep.money(balance)}, status=201 if created else 200)


def routes() -> list[web.RouteDef]:
    return [web.post("/api/v1/admin/users/{username}/topups", post_topup)]
