"""What a Jinja2 environment needs to write in the reader's language: gettext, amounts, dates.

Shared by the pages and the emails, so both say a thing with the same words
and the same figures. Templates use `{% trans %}`/`_()` for text,
`value|amount(currency)` for money (minor units, or a `Money`), `value|figure(currency)`
where the currency is said once beside it (a column's heading), and
`when|day` for dates; `locale()` names the language being written and
`amount_pattern()` is the `pattern` of a field where an amount is typed.
"""

from datetime import date, datetime

import jinja2

from server.i18n import current
from server.i18n.formatting import amount_text, date_text, figure, typed_amount_pattern
from server.i18n.locales import NAMES, SUPPORTED
from settlement.money import Money


def speak(environment: jinja2.Environment) -> None:
    """`{% trans %}` blocks are trimmed (`babel.cfg` says the same), so a line break in a template is no message."""
    environment.policies["ext.i18n.trimmed"] = True
    environment.install_gettext_callables(  # type: ignore[attr-defined]  # added by jinja2.ext.i18n
        current.gettext, current.ngettext, newstyle=True, pgettext=current.pgettext, npgettext=current.npgettext)
    environment.filters["amount"] = _amount
    environment.filters["day"] = _day
    environment.filters["figure"] = figure
    environment.globals["locale"] = current.locale
    environment.globals["amount_pattern"] = typed_amount_pattern
    environment.globals["languages"] = [(code, NAMES[code]) for code in SUPPORTED]


def _amount(value: Money | int, currency: str | None = None) -> str:
    if isinstance(value, Money):
        return amount_text(value)
    if currency is None:
        raise ValueError("an amount in minor units needs its currency")
    return amount_text(Money(int(value), currency))


def _day(when: date | datetime | None) -> str:
    return "" if when is None else date_text(when)
