"""Reading request bodies and query values, with a clear 400 for each way they can be wrong."""

import json
from typing import Any

from aiohttp import web

from server.refusal import Kind, Refusal
from settlement.money import Money, check_currency, parse_amount

MAX_BODY = 64 * 1024


async def json_object(request: web.Request) -> dict[str, Any]:
    raw = await request.content.read(MAX_BODY + 1)
    if len(raw) > MAX_BODY:
        raise Refusal(Kind.TOO_LARGE, "too_large", f"API bodies are limited to {MAX_BODY} bytes.")
    try:
        body = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise Refusal(Kind.INVALID, "invalid_json", "The body is not valid JSON.") from None
    if not isinstance(body, dict):
        raise Refusal(Kind.INVALID, "invalid_json", "The body must be a JSON object.")
    return body


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
    if not raw.isascii() or not raw.isdigit():
        raise Refusal(Kind.NOT_FOUND, "not_found", f"No {name} {raw!r}.")
    return int(raw)
