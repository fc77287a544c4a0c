"""Every API route, gathered for the app and for the OpenAPI check."""

from aiohttp import web

from server.api import admin, flattrs, me, openapi, things


def routes() -> list[web.RouteDef]:
    return me.routes() + things.routes() + flattrs.routes() + admin.routes() + openapi.routes()
