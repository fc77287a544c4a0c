"""Operator actions over the API: crediting a wallet through the manual payment provider."""

import secrets

from aiohttp import web

from server.api import representations as rep
from server.api.auth import current_admin
from server.api.bodies import json_object, money_field
from server.appkeys import instance_key
from server.refusal import Kind, Refusal
from server.topups import InvalidReference, UnknownAccount, top_up


async def post_topup(request: web.Request) -> web.Response:
    """201 for a new credit; 200 when `reference` was already used, which makes retries safe."""
    instance = request.app[instance_key]
    await current_admin(request)
    body = await json_object(request)
    credit = money_field(body, instance.settings.instance.currency)
    reference = body.get("reference") or secrets.token_hex(8)
    try:
        async with instance.sessions() as session, session.begin():
            done = await top_up(session, request.match_info["username"], credit,
                                reference if isinstance(reference, str) else "", instance.clock())
    except InvalidReference as error:
        raise Refusal(Kind.INVALID, "invalid_field", f"`reference`: {error}") from None
    except UnknownAccount as error:
        raise Refusal(Kind.NOT_FOUND, "not_found", str(error)) from None
    return web.json_response({"transaction": done.transaction_id, "reference": done.reference,
                              "credited": rep.money(done.credited), "wallet": rep.money(done.wallet)},
                             status=201 if done.created else 200)


def routes() -> list[web.RouteDef]:
    return [web.post("/api/v1/admin/users/{username}/topups", post_topup)]
