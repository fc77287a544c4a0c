"""A creator's earnings: per period and per thing, wherever the donors were."""

from aiohttp import web

from server.api import representations as rep
from server.api.auth import current_user
from server.appkeys import instance_key
from settlement import earnings
from settlement.periods import parse_period


async def get_earnings(request: web.Request) -> web.Response:
    """Every closed period by default; `?period=` for one (checked, so a typo is a 400 and not an empty list)."""
    instance = request.app[instance_key]
    user = await current_user(request)
    label = request.query.get("period")
    if label is not None:
        label = parse_period(label, instance.settings.settlement.period).label
    async with instance.sessions() as session:
        found = await earnings.of_creator(session, user.username, instance.settings.instance.currency, label)
    return web.json_response(rep.earnings(found))


def routes() -> list[web.RouteDef]:
    return [web.get("/api/v1/earnings", get_earnings)]
