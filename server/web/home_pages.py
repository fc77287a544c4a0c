"""The front page: what Mecene is for a visitor, where to go next for someone signed in."""

from aiohttp import web

from server.web.rendering import page, render


@page
async def home(request: web.Request) -> web.StreamResponse:
    return await render(request, "home.html", {})


def routes() -> list[web.RouteDef]:
    return [web.get("/", home)]
