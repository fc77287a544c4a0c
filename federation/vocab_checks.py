"""The fields Mecene's agreement, clearing and statement vocabularies read alike, and the error they raise.

A peer's ids, currency codes, amounts and reason codes travel in all three,
so each is judged by one definition here: an amount the agreement vocabulary
accepts is one the clearing and statement vocabularies accept too. Shapes
only; what an amount means is the settlement layer's to judge.
"""

import re
from typing import TypeGuard

MAX_URI_LENGTH = 2048
#: The longest amount read: far more digits than any amount a ledger holds.
MAX_AMOUNT_LENGTH = 32
CURRENCY_CODE = re.compile(r"[A-Z]{3}")
DECIMAL = re.compile(r"[0-9]+(\.[0-9]+)?")
REASON = re.compile(r"[a-z_]{1,64}")


class Unreadable(ValueError):
    """An activity that cannot be read; `code` names why, in a Reject of it or in the operator's log."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def is_uri(value: object) -> TypeGuard[str]:
    return isinstance(value, str) and len(value) <= MAX_URI_LENGTH and value.startswith(("https://", "http://"))


def is_currency_code(value: object) -> TypeGuard[str]:
    return isinstance(value, str) and CURRENCY_CODE.fullmatch(value) is not None


def is_decimal(value: object) -> TypeGuard[str]:
    return isinstance(value, str) and len(value) <= MAX_AMOUNT_LENGTH and DECIMAL.fullmatch(value) is not None


def is_reason(value: object) -> TypeGuard[str]:
    """A reason code, as Rejects give them: lower-case letters and `_`."""
    return isinstance(value, str) and REASON.fullmatch(value) is not None
