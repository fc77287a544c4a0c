"""Operator pages for money: periods and how far their close has gone, and statements with other instances."""

from aiohttp import web

from server.appkeys import instance_key
from server.i18n.formatting import figure
from server.web.admin_pages import operator
from server.web.rendering import page, render
from settlement import statements
from settlement.period_status import recent_periods


@page
async def periods(request: web.Request) -> web.StreamResponse:
    await operator(request)
    instance = request.app[instance_key]
    current = instance.current_period()
    async with instance.sessions() as session:
        rows = await recent_periods(session, current.label)
    return await render(request, "admin_periods.html", {
        "periods": rows, "current": current, "close_delay": instance.settings.settlement.close_delay_minutes,
        "figure": figure})


@page
async def statement(request: web.Request) -> web.StreamResponse:
    await operator(request)
    instance = request.app[instance_key]
    async with instance.sessions() as session:
        found = await statements.statement(session, instance.settings.instance.currency)
    return await render(request, "admin_statements.html", {"statement": found, "figure": figure})


def routes() -> list[web.RouteDef]:
    return [web.get("/admin/periods", periods), web.get("/admin/statements", statement)]
