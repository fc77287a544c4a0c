"""Amounts typed into the pages' forms, read the way the reader writes them ("5,00" in French).

The API keeps its one canonical form ("5.00"); a person typing into a page
writes as their language does, and a refusal keeps its sentence translatable.
"""

from server.i18n.formatting import read_amount
from server.refusal import Refusal
from settlement.money import Money, MoneyError


def typed_amount(typed: str, currency: str, *, allow_zero: bool = False) -> Money:
    try:
        return read_amount(typed, currency, allow_zero=allow_zero)
    except MoneyError as refused:
        raise Refusal.of_money(refused) from refused
