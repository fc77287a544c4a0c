"""Amounts as people type them, and exact money arithmetic."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from settlement.money import (
    MAX_MINOR_UNITS,
    CurrencyMismatch,
    Money,
    MoneyError,
    check_currency,
    format_amount,
    minor_digits,
    parse_amount,
)


@pytest.mark.parametrize(("currency", "digits"), [("EUR", 2), ("USD", 2), ("JPY", 0), ("BHD", 3), ("KWD", 3)])
def test_minor_digits_follow_iso_4217(currency: str, digits: int) -> None:
    assert minor_digits(currency) == digits


@pytest.mark.parametrize("currency", ["ZZZ", "eur", "EURO", "", "€", "E1R"])
def test_unknown_currencies_are_refused_not_given_a_default(currency: str) -> None:
    with pytest.raises(MoneyError) as refused:
        minor_digits(currency)
    assert refused.value.code == "unknown_currency"
    with pytest.raises(MoneyError):
        Money(100, currency)
    with pytest.raises(MoneyError):
        parse_amount("1", currency)


@pytest.mark.parametrize(("text", "currency", "minor"), [
    ("5", "EUR", 500),
    ("5.0", "EUR", 500),
    ("5.00", "EUR", 500),
    ("0.50", "EUR", 50),
    ("0.05", "EUR", 5),
    ("05.5", "EUR", 550),
    ("  12.34\n", "EUR", 1234),
    ("1000", "JPY", 1000),
    ("1.234", "BHD", 1234),
    ("10000000000.00", "EUR", MAX_MINOR_UNITS),
])
def test_accepted_forms(text: str, currency: str, minor: int) -> None:
    assert parse_amount(text, currency) == Money(minor, currency)


@pytest.mark.parametrize(("text", "currency", "code"), [
    ("", "EUR", "invalid_amount"),
    ("   ", "EUR", "invalid_amount"),
    (".5", "EUR", "invalid_amount"),
    ("5.", "EUR", "invalid_amount"),
    ("5,00", "EUR", "comma_decimal"),
    ("5,5", "EUR", "comma_decimal"),
    ("1,000", "EUR", "invalid_amount"),
    ("1,000.00", "EUR", "invalid_amount"),
    ("5,00", "JPY", "invalid_amount"),
    ("1 000", "EUR", "invalid_amount"),
    ("1\u00a0000", "EUR", "invalid_amount"),
    ("+5", "EUR", "invalid_amount"),
    ("-5", "EUR", "negative_amount"),
    ("-0", "EUR", "negative_amount"),
    ("\u22125", "EUR", "negative_amount"),
    ("1e3", "EUR", "invalid_amount"),
    ("5E0", "EUR", "invalid_amount"),
    ("nan", "EUR", "invalid_amount"),
    ("NaN", "EUR", "invalid_amount"),
    ("inf", "EUR", "invalid_amount"),
    ("Infinity", "EUR", "invalid_amount"),
    ("\u0665", "EUR", "invalid_amount"),
    ("\u0661.\u0665\u0660", "EUR", "invalid_amount"),
    ("\uff15", "EUR", "invalid_amount"),
    ("5\u00b2", "EUR", "invalid_amount"),
    ("0x10", "EUR", "invalid_amount"),
    ("5_000", "EUR", "invalid_amount"),
    ("€5", "EUR", "invalid_amount"),
    ("5 EUR", "EUR", "invalid_amount"),
    ("5.5.5", "EUR", "invalid_amount"),
    ("5.000", "EUR", "too_many_decimals"),
    ("0.001", "EUR", "too_many_decimals"),
    ("5.0", "JPY", "too_many_decimals"),
    ("1.2345", "BHD", "too_many_decimals"),
    ("0", "EUR", "zero_amount"),
    ("0.00", "EUR", "zero_amount"),
    ("000", "JPY", "zero_amount"),
    ("10000000000.01", "EUR", "amount_too_large"),
    ("1" + "0" * 5000, "EUR", "amount_too_large"),
])
def test_refused_forms_name_their_reason(text: str, currency: str, code: str) -> None:
    with pytest.raises(MoneyError) as refused:
        parse_amount(text, currency)
    assert refused.value.code == code
    assert str(refused.value)


def test_long_leading_zeros_are_only_zeros() -> None:
    assert parse_amount("0" * 5000 + "1", "EUR") == Money(100, "EUR")


def test_comma_decimal_suggests_the_dot() -> None:
    with pytest.raises(MoneyError) as refused:
        parse_amount("5,00", "EUR")
    assert '"5.00"' in str(refused.value)


def test_zero_is_accepted_where_allowed() -> None:
    assert parse_amount("0", "EUR", allow_zero=True) == Money.zero("EUR")
    assert parse_amount("0.00", "EUR", allow_zero=True) == Money(0, "EUR")


@pytest.mark.parametrize(("money", "text"), [
    (Money(500, "EUR"), "5.00"),
    (Money(5, "EUR"), "0.05"),
    (Money(0, "EUR"), "0.00"),
    (Money(123456, "EUR"), "1234.56"),
    (Money(1000, "JPY"), "1000"),
    (Money(1, "BHD"), "0.001"),
    (Money(-250, "EUR"), "-2.50"),
])
def test_format_amount(money: Money, text: str) -> None:
    assert format_amount(money) == text


@given(st.sampled_from(["EUR", "JPY", "BHD", "CLF"]), st.integers(min_value=0, max_value=MAX_MINOR_UNITS))
def test_formatted_amounts_parse_back(currency: str, amount: int) -> None:
    money = Money(amount, currency)
    assert parse_amount(format_amount(money), currency, allow_zero=True) == money


def test_arithmetic_stays_in_one_currency() -> None:
    assert Money(500, "EUR") + Money(25, "EUR") == Money(525, "EUR")
    assert Money(500, "EUR") - Money(525, "EUR") == Money(-25, "EUR")
    assert -Money(5, "EUR") == Money(-5, "EUR")
    with pytest.raises(CurrencyMismatch) as mixed:
        Money(500, "EUR") + Money(500, "USD")
    assert mixed.value.code == "wrong_currency"
    with pytest.raises(CurrencyMismatch):
        Money(500, "EUR") - Money(500, "USD")


@pytest.mark.parametrize("amount", [5.0, "5", True])
def test_amounts_are_integers_only(amount: object) -> None:
    with pytest.raises(TypeError):
        Money(amount, "EUR")  # type: ignore[arg-type]


def test_check_currency() -> None:
    check_currency(Money(5, "EUR"), "EUR")
    with pytest.raises(MoneyError) as refused:
        check_currency(Money(5, "USD"), "EUR")
    assert refused.value.code == "wrong_currency"
    assert "EUR" in str(refused.value) and "USD" in str(refused.value)
