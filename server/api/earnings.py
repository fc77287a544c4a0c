"""A creator's earnings: per period and per thing, wherever the donors were, and the money they hold now."""

from aiohttp import web

from server.api import representations as rep
from server.api.auth import current_user
from server.appkeys import instance_key
from server.refusal import Kind, Refusal
from settlement import creator_balances, earnings
from settlement.money import MoneyError, minor_digits
from settlement.periods import parse_period


async def get_earnings(request: web.Request) -> web.Response:
    """Every closed period by default; `?period=` for one (checked, so a typo is a 400 and not an empty list).

    The periods are in one currency, `?currency=` or the instance's; the
    balances are in every currency the creator holds money in, since a
    Payout from another instance is credited in its own currency.
    """
    instance = request.app[instance_key]
    user = await current_user(request)
    label = request.query.get("period")
    if label is not None:
        label = parse_period(label, instance.settings.settlement.period).label
    currency = _currency(request.query.get("currency", instance.settings.instance.currency))
    async with instance.sessions() as session:
        found = await earnings.of_creator(session, user.username, currency, label)
        balances = await creator_balances.of_creator(session, user.username)
    return web.json_response(rep.earnings(found, balances))


def _currency(typed: str) -> str:
    """A known ISO 4217 code, or a 400: an unknown one would answer an empty list, as if nothing had been earned."""
    try:
        minor_digits(typed)
    except MoneyError as exc:
        raise Refusal(Kind.INVALID, "invalid_currency", str(exc)) from None
    return typed


def routes() -> list[web.RouteDef]:
    return [web.get("/api/v1/earnings", get_earnings)]
