"""The emails money events send, each queued in the transaction that books the event.

Called by the services that confirm top-ups, make refunds, pay or return
withdrawals and change payout details, after the books have moved: if the
transaction rolls back, no email was queued; if it commits, the email is in
the outbox, keyed by the event so that it is never queued twice.
"""

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from server.i18n.current import N_
from server.mail import kinds, outbox
from server.mail.outbox import amount
from settlement.models import Refund, TopUp, Withdrawal

#: How each way of paying is named in a receipt: its English name, which the receipt translates for its reader.
PROVIDERS = {"stripe": N_("card (Stripe)"), "bank": N_("bank transfer"), "manual": N_("the operator, by hand")}


def when(now: datetime) -> str:
    return f"{now:%Y-%m-%d %H:%M} UTC"


async def topup_confirmed(session: AsyncSession, topup: TopUp, now: datetime) -> bool:
    return await outbox.to_user(session, topup.username, kinds.TOPUP_RECEIPT, f"receipt:{topup.public_id}", {
        "username": topup.username, "receipt": topup.public_id, "amount": amount(topup.amount, topup.currency),
        "provider": PROVIDERS.get(topup.provider, topup.provider), "reference": topup.reference or "",
        "at": when(now)}, now)


async def refund_made(session: AsyncSession, refund: Refund, topup: TopUp, now: datetime) -> bool:
    return await outbox.to_user(session, refund.username, kinds.REFUND_RECEIPT, f"receipt:{refund.public_id}", {
        "username": refund.username, "receipt": refund.public_id, "topup": topup.public_id,
        "amount": amount(refund.amount, refund.currency), "at": when(now)}, now)


async def withdrawal_paid(session: AsyncSession, row: Withdrawal, now: datetime) -> bool:
    return await outbox.to_user(session, row.username, kinds.WITHDRAWAL_PAID, f"withdrawal-paid:{row.public_id}", {
        "username": row.username, "withdrawal": row.public_id, "amount": amount(row.amount, row.currency),
        **_account(row), "at": when(now)}, now)


async def withdrawal_returned(session: AsyncSession, row: Withdrawal, reason: str, now: datetime) -> bool:
    return await outbox.to_user(session, row.username, kinds.WITHDRAWAL_RETURNED,
                                f"withdrawal-returned:{row.public_id}", {
        "username": row.username, "withdrawal": row.public_id, "amount": amount(row.amount, row.currency),
        "reason": reason.strip(), "at": when(now)}, now)


async def payout_details_changed(session: AsyncSession, username: str, held_until: datetime,
                                 now: datetime) -> bool:
    """Told every time, so that someone who took over a session cannot redirect the money unnoticed."""
    return await outbox.to_user(session, username, kinds.PAYOUT_DETAILS, f"payout-details:{username}:{now.isoformat()}",
                                {"username": username, "at": when(now), "held_until": when(held_until)}, now)


def _account(row: Withdrawal) -> dict[str, str]:
    """The account paid, as a person recognises it without the whole number in an email: its last four digits.

    Kept as its parts, so that the email names it in its reader's language.
    """
    return {"holder": row.account_holder or "", "iban_end": row.iban[-4:] if row.iban else ""}
