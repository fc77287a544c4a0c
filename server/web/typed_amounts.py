"""Amounts typed into the pages' forms, read the way the reader writes them ("5,00" in French).

The API keeps its one canonical form ("5.00"); a person typing into a page
writes as their language does, and a refusal keeps its sentence translatable.
"""

from server.i18n.formatting import read_amount
from server.refusal import Refusal
from settlement.money import Money, MoneyError, format_amount


def typed_amount(typed: str, currency: str, *, allow_zero: bool = False) -> Money:
    try:
        return read_amount(typed, currency, allow_zero=allow_zero)
    except MoneyError as refused:
        raise Refusal.of(refused) from refused


def canonical(typed: str, currency: str, *, allow_zero: bool = False) -> str:
    """What a service shared with the API and the CLI reads ("5.00"), from what the reader typed ("5,00").

    An amount the reader's language reads goes on in the canonical form, the
    same money; anything else goes on as typed, for the service to refuse in
    its own words, so a page accepts all the API does and more.
    """
    try:
        return format_amount(read_amount(typed, currency, allow_zero=allow_zero))
    except MoneyError:
        return typed
