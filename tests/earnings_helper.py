"""A creator's earnings posted as a period close posts them, for the tests where the close is not what is tested."""

from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from settlement import ledger, payout_details, wallets
from settlement.agreement_terms import PaymentDetails
from settlement.withdrawals import creator_key

IBAN = "FR7630006000011234567890189"


async def book_earnings(session: AsyncSession, creator: str, cents: int, now: datetime) -> None:
    """`cents` euro cents from dora's wallet to `creator`'s earnings, in one transaction as the close books it."""
    await ledger.post(session, kind="close", idempotency_key="earned", now=now,
                      lines=[(wallets.wallet_key("dora", "EUR"), -cents), (creator_key(creator, "EUR"), cents)])


async def bank_details_at_once(session: AsyncSession, creator: str, now: datetime) -> None:
    """A bank account for `creator`'s withdrawals, usable at once (no cooling-off)."""
    await payout_details.save(session, creator, PaymentDetails(iban=IBAN, account_holder=f"{creator.title()} Creator"),
                              now=now, cooling_off=timedelta(0))
