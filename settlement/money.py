"""Exact money: an integer number of minor units and an ISO 4217 code; no float ever touches an amount.

Typed amounts follow one rule, the same in every form and API field:

- ASCII digits, optionally a dot and more ASCII digits: "5", "5.0", "5.00", "0.50", "1000".
  Digits are needed on both sides of the dot (".5" and "5." are refused).
- At most as many decimals as the currency has minor digits: EUR 2, JPY 0, BHD 3. The digits are
  CLDR's (via Babel), which for a few currencies (IQD, IRR, ...) drop the ISO 4217 minor unit
  nobody pays in. "5.000" in EUR is refused rather than read as 5.00, since many people write
  five thousand that way.
- A decimal comma ("5,00") is refused with a hint to write "5.00"; so are thousands separators,
  spaces inside the number, signs, exponents, currency symbols, non-ASCII digits, NaN and infinity.
- Surrounding whitespace is ignored. Zero is refused unless the field allows it (a budget of zero
  pauses spending; a top-up of zero is a mistake). At most 10**12 minor units.

Refusals are `MoneyError`s carrying a stable `code` for programs and a message for the person
who typed the amount.
"""

import re
from dataclasses import dataclass
from functools import cache
from typing import Self

from babel.numbers import get_currency_precision, list_currencies

from settlement.explained import Explained

MAX_MINOR_UNITS = 10**12

_NUMBER = re.compile(r"([0-9]+)(?:\.([0-9]+))?")
_DECIMAL_COMMA = re.compile(r"([0-9]+),([0-9]+)")
_MINUS_SIGNS = ("-", "\u2212")


class MoneyError(Explained):
    """A refused amount or currency; `code` is stable for programs, the message is for people.

    Kept as its English template and values (`settlement.explained`), so that
    the page, bot or email showing it translates it first.
    """


class CurrencyMismatch(MoneyError):
    """Two currencies met where one was expected; amounts are never converted."""

    def __init__(self, template: str, params: dict[str, str | int] | None = None) -> None:
        super().__init__("wrong_currency", template, params)


@dataclass(frozen=True)
class Money:
    amount: int
    currency: str

    def __post_init__(self) -> None:
        if not isinstance(self.amount, int) or isinstance(self.amount, bool):
            raise TypeError(f"money amounts are integers of minor units, not {type(self.amount).__name__}")
        minor_digits(self.currency)

    @classmethod
    def zero(cls, currency: str) -> Self:
        return cls(0, currency)

    def __add__(self, other: "Money") -> "Money":
        self._same_currency(other)
        return Money(self.amount + other.amount, self.currency)

    def __sub__(self, other: "Money") -> "Money":
        self._same_currency(other)
        return Money(self.amount - other.amount, self.currency)

    def __neg__(self) -> "Money":
        return Money(-self.amount, self.currency)

    def _same_currency(self, other: "Money") -> None:
        if self.currency != other.currency:
            raise CurrencyMismatch("%(first)s and %(second)s amounts cannot be mixed.",
                                   {"first": self.currency, "second": other.currency})


@cache
def _known_currencies() -> frozenset[str]:
    return frozenset(list_currencies())


def minor_digits(currency: str) -> int:
    """Decimals of the currency; Babel answers 2 for any code it does not know, so unknown codes are refused first."""
    if currency not in _known_currencies():
        raise MoneyError("unknown_currency", '"%(currency)s" is not a known ISO 4217 currency code (e.g. EUR, USD).',
                         {"currency": currency})
    return get_currency_precision(currency)


def parse_amount(text: str, currency: str, *, allow_zero: bool = False) -> Money:
    """Read an amount a person typed, by the rule in the module docstring; integer arithmetic only."""
    digits = minor_digits(currency)
    typed = text.strip()
    _refuse_malformed(typed, digits)
    match = _NUMBER.fullmatch(typed)
    if match is None:
        raise MoneyError("invalid_amount", '"%(typed)s" is not an amount; write digits with a dot for decimals, '
                                           'e.g. "%(example)s".', {"typed": typed, "example": _example(digits)})
    whole, fraction = match.group(1).lstrip("0"), match.group(2) or ""
    if len(fraction) > digits:
        raise _too_many_decimals(currency, digits)
    if len(whole) > len(str(MAX_MINOR_UNITS)):
        raise _too_large(currency)
    minor = int(whole or "0") * 10**digits + int(fraction.ljust(digits, "0") or "0")
    if minor > MAX_MINOR_UNITS:
        raise _too_large(currency)
    if minor == 0 and not allow_zero:
        raise MoneyError("zero_amount", "The amount must be more than zero.")
    return Money(minor, currency)


def format_amount(money: Money) -> str:
    """The canonical text of an amount ("5.00", "0.05", "1000" for JPY), which `parse_amount` reads back."""
    digits = minor_digits(money.currency)
    sign = "-" if money.amount < 0 else ""
    whole, fraction = divmod(abs(money.amount), 10**digits)
    return f"{sign}{whole}.{fraction:0{digits}d}" if digits else f"{sign}{whole}"


def check_currency(money: Money, currency: str) -> None:
    """An instance works in one currency; anything else is refused, never converted."""
    if money.currency != currency:
        raise CurrencyMismatch("This instance works in %(ours)s; amounts in %(theirs)s are not accepted.",
                               {"ours": currency, "theirs": money.currency})


def _refuse_malformed(typed: str, digits: int) -> None:
    """The refusals that deserve a specific message rather than "not an amount"."""
    if not typed:
        raise MoneyError("invalid_amount", 'Enter an amount, e.g. "%(example)s".', {"example": _example(digits)})
    if typed.startswith(_MINUS_SIGNS):
        raise MoneyError("negative_amount", "The amount cannot be negative.")
    comma = _DECIMAL_COMMA.fullmatch(typed)
    if comma and digits and len(comma.group(2)) <= digits:
        suggestion = f"{comma.group(1)}.{comma.group(2)}"
        raise MoneyError("comma_decimal", 'Write decimals with a dot: "%(suggestion)s" rather than "%(typed)s".',
                         {"suggestion": suggestion, "typed": typed})
    if "," in typed:
        raise MoneyError("invalid_amount", 'Write the amount without thousands separators, e.g. "%(example)s".',
                         {"example": _example(digits)})


def _example(digits: int) -> str:
    return "5." + "0" * digits if digits else "500"


def _too_many_decimals(currency: str, digits: int) -> MoneyError:
    if not digits:
        return MoneyError("too_many_decimals", "%(currency)s amounts have no decimals.", {"currency": currency})
    if digits == 1:
        return MoneyError("too_many_decimals", "%(currency)s amounts have at most 1 decimal.", {"currency": currency})
    return MoneyError("too_many_decimals", "%(currency)s amounts have at most %(digits)s decimals.",
                      {"currency": currency, "digits": digits})


def _too_large(currency: str) -> MoneyError:
    limit = format_amount(Money(MAX_MINOR_UNITS, currency))
    return MoneyError("amount_too_large", "The amount cannot be more than %(limit)s %(currency)s.",
                      {"limit": limit, "currency": currency})
