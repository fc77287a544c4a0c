"""An agreement's terms, as each side states its own: a credit limit and where it wants to be paid.

The credit limit is the most a side lets the other owe it, in minor units of
the agreement's currency; zero is a limit too (the peer may never owe us
anything). Where to be paid is an IBAN with the account holder's name, the
IBAN checked (country, length, checksum) and kept in its compact form, or
free-text instructions for any other way (another bank system, a payment
service). The same checks apply to what our operator types and to what a peer
sends, so a peer's terms are never stored unread.

schwifty, which checks IBANs, is imported when one is first read: its import
costs tens of milliseconds that every `mecene` command would otherwise pay, as
the inbox handlers import this module.
"""

import unicodedata
from dataclasses import dataclass

from settlement.explained import Explained
from settlement.money import Money, MoneyError, minor_digits, parse_amount

#: The columns that keep them; SEPA allows 70 characters for a name.
IBAN_MAX = 34
HOLDER_MAX = 70
INSTRUCTIONS_MAX = 1000


class TermsError(Explained):
    """Terms that cannot be agreed to as stated; `code` is stable, the message is for the person who typed them.

    Kept as its English template and values (`settlement.explained`).
    """


@dataclass(frozen=True)
class PaymentDetails:
    """An IBAN and its holder, or instructions: exactly one of the two."""

    iban: str | None = None
    account_holder: str | None = None
    instructions: str | None = None

    def describe(self) -> str:
        """One line for a listing: the IBAN in groups of four, as printed on a bank statement."""
        if self.iban is None:
            return " ".join((self.instructions or "").split())
        from schwifty import IBAN

        return f"IBAN {IBAN(self.iban).formatted} ({self.account_holder})"


@dataclass(frozen=True)
class Terms:
    credit_limit: Money
    payment: PaymentDetails


def terms(currency: str, credit_limit: str, *, iban: str | None = None, account_holder: str | None = None,
          instructions: str | None = None) -> Terms:
    """One side's terms from text, typed or received; `TermsError` names the first thing wrong."""
    limit = checked_credit_limit(credit_limit, checked_currency(currency))
    return Terms(limit, payment_details(iban=iban, account_holder=account_holder, instructions=instructions))


def checked_currency(code: str) -> str:
    try:
        minor_digits(code)
    except MoneyError as exc:
        raise TermsError("invalid_currency", exc.template, exc.params) from None
    return code


def checked_credit_limit(text: str, currency: str) -> Money:
    """An amount of the currency, zero allowed: a side may refuse to let the other owe it anything."""
    try:
        return parse_amount(text, currency, allow_zero=True)
    except MoneyError as exc:
        raise TermsError("invalid_credit_limit", exc.template, exc.params) from None


def payment_details(*, iban: str | None, account_holder: str | None, instructions: str | None) -> PaymentDetails:
    """Blank text counts as not given, as a form's empty field does."""
    iban, account_holder, instructions = (_given(text) for text in (iban, account_holder, instructions))
    if instructions is not None and (iban is not None or account_holder is not None):
        raise TermsError("invalid_payment_details", "Give either an IBAN with its account holder, or instructions, "
                                                    "not both.")
    if instructions is not None:
        return PaymentDetails(instructions=_instructions(instructions))
    if iban is None or account_holder is None:
        raise TermsError("invalid_payment_details", "Say where to be paid: an IBAN with its account holder's name, "
                                                    "or instructions.")
    return PaymentDetails(iban=_iban(iban), account_holder=_holder(account_holder))


def _given(text: str | None) -> str | None:
    stripped = None if text is None else text.strip()
    return stripped or None


def _iban(text: str) -> str:
    """Spaces are how people write one; anything else that is not a letter or a digit is refused before schwifty."""
    compact = text.replace(" ", "").upper()
    if not compact.isascii() or not compact.isalnum() or len(compact) > IBAN_MAX:
        raise _not_an_iban(text)
    from schwifty import IBAN
    from schwifty.exceptions import SchwiftyException

    try:
        return IBAN(compact).compact
    except SchwiftyException:
        raise _not_an_iban(text) from None


def _not_an_iban(text: str) -> TermsError:
    return TermsError("invalid_iban", "%(typed)s is not a valid IBAN (country, length and check digits are checked).",
                      {"typed": repr(text[:IBAN_MAX + 10])})


def _holder(text: str) -> str:
    if len(text) > HOLDER_MAX or _has_controls(text):
        raise TermsError("invalid_payment_details", "The account holder is one line of at most %(most)s characters.",
                         {"most": HOLDER_MAX})
    return text


def _instructions(text: str) -> str:
    """Lines kept, as a textarea sends them (CR LF) or a terminal types them."""
    lines = text.replace("\r\n", "\n")
    if len(lines) > INSTRUCTIONS_MAX or _has_controls(lines.replace("\n", "")):
        raise TermsError("invalid_payment_details", "Payment instructions are at most %(most)s characters, without "
                                                    "control characters.", {"most": INSTRUCTIONS_MAX})
    return lines


def _has_controls(text: str) -> bool:
    """Control characters, NUL among them, and lone surrogates: neither database stores both alike."""
    return any(unicodedata.category(character) in ("Cc", "Cs") for character in text)
