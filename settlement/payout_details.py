"""Where a creator is paid: an IBAN with its holder (paid by SEPA in euros), or instructions for the operator.

The same checks as an agreement's payment details (`agreement_terms`): the
IBAN's country, length and check digits, and its BIC derived where the bank
is known. Every change holds withdrawals for the cooling-off time the
operator set, so a session stolen for a moment cannot send money elsewhere.
"""

from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from common.sql import upsert
from settlement.agreement_terms import PaymentDetails
from settlement.models import PayoutDetails


async def save(session: AsyncSession, username: str, details: PaymentDetails, *, now: datetime,
               cooling_off: timedelta) -> PayoutDetails:
    values = {"username": username, "account_holder": details.account_holder or "", "iban": details.iban,
              "bic": bic_of(details.iban), "instructions": details.instructions, "changed_at": now,
              "held_until": now + cooling_off}
    await upsert(session, PayoutDetails.__table__, values, key="username")
    saved = await session.get(PayoutDetails, username, populate_existing=True)
    assert saved is not None
    return saved


async def of(session: AsyncSession, username: str) -> PayoutDetails | None:
    return await session.get(PayoutDetails, username, populate_existing=True)


def bic_of(iban: str | None) -> str | None:
    """The bank's BIC, where schwifty's registry knows the bank of this IBAN; a bank file may do without it."""
    if iban is None:
        return None
    from schwifty import IBAN

    found = IBAN(iban).bic
    return None if found is None else str(found)
