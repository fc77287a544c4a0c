"""Top-ups: money a donor pays into their wallet, credited once and only when its provider confirms it.

A top-up is born `awaiting` when the donor starts paying (a card payment, a
bank transfer they are about to make) and moves to `confirmed` when the
provider's word arrives: Stripe's signed webhook, or the operator matching a
received transfer by its reference. Only that move credits the wallet, in the
same database transaction, under the idempotency key `topup:{provider}:{reference}`,
so a webhook delivered twice or a transfer recorded twice credits once. A hand
credit by the operator is born `confirmed`: the operator is its own provider.

The providers themselves live outside this package: `PaymentProvider` is the
one thing settlement asks of them (paying a refund back), and `server/payments`
holds the adapters that talk to Stripe or describe a bank transfer.
"""

import secrets
from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from common.sql import insert_ignoring_duplicates, move_state
from settlement import accounts, ledger, wallets
from settlement.ledger import AccountKey
from settlement.models import TOPUP_STATES, TopUp
from settlement.money import Money, MoneyError

AWAITING = TOPUP_STATES.birth("awaiting")
CONFIRMED_AT_BIRTH = TOPUP_STATES.birth("confirmed")
CONFIRM = TOPUP_STATES.move("awaiting", "confirmed")
CONFIRM_AFTER_FAILURE = TOPUP_STATES.move("failed", "confirmed")
FAIL = TOPUP_STATES.move("awaiting", "failed")
CONFIRMED = CONFIRM.target
FAILED = FAIL.target

#: The operator's hand credit: money received outside Mecene, the operator vouching for it.
MANUAL = "manual"
MAX_REFERENCE = 100
MAX_FAILURE = 300


class PaymentProvider(Protocol):
    """A way money comes in, as settlement needs it: its name on the ledger, and paying a refund back."""

    name: str

    async def refund(self, topup: TopUp, money: Money, key: str) -> str:
        """Pay `money` of `topup` back to the donor; `key` makes a retried call pay once. Returns its reference."""
        ...


def payin_key(provider: str, currency: str) -> AccountKey:
    """What came in through `provider`: negative by that much, the outside world's side of each wallet credit."""
    return AccountKey(accounts.PAYIN, provider, currency)


def new_public_id(prefix: str) -> str:
    """A receipt's name in addresses: unguessable, so a receipt shows only to whoever was given its address."""
    return f"{prefix}{secrets.token_hex(8)}"


async def start(session: AsyncSession, *, username: str, provider: str, money: Money, reference: str | None,
                now: datetime) -> TopUp:
    """A top-up awaiting its provider's confirmation; nothing is credited yet."""
    _refuse_non_positive(money)
    topup = TopUp(public_id=new_public_id("T"), username=username, provider=provider, amount=money.amount,
                  currency=money.currency, state=AWAITING, reference=reference, refunded=0, created_at=now)
    session.add(topup)
    await session.flush()
    return topup


async def set_reference(session: AsyncSession, topup: TopUp, reference: str) -> None:
    """The provider's own id of the payment, once it exists (Stripe's PaymentIntent is made after the row).

    A donor whose card failed may try another, which is another payment: the
    newest names the top-up until one is confirmed, and then it stays.
    """
    await session.execute(update(TopUp).where(TopUp.id == topup.id, TopUp.state != CONFIRMED)
                          .values(reference=reference).execution_options(synchronize_session=False))
    await session.refresh(topup)


async def by_public_id(session: AsyncSession, public_id: str) -> TopUp | None:
    return await session.scalar(select(TopUp).where(TopUp.public_id == public_id))


async def by_reference(session: AsyncSession, provider: str, reference: str) -> TopUp | None:
    return await session.scalar(select(TopUp).where(TopUp.provider == provider, TopUp.reference == reference))


async def confirm(session: AsyncSession, topup: TopUp, now: datetime, *, received: Money | None = None) -> bool:
    """Credit the wallet with the top-up, once; False when it was confirmed already.

    `received` is what the provider says arrived, when it may differ from what
    the donor meant to pay (a bank transfer of another amount): the wallet is
    credited with what arrived, and the top-up records that.
    """
    if topup.reference is None:
        raise ValueError("a top-up is confirmed by its provider's reference, which this one lacks")
    move = CONFIRM_AFTER_FAILURE if topup.state == FAILED else CONFIRM
    amount = topup.amount if received is None else received.amount
    if received is not None:
        _refuse_non_positive(received)
        if received.currency != topup.currency:
            raise MoneyError("currency_mismatch", "This top-up is in %(ours)s, not %(theirs)s.",
                             {"ours": topup.currency, "theirs": received.currency})
    if not await move_state(session, topup, move, amount=amount, confirmed_at=now, failure=None):
        return False
    await ledger.post(session, kind="topup", idempotency_key=f"topup:{topup.provider}:{topup.reference}",
                      lines=[(wallets.wallet_key(topup.username, topup.currency), amount),
                             (payin_key(topup.provider, topup.currency), -amount)],
                      now=now, memo=topup.public_id)
    return True


async def fail(session: AsyncSession, topup: TopUp, failure: str) -> bool:
    """The provider refused the payment; a later success of the same payment may still confirm it."""
    return await move_state(session, topup, FAIL, failure=failure[:MAX_FAILURE])


async def credit_by_hand(session: AsyncSession, *, username: str, money: Money, reference: str,
                         now: datetime) -> tuple[TopUp, bool]:
    """The operator's hand credit, once per reference; returns the top-up and whether this call made it."""
    _refuse_non_positive(money)
    if not username or not reference:
        raise ValueError("a hand credit needs a username and a reference")
    values = {"public_id": new_public_id("T"), "username": username, "provider": MANUAL, "amount": money.amount,
              "currency": money.currency, "state": CONFIRMED_AT_BIRTH, "reference": reference, "refunded": 0,
              "created_at": now, "confirmed_at": now}
    created = await insert_ignoring_duplicates(session, TopUp.__table__, values)
    topup = await by_reference(session, MANUAL, reference)
    assert topup is not None
    if created:
        await ledger.post(session, kind="topup", idempotency_key=f"topup:{MANUAL}:{reference}",
                          lines=[(wallets.wallet_key(username, money.currency), money.amount),
                                 (payin_key(MANUAL, money.currency), -money.amount)],
                          now=now, memo=topup.public_id)
    return topup, created


async def of_user(session: AsyncSession, username: str, *, limit: int = 50) -> Sequence[TopUp]:
    """The donor's top-ups, the newest first."""
    return (await session.scalars(select(TopUp).where(TopUp.username == username)
                                  .order_by(TopUp.id.desc()).limit(limit))).all()


async def listed(session: AsyncSession, *, state: str | None = None, limit: int = 200) -> Sequence[TopUp]:
    """Every top-up for the operator, the newest first, optionally in one state."""
    query = select(TopUp).order_by(TopUp.id.desc()).limit(limit)
    if state is not None:
        query = query.where(TopUp.state == state)
    return (await session.scalars(query)).all()


async def count_awaiting(session: AsyncSession) -> int:
    return int(await session.scalar(select(func.count(TopUp.id)).where(TopUp.state == AWAITING)) or 0)


def _refuse_non_positive(money: Money) -> None:
    if money.amount < 0:
        raise MoneyError("negative_amount", "A top-up cannot be negative.")
    if money.amount == 0:
        raise MoneyError("zero_amount", "A top-up must be more than zero.")
