"""Refunds: a donor's unspent wallet money paid back through the provider that took it.

A donor asks (`ask`); the operator refunds one of the donor's top-ups, whole
or in part (`record`). The wallet is debited in the same transaction as the
refund row, under the key `refund:{public_id}`, so the debit happens once;
the provider is asked to pay with that same public id as its idempotency key,
so a refund retried after a crash pays once too. A refund never takes more
than the wallet holds nor more than the top-up brought in, net of its earlier
refunds: money already given to creators cannot come back this way.
"""

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from common.sql import move_state, rowcount
from settlement import ledger, topups, wallets
from settlement.explained import Explained
from settlement.models import REFUND_REQUEST_STATES, REFUND_STATES, Refund, RefundRequest, TopUp
from settlement.money import Money, format_amount

SENDING = REFUND_STATES.birth("sending")
MADE = REFUND_STATES.move("sending", "made")
FAILED = REFUND_STATES.move("sending", "failed")
ASKED = REFUND_REQUEST_STATES.birth("asked")
REFUNDED = REFUND_REQUEST_STATES.move("asked", "refunded")
DECLINED = REFUND_REQUEST_STATES.move("asked", "declined")

MAX_NOTE = 500


class RefundError(Explained):
    """A refund or a request for one that cannot be made; `code` is stable, the message says what to do.

    Kept as its English template and values (`settlement.explained`).
    """


async def ask(session: AsyncSession, username: str, currency: str, note: str, now: datetime) -> RefundRequest:
    """The donor asks for their unspent money back; one request at a time per currency."""
    if await open_request(session, username, currency) is not None:
        raise RefundError("already_asked", "You have already asked for a refund; the operator will answer it.")
    if (await wallets.wallet_balance(session, username, currency)).amount <= 0:
        raise RefundError("nothing_to_refund", "Your wallet holds nothing to refund.")
    request = RefundRequest(username=username, currency=currency, state=ASKED, note=note[:MAX_NOTE], answer="",
                            asked_at=now)
    session.add(request)
    await session.flush()
    return request


async def open_request(session: AsyncSession, username: str, currency: str) -> RefundRequest | None:
    return await session.scalar(select(RefundRequest).where(
        RefundRequest.username == username, RefundRequest.currency == currency, RefundRequest.state == ASKED))


async def open_requests(session: AsyncSession) -> Sequence[RefundRequest]:
    return (await session.scalars(select(RefundRequest).where(RefundRequest.state == ASKED)
                                  .order_by(RefundRequest.id))).all()


async def refundable(session: AsyncSession, topup: TopUp) -> Money:
    """What may still go back of `topup`: what it brought in, net of refunds, and no more than the wallet holds."""
    if topup.state != topups.CONFIRMED:
        return Money.zero(topup.currency)
    wallet = await wallets.wallet_balance(session, topup.username, topup.currency)
    return Money(max(0, min(topup.amount - topup.refunded, wallet.amount)), topup.currency)


async def record(session: AsyncSession, topup: TopUp, money: Money, now: datetime) -> Refund:
    """Debit the wallet and write the refund, before the provider is asked to pay it (with its public id as key)."""
    if money.currency != topup.currency:
        raise RefundError("currency_mismatch", "This top-up is in %(ours)s, not %(theirs)s.",
                          {"ours": topup.currency, "theirs": money.currency})
    if money.amount <= 0:
        raise RefundError("zero_amount", "A refund must be more than zero.")
    most = await refundable(session, topup)
    if money.amount > most.amount:
        raise RefundError("more_than_refundable", "At most %(most)s %(currency)s of this top-up can be refunded "
                                                  "(what it brought in, net of refunds, and no more than the wallet "
                                                  "holds).", {"most": format_amount(most), "currency": most.currency})
    claimed = await session.execute(update(TopUp).where(TopUp.id == topup.id, TopUp.refunded == topup.refunded)
                                    .values(refunded=TopUp.refunded + money.amount)
                                    .execution_options(synchronize_session=False))
    if not rowcount(claimed):
        raise RefundError("busy", "Another refund of this top-up was being made at the same moment; try again.")
    refund = Refund(public_id=topups.new_public_id("R"), topup_id=topup.id, username=topup.username,
                    amount=money.amount, currency=money.currency, state=SENDING, provider_reference="", failure="",
                    created_at=now)
    session.add(refund)
    await session.flush()
    await ledger.post(session, kind="refund", idempotency_key=f"refund:{refund.public_id}",
                      lines=[(wallets.wallet_key(topup.username, money.currency), -money.amount),
                             (topups.payin_key(topup.provider, money.currency), money.amount)],
                      now=now, memo=refund.public_id)
    await session.refresh(topup)
    return refund


async def made(session: AsyncSession, refund: Refund, reference: str) -> bool:
    """The provider paid it: its reference kept for the receipt."""
    return await move_state(session, refund, MADE, provider_reference=reference)


async def failed(session: AsyncSession, refund: Refund, failure: str, now: datetime) -> bool:
    """The provider refused it: the wallet and the top-up get the amount back, once."""
    if not await move_state(session, refund, FAILED, failure=failure[:300]):
        return False
    topup = await session.get_one(TopUp, refund.topup_id)
    await session.execute(update(TopUp).where(TopUp.id == topup.id).values(refunded=TopUp.refunded - refund.amount)
                          .execution_options(synchronize_session=False))
    await ledger.post(session, kind="refund_failed", idempotency_key=f"refund-failed:{refund.public_id}",
                      lines=[(wallets.wallet_key(refund.username, refund.currency), refund.amount),
                             (topups.payin_key(topup.provider, refund.currency), -refund.amount)],
                      now=now, memo=refund.public_id)
    return True


async def unsent(session: AsyncSession) -> Sequence[Refund]:
    """Refunds written but never answered by their provider: a process stopped between the two."""
    return (await session.scalars(select(Refund).where(Refund.state == SENDING).order_by(Refund.id))).all()


async def answer_request(session: AsyncSession, username: str, currency: str, *, refunded: bool, answer: str,
                         now: datetime) -> bool:
    """Close the donor's open request, if any: refunded, or declined with the operator's reason."""
    move = REFUNDED if refunded else DECLINED
    result = await session.execute(update(RefundRequest).where(
        RefundRequest.username == username, RefundRequest.currency == currency, RefundRequest.state == move.source)
        .values(state=move.target, answer=answer[:MAX_NOTE], answered_at=now).execution_options(
            synchronize_session=False))
    return bool(rowcount(result))


async def of_topup(session: AsyncSession, topup_id: int) -> Sequence[Refund]:
    return (await session.scalars(select(Refund).where(Refund.topup_id == topup_id).order_by(Refund.id))).all()


async def of_user(session: AsyncSession, username: str, *, limit: int = 50) -> Sequence[Refund]:
    return (await session.scalars(select(Refund).where(Refund.username == username)
                                  .order_by(Refund.id.desc()).limit(limit))).all()


async def by_public_id(session: AsyncSession, public_id: str) -> Refund | None:
    return await session.scalar(select(Refund).where(Refund.public_id == public_id))
