"""The front page: what Mecene is for a visitor; for someone signed in, their dashboard."""

from aiohttp import web

from server.appkeys import instance_key
from server.web.dashboard import dashboard
from server.web.notices import render_with_notice
from server.web.rendering import page, render, viewer


@page
async def home(request: web.Request) -> web.StreamResponse:
    user = (await viewer(request)).user
    if user is None:
        return await render(request, "home.html", {})
    return await render_with_notice(request, "home.html", await dashboard(request.app[instance_key], user))


def routes() -> list[web.RouteDef]:
    return [web.get("/", home)]
