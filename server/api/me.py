"""The caller's own account: wallet, budget, period, and their settings."""

from aiohttp import web

from server import aliases
from server.api import representations as rep
from server.api.auth import current_user
from server.api.bodies import bool_field, json_object, money_field
from server.appkeys import instance_key
from server.donations import donor_view
from server.models import User
from server.refusal import Kind, Refusal
from settlement import wallets


async def get_me(request: web.Request) -> web.Response:
    instance = request.app[instance_key]
    user = await current_user(request)
    async with instance.sessions() as session:
        view = await donor_view(session, instance, user, instance.current_period())
    return web.json_response({
        "username": user.username, "actor": instance.urls.actor(user.username), "is_admin": user.is_admin,
        "also_send_like": user.also_send_like, "language": user.language, "wallet": rep.money(view.wallet),
        "budget": rep.money(view.budget), "period": rep.period(view.period), "value_now": rep.value_rule(view),
    })


async def patch_me(request: web.Request) -> web.Response:
    """Settings; unknown fields are refused so a typo never passes for a saved change."""
    instance = request.app[instance_key]
    user = await current_user(request)
    body = await json_object(request)
    unknown = set(body) - {"also_send_like"}
    if unknown:
        raise Refusal(Kind.INVALID, "unknown_field", f"Unknown settings: {', '.join(sorted(unknown))}.")
    also_send_like = bool_field(body, "also_send_like")
    async with instance.sessions() as session, session.begin():
        row = await session.get_one(User, user.id)
        if also_send_like is not None:
            row.also_send_like = also_send_like
    return web.json_response({"username": row.username, "also_send_like": row.also_send_like})


async def put_budget(request: web.Request) -> web.Response:
    """A monthly budget; zero pauses spending."""
    instance = request.app[instance_key]
    user = await current_user(request)
    budget = money_field(await json_object(request), instance.settings.instance.currency, allow_zero=True)
    async with instance.sessions() as session, session.begin():
        await wallets.set_budget(session, user.username, budget, instance.clock())
    return web.json_response({"budget": rep.money(budget)})


async def get_aliases(request: web.Request) -> web.Response:
    instance = request.app[instance_key]
    user = await current_user(request)
    async with instance.sessions() as session:
        return web.json_response({"aliases": await aliases.aliases_of(session, user.username)})


async def put_aliases(request: web.Request) -> web.Response:
    """Replaces the list: the `alsoKnownAs` of the user's actor, one half of a two-way alias that claims escrow."""
    instance = request.app[instance_key]
    user = await current_user(request)
    wanted = aliases.checked(instance.urls, (await json_object(request)).get("aliases"))
    async with instance.sessions() as session, session.begin():
        await aliases.set_aliases(session, user.username, wanted)
    return web.json_response({"aliases": wanted})


def routes() -> list[web.RouteDef]:
    return [
        web.get("/api/v1/me", get_me),
        web.patch("/api/v1/me", patch_me),
        web.put("/api/v1/me/budget", put_budget),
        web.get("/api/v1/me/aliases", get_aliases),
        web.put("/api/v1/me/aliases", put_aliases),
    ]
