"""The operator's pages: the instance at a glance, and crediting a wallet by hand.

Only accounts with `is_admin` see them; anyone else signed in gets a 403 page,
and a visitor is sent to log in first. Admin accounts are made with
`mecene user add NAME --admin` and given a password with `mecene user password NAME`.
"""

import secrets

from aiohttp import web

from server.appkeys import instance_key
from server.instance_stats import instance_stats
from server.models import User
from server.topups import InvalidReference, UnknownAccount, top_up
from server.web.rendering import PageError, field, page, posted_form, render, signed_in
from settlement.money import MoneyError, check_currency, format_amount, parse_amount


async def operator(request: web.Request) -> User:
    user = await signed_in(request)
    if not user.is_admin:
        raise PageError(403, "Only the operators of this instance may open its operator pages.")
    return user


@page
async def overview(request: web.Request) -> web.StreamResponse:
    await operator(request)
    instance = request.app[instance_key]
    async with instance.sessions() as session:
        stats = await instance_stats(session, instance.current_period().label, instance.settings.instance.currency)
    return await render(request, "admin_overview.html", {"stats": stats})


@page
async def topup_form(request: web.Request) -> web.StreamResponse:
    await operator(request)
    return await render(request, "admin_topups.html", _topup_context({}))


@page
async def topup(request: web.Request) -> web.StreamResponse:
    await operator(request)
    form = await posted_form(request)
    instance = request.app[instance_key]
    values = {name: field(form, name) for name in ("username", "amount", "reference")}
    try:
        credit = parse_amount(values["amount"], instance.settings.instance.currency)
        check_currency(credit, instance.settings.instance.currency)
        async with instance.sessions() as session, session.begin():
            done = await top_up(session, values["username"].lower(), credit, values["reference"], instance.clock())
    except (MoneyError, UnknownAccount, InvalidReference) as error:
        return await render(request, "admin_topups.html", _topup_context(values, [str(error)]), status=400)
    amount, wallet = format_amount(done.credited), format_amount(done.wallet)
    notice = (f"Credited {amount} {credit.currency} to {values['username']}" if done.created else
              f"Reference {done.reference} was already credited; nothing changed")
    return await render(request, "admin_topups.html", _topup_context(
        {}, notice=f"{notice}. Wallet of {values['username']}: {wallet} {done.wallet.currency}."))


def _topup_context(values: dict[str, str], errors: list[str] | None = None, notice: str = "") -> dict[str, object]:
    """A fresh reference by default, so a form sent twice credits once; the operator may type the bank's own."""
    return {"username": values.get("username", ""), "amount": values.get("amount", ""),
            "reference": values.get("reference") or f"web-{secrets.token_hex(6)}", "errors": errors or [],
            "notice": notice}


def routes() -> list[web.RouteDef]:
    return [web.get("/admin", overview), web.get("/admin/topups", topup_form), web.post("/admin/topups", topup)]
