"""JSON objects as peers must send them: RFC 8259 only, and not nested past what the parser survives.

Python's json reads NaN and Infinity, which PostgreSQL's json type refuses:
an activity or an actor document carrying one would fail the statement that
stores it, and with it every activity of an inbox batch. And it raises
RecursionError on a few thousand nested brackets, which must be a 400 for a
peer's body, not a crash. Strings may not hold NUL (PostgreSQL's text refuses
it) nor an unpaired surrogate (the escape `\\ud800`: no UTF-8 encodes it, so neither
database can store it): either would fail, at the database, the statement
that stores a document, where a parser can refuse it at once.
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
    if _may_hold_bad_text(body):
        _check_text(document)
    return document


def _may_hold_bad_text(body: bytes) -> bool:
    """Both can only come in as a backslash-u escape, or as surrogate bytes the decoder lets pass (0xED 0xA0-0xBF)."""
    return b"\\u" in body or b"\xed" in body


def _check_text(value: object) -> None:
    if isinstance(value, str):
        if "\x00" in value:
            raise InvalidJSON("a string holds a NUL character")
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise InvalidJSON("a string holds an unpaired surrogate") from None
    elif isinstance(value, dict):
        for key, item in value.items():
            _check_text(key)
            _check_text(item)
    elif isinstance(value, list):
        for item in value:
            _check_text(item)


def _refuse_constant(name: str) -> NoReturn:
    raise ValueError(f"{name} is not a JSON number")
