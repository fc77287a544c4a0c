"""Every page of the site, gathered for the app factory."""

from aiohttp import web

from server.web import account_pages, home_pages, rendering


def setup(app: web.Application) -> None:
    rendering.setup(app)
    app.router.add_routes(home_pages.routes() + account_pages.routes())
