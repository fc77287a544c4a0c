"""One side's terms of an agreement: a credit limit of the currency and where to be paid, checked as typed or sent."""

import pytest

from settlement.agreement_terms import PaymentDetails, TermsError, payment_details, terms
from settlement.money import Money

IBAN = "DE89370400440532013000"


def test_an_iban_is_kept_compact_and_described_in_groups() -> None:
    found = terms("EUR", "500.00", iban=" de89 3704 0044 0532 0130 00 ", account_holder=" Mecene A e.V. ")
    assert found.credit_limit == Money(50000, "EUR")
    assert found.payment == PaymentDetails(iban=IBAN, account_holder="Mecene A e.V.")
    assert found.payment.describe() == "IBAN DE89 3704 0044 0532 0130 00 (Mecene A e.V.)"


def test_a_limit_may_be_zero_and_follows_the_currency_digits() -> None:
    assert terms("EUR", "0", instructions="cash").credit_limit == Money(0, "EUR")
    assert terms("JPY", "5000", instructions="cash").credit_limit == Money(5000, "JPY")
    assert terms("BHD", "1.250", instructions="cash").credit_limit == Money(1250, "BHD")


def test_instructions_keep_their_lines_whatever_the_line_ends() -> None:
    found = payment_details(iban="", account_holder="  ", instructions="PayPal\r\nreference: host\n")
    assert found == PaymentDetails(instructions="PayPal\nreference: host")
    assert found.describe() == "PayPal reference: host"


@pytest.mark.parametrize(("currency", "limit", "details", "code"), [
    ("EUR", "5,00", {"instructions": "x"}, "invalid_credit_limit"),
    ("EUR", "-5", {"instructions": "x"}, "invalid_credit_limit"),
    ("EUR", "0.001", {"instructions": "x"}, "invalid_credit_limit"),
    ("EUR", "10000000000.01", {"instructions": "x"}, "invalid_credit_limit"),
    ("EURO", "5", {"instructions": "x"}, "invalid_currency"),
    ("XYZ", "5", {"instructions": "x"}, "invalid_currency"),
    ("EUR", "5", {"iban": "DE89370400440532013001", "account_holder": "A"}, "invalid_iban"),
    ("EUR", "5", {"iban": "DE89-3704-0044-0532-0130-00", "account_holder": "A"}, "invalid_iban"),
    ("EUR", "5", {"iban": "DE８９370400440532013000", "account_holder": "A"}, "invalid_iban"),
    ("EUR", "5", {"iban": IBAN + "0" * 40, "account_holder": "A"}, "invalid_iban"),
    ("EUR", "5", {"iban": IBAN}, "invalid_payment_details"),
    ("EUR", "5", {"account_holder": "A"}, "invalid_payment_details"),
    ("EUR", "5", {}, "invalid_payment_details"),
    ("EUR", "5", {"iban": IBAN, "account_holder": "A", "instructions": "x"}, "invalid_payment_details"),
    ("EUR", "5", {"iban": IBAN, "account_holder": "A" * 71}, "invalid_payment_details"),
    ("EUR", "5", {"iban": IBAN, "account_holder": "A\nB"}, "invalid_payment_details"),
    ("EUR", "5", {"iban": IBAN, "account_holder": "A\x00"}, "invalid_payment_details"),
    ("EUR", "5", {"instructions": "x" * 1001}, "invalid_payment_details"),
    ("EUR", "5", {"instructions": "pay\x07me"}, "invalid_payment_details"),
    ("EUR", "5", {"instructions": "pay \ud800"}, "invalid_payment_details"),
])
def test_terms_that_cannot_be_agreed_to_are_refused_with_a_code(currency: str, limit: str,
                                                                 details: dict[str, str], code: str) -> None:
    with pytest.raises(TermsError) as refused:
        terms(currency, limit, **details)
    assert refused.value.code == code and str(refused.value)
