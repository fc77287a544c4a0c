"""A creator's earnings: per period and per thing, wherever the donors were, and the money they hold now."""

from urllib.parse import urlencode

from aiohttp import web

from server.api import representations as rep
from server.api.auth import current_user
from server.api.bodies import int_query
from server.appkeys import instance_key
from server.refusal import Kind, Refusal
from settlement import creator_balances, earnings
from settlement.money import MoneyError, minor_digits
from settlement.periods import parse_period


async def get_earnings(request: web.Request) -> web.Response:
    """The newest `?limit=` closed periods (12 by default, at most 120), older than `?before=` when given.

    `?period=` answers that one period alone (checked, so a typo is a 400 and
    not an empty list). `next` is the address of the following page, null on
    the last one; the totals cover every period, not only the page's. The
    periods are in one currency, `?currency=` or the instance's; the balances
    are in every currency the creator holds money in, since a Payout from
    another instance is credited in its own currency.
    """
    instance = request.app[instance_key]
    user = await current_user(request)
    length = instance.settings.settlement.period
    label = _period(request, "period", length)
    before = _period(request, "before", length)
    if label is not None and before is not None:
        raise Refusal(Kind.INVALID, "invalid_query", "Ask for one `period` or for a page `before` one, not both.")
    limit = int_query(request, "limit", default=earnings.PAGE, least=1, most=earnings.MOST)
    currency = _currency(request.query.get("currency", instance.settings.instance.currency))
    async with instance.sessions() as session:
        found = await earnings.of_creator(session, user.username, currency, label, limit=limit, before=before)
        balances = await creator_balances.of_creator(session, user.username)
    following = None if found.older is None else "/api/v1/earnings?" + urlencode(
        {"before": found.older, "limit": limit, "currency": currency})
    return web.json_response(rep.earnings(found, balances, following))


def _period(request: web.Request, name: str, length: str) -> str | None:
    typed = request.query.get(name)
    return None if typed is None else parse_period(typed, length).label



def _currency(typed: str) -> str:
    """A known ISO 4217 code, or a 400: an unknown one would answer an empty list, as if nothing had been earned."""
    try:
        minor_digits(typed)
    except MoneyError as exc:
        raise Refusal(Kind.INVALID, "invalid_currency", str(exc)) from None
    return typed


def routes() -> list[web.RouteDef]:
    return [web.get("/api/v1/earnings", get_earnings)]
