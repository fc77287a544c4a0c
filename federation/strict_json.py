"""JSON objects as peers must send them: RFC 8259 only, and not nested past what the parser survives.

Python's json reads NaN and Infinity, which PostgreSQL's json type refuses:
an activity or an actor document carrying one would fail the statement that
stores it, and with it every activity of an inbox batch. And it raises
RecursionError on a few thousand nested brackets, which must be a 400 for a
peer's body, not a crash.
"""

import json
from typing import Any, NoReturn


class InvalidJSON(ValueError):
    pass


def json_object(body: bytes) -> dict[str, Any]:
    try:
        document = json.loads(body, parse_constant=_refuse_constant)
    except RecursionError:
        raise InvalidJSON("it is nested too deeply") from None
    except ValueError as exc:
        raise InvalidJSON(str(exc)) from None
    if not isinstance(document, dict):
        raise InvalidJSON("it must be a JSON object")
    return document


def _refuse_constant(name: str) -> NoReturn:
    raise ValueError(f"{name} is not a JSON number")
