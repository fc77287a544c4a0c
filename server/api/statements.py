"""The operator's statement: what this instance and each other instance owe each other, and where the money is."""

from aiohttp import web

from server.api import representations as rep
from server.api.auth import current_admin
from server.appkeys import instance_key
from settlement import statements


async def get_statements(request: web.Request) -> web.Response:
    instance = request.app[instance_key]
    await current_admin(request)
    async with instance.sessions() as session:
        found = await statements.statement(session, instance.settings.instance.currency)
    return web.json_response(rep.statement(found))


def routes() -> list[web.RouteDef]:
    return [web.get("/api/v1/admin/statements", get_statements)]
