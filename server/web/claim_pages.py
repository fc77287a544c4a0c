"""The claim page: for creators whose posts were flattred while their server knows nothing of Mecene.

The bot's escrow notices send people here, most of them without an account
yet, so the explanation is public; someone signed in also sees the two ways
to claim and what escrow holds for the accounts they linked or named.
"""

from aiohttp import web

from server import aliases, link_settings
from server.appkeys import instance_key
from server.bot import links
from server.models import User
from server.web.labels import actor_labels
from server.web.notices import render_with_notice
from server.web.rendering import page, viewer
from settlement.escrow_holdings import held_for


@page
async def claim(request: web.Request) -> web.StreamResponse:
    instance = request.app[instance_key]
    user = (await viewer(request)).user
    context = {"claim_months": instance.settings.settlement.escrow_claim_months,
               "bot_handle": link_settings.bot_handle(instance)}
    if user is not None:
        context |= await _own(request, user)
    return await render_with_notice(request, "claim.html", context)


async def _own(request: web.Request, user: User) -> dict[str, object]:
    """The viewer's linked accounts and aliases, each with what escrow still holds for it."""
    instance = request.app[instance_key]
    options = instance.settings.settlement
    async with instance.sessions() as session:
        linked = [row.actor_uri for row in await links.of_user(session, user.username)]
        named = await aliases.aliases_of(session, user.username)
        holdings = await held_for(session, {*linked, *named}, currency=instance.settings.instance.currency,
                                  claim_months=options.escrow_claim_months, period_length=options.period)
        labels = await actor_labels(session, instance.urls, {*linked, *named})
    return {"linked": linked, "named": named, "labels": labels,
            "holdings": {holding.author: holding for holding in holdings},
            "actor": instance.urls.actor(user.username)}


def routes() -> list[web.RouteDef]:
    return [web.get("/claim", claim)]
