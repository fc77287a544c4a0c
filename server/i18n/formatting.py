"""Amounts and dates written, and amounts read, the way the reader's language does.

English keeps Mecene's canonical form ("6.00 EUR"), the one every form and
API reads back; French follows CLDR through Babel ("6,00 €", "3 déc. 2026").
Amounts reach Babel as a `Decimal` built from integer minor units, so no float
ever touches them, and Babel's digits per currency are the ones
`settlement.money` counts minor units in.
"""

import re
from datetime import date, datetime
from decimal import Decimal

from babel.dates import format_date
from babel.numbers import format_currency, format_decimal

from server.i18n import current
from server.i18n.locales import ENGLISH
from settlement.money import Money, MoneyError, format_amount, minor_digits, parse_amount

_FRENCH_NUMBER = re.compile(r"[0-9]{1,3}(?:[ \u00a0\u202f][0-9]{3})*(?:,[0-9]+)?|[0-9]+(?:,[0-9]+)?")
_GROUP_SPACES = re.compile(r"[ \u00a0\u202f]")


def amount_text(money: Money, locale: str | None = None) -> str:
    speaking = locale or current.locale()
    if speaking == ENGLISH:
        return f"{format_amount(money)} {money.currency}"
    exact = Decimal(money.amount).scaleb(-minor_digits(money.currency))
    return format_currency(exact, money.currency, locale=speaking)


def figure(minor: int, currency: str, locale: str | None = None) -> str:
    """An amount where its currency is said once, beside it (a column's heading, a chart): "1234.50", "1 234,50".

    Exact as `amount_text` is: every digit the currency has, from a `Decimal`
    of the minor units.
    """
    speaking = locale or current.locale()
    if speaking == ENGLISH:
        return format_amount(Money(minor, currency))
    digits = minor_digits(currency)
    pattern = "#,##0" + ("." + "0" * digits if digits else "")
    return format_decimal(Decimal(minor).scaleb(-digits), format=pattern, locale=speaking)


def date_text(when: date | datetime, locale: str | None = None) -> str:
    """English keeps ISO 8601 ("2026-12-03"), read the same everywhere; French writes "3 déc. 2026"."""
    speaking = locale or current.locale()
    day = when.date() if isinstance(when, datetime) else when
    return day.isoformat() if speaking == ENGLISH else format_date(day, format="medium", locale=speaking)


def read_amount(text: str, currency: str, *, allow_zero: bool = False, locale: str | None = None) -> Money:
    """An amount typed by a person: in French "5,00" and "1 000,50" too, read exactly; refusals say why.

    The canonical "5.00" is read in every language (it is what the API and
    copied figures use); only French adds the decimal comma and spaces between
    groups of three digits, which English refuses with a hint as before.
    """
    speaking = locale or current.locale()
    typed = text.strip()
    if speaking != ENGLISH and "." not in typed and _FRENCH_NUMBER.fullmatch(typed):
        typed = _GROUP_SPACES.sub("", typed).replace(",", ".")
    return parse_amount(typed, currency, allow_zero=allow_zero)


def typed_amount_pattern(locale: str | None = None) -> str:
    """The HTML `pattern` of an amount field: a first check in the browser, by the rule `read_amount` applies."""
    speaking = locale or current.locale()
    return r"[0-9]+(\.[0-9]+)?" if speaking == ENGLISH else "[0-9][0-9 \u00a0\u202f]*([.,][0-9]+)?"


def explain(error: MoneyError, locale: str | None = None) -> str:
    """The refusal's sentence in the reader's language (its English template translated, then filled in)."""
    with current.speaking(locale or current.locale()):
        return current.gettext(error.template) % error.params if error.params else current.gettext(error.template)
