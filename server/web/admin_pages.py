"""The operator's pages: who may open them, and the instance at a glance.

Only accounts with `is_admin` see them; anyone else signed in gets a 403 page,
and a visitor is sent to log in first. Admin accounts are made with
`mecene user add NAME --admin` and given a password with `mecene user password NAME`.
"""

from aiohttp import web

from server.appkeys import instance_key
from server.i18n.current import gettext as _
from server.instance_stats import instance_stats
from server.models import User
from server.web.rendering import PageError, page, render, signed_in


async def operator(request: web.Request) -> User:
    user = await signed_in(request)
    if not user.is_admin:
        raise PageError(403, _("Only the operators of this instance may open its operator pages."))
    return user


@page
async def overview(request: web.Request) -> web.StreamResponse:
    await operator(request)
    instance = request.app[instance_key]
    async with instance.sessions() as session:
        stats = await instance_stats(session, instance.current_period().label, instance.settings.instance.currency)
    return await render(request, "admin_overview.html", {"stats": stats})


def routes() -> list[web.RouteDef]:
    return [web.get("/admin", overview)]
