"""Operator pages for money: periods and how far their close has gone, and statements with other instances."""

from decimal import Decimal

from aiohttp import web
from babel.numbers import format_decimal

from server.appkeys import instance_key
from server.i18n.current import locale
from server.i18n.locales import ENGLISH
from server.web.admin_pages import operator
from server.web.rendering import page, render
from settlement import statements
from settlement.money import Money, format_amount, minor_digits
from settlement.period_status import recent_periods


def figure(minor: int, currency: str) -> str:
    """An amount in a column whose heading names its currency: "1234.50" in English, "1 234,50" in French.

    Exact like `server.i18n.formatting.amount_text` (a `Decimal` of the minor
    units, every digit the currency has), only without the currency repeated
    on every line of a table.
    """
    speaking = locale()
    if speaking == ENGLISH:
        return format_amount(Money(minor, currency))
    digits = minor_digits(currency)
    pattern = "#,##0" + ("." + "0" * digits if digits else "")
    return format_decimal(Decimal(minor).scaleb(-digits), format=pattern, locale=speaking)


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
