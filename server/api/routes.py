"""Every API route, gathered for the app and for the OpenAPI check."""

from aiohttp import web

from server.api import admin, earnings, flattrs, links, me, openapi, payouts, statements, things, wallet


def routes() -> list[web.RouteDef]:
    return (me.routes() + things.routes() + flattrs.routes() + earnings.routes() + admin.routes()
            + statements.routes() + links.routes() + wallet.routes() + payouts.routes() + openapi.routes())
