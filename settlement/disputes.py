"""Disputes (chargebacks): the disputed amount leaves the donor's wallet at once and comes back if it is won.

The provider has already taken the money back from us when it opens a
dispute, so the wallet is debited in full even if that takes it below zero:
a negative wallet spends nothing at the next close (`allocation`), until a
top-up or a won dispute brings it back. Each opening and each win is one
ledger transaction keyed by the provider's dispute id, so a repeated event
moves nothing.
"""

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from common.sql import insert_ignoring_duplicates, move_state
from settlement import ledger, topups, wallets
from settlement.models import DISPUTE_STATES, Dispute, TopUp
from settlement.money import Money

OPEN = DISPUTE_STATES.birth("open")
WON = DISPUTE_STATES.move("open", "won")
LOST = DISPUTE_STATES.move("open", "lost")


async def open_dispute(session: AsyncSession, topup: TopUp, *, provider_reference: str, money: Money, reason: str,
                       now: datetime) -> Dispute | None:
    """Record the dispute and debit the wallet; None when this dispute was recorded already."""
    if money.currency != topup.currency or money.amount <= 0:
        raise ValueError(f"a dispute of {money} on a top-up in {topup.currency}")
    values = {"public_id": topups.new_public_id("D"), "topup_id": topup.id, "username": topup.username,
              "provider": topup.provider, "provider_reference": provider_reference, "amount": money.amount,
              "currency": money.currency, "state": OPEN, "reason": reason[:64], "opened_at": now}
    if not await insert_ignoring_duplicates(session, Dispute.__table__, values):
        return None
    dispute = await by_reference(session, topup.provider, provider_reference)
    assert dispute is not None
    await ledger.post(session, kind="dispute", idempotency_key=f"dispute:{topup.provider}:{provider_reference}",
                      lines=[(wallets.wallet_key(topup.username, money.currency), -money.amount),
                             (topups.payin_key(topup.provider, money.currency), money.amount)],
                      now=now, memo=dispute.public_id)
    return dispute


async def close(session: AsyncSession, dispute: Dispute, *, won: bool, now: datetime) -> bool:
    """Won: the wallet gets the amount back. Lost: the debit stays. False when it was closed already."""
    if not await move_state(session, dispute, WON if won else LOST, closed_at=now):
        return False
    if won:
        await ledger.post(session, kind="dispute_won", idempotency_key=f"dispute-won:{dispute.provider}:"
                                                                       f"{dispute.provider_reference}",
                          lines=[(wallets.wallet_key(dispute.username, dispute.currency), dispute.amount),
                                 (topups.payin_key(dispute.provider, dispute.currency), -dispute.amount)],
                          now=now, memo=dispute.public_id)
    return True


async def by_reference(session: AsyncSession, provider: str, provider_reference: str) -> Dispute | None:
    return await session.scalar(select(Dispute).where(Dispute.provider == provider,
                                                      Dispute.provider_reference == provider_reference))


async def by_public_id(session: AsyncSession, public_id: str) -> Dispute | None:
    return await session.scalar(select(Dispute).where(Dispute.public_id == public_id))


async def still_open(session: AsyncSession) -> Sequence[Dispute]:
    return (await session.scalars(select(Dispute).where(Dispute.state == OPEN).order_by(Dispute.id))).all()


async def of_user(session: AsyncSession, username: str, *, limit: int = 50) -> Sequence[Dispute]:
    return (await session.scalars(select(Dispute).where(Dispute.username == username)
                                  .order_by(Dispute.id.desc()).limit(limit))).all()
