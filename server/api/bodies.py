"""Reading request bodies and query values, with a clear 400 for each way they can be wrong."""

from typing import Any

from aiohttp import web

from federation import strict_json
from server.refusal import Kind, Refusal
from server.storable import path_id
from settlement.money import Money, check_currency, parse_amount

MAX_BODY = 64 * 1024


async def json_object(request: web.Request) -> dict[str, Any]:
    """The body as a JSON object, read by the inbox's strict reader: nesting that would crash the parser is a 400."""
    raw = await request.content.read(MAX_BODY + 1)
    if len(raw) > MAX_BODY:
        raise Refusal(Kind.TOO_LARGE, "too_large", f"API bodies are limited to {MAX_BODY} bytes.")
    try:
        return strict_json.json_object(raw)
    except strict_json.InvalidJSON as error:
        raise Refusal(Kind.INVALID, "invalid_json", f"The body is not a valid JSON object ({error}).") from None


def text_field(body: dict[str, Any], name: str, *, required: bool = True) -> str:
    value = body.get(name)
    if value is None and not required:
        return ""
    if not isinstance(value, str) or (required and not value.strip()):
        raise Refusal(Kind.INVALID, "invalid_field", f"`{name}` must be a non-empty string.")
    return value


def bool_field(body: dict[str, Any], name: str) -> bool | None:
    value = body.get(name)
    if value is not None and not isinstance(value, bool):
        raise Refusal(Kind.INVALID, "invalid_field", f"`{name}` must be true or false.")
    return value


def money_field(body: dict[str, Any], currency: str, *, allow_zero: bool = False) -> Money:
    """Amounts travel as decimal strings ("5.00"): a JSON number may already be a float."""
    amount = body.get("amount")
    if not isinstance(amount, str):
        raise Refusal(Kind.INVALID, "invalid_amount", 'Give `amount` as a string such as "5.00".')
    given = body.get("currency", currency)
    if not isinstance(given, str):
        raise Refusal(Kind.INVALID, "invalid_field", "`currency` must be an ISO 4217 code such as EUR.")
    money = parse_amount(amount, given.upper(), allow_zero=allow_zero)
    check_currency(money, currency)
    return money


def int_path(request: web.Request, name: str) -> int:
    raw = request.match_info[name]
    found = path_id(raw)
    if found is None:
        raise Refusal(Kind.NOT_FOUND, "not_found", f"No {name} {raw!r}.")
    return found


def int_query(request: web.Request, name: str, *, default: int, least: int, most: int) -> int:
    """The query's `name`, a whole number from `least` to `most`, `default` when absent, or a 400 naming it.

    Its length is checked before `int()` reads it, so a few thousand digits
    are a 400 like any other number out of range.
    """
    typed = request.query.get(name)
    if typed is None:
        return default
    if (not typed.isascii() or not typed.isdigit() or len(typed) > len(str(most))
            or not least <= int(typed) <= most):
        raise Refusal(Kind.INVALID, f"invalid_{name}", f"`{name}` is a whole number from {least} to {most}.")
    return int(typed)
