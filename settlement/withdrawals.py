"""Withdrawals: a creator's available money paid out by the operator's bank, each step once.

Asking moves the money from `creator:` (available) to `payable:` in the same
transaction as the row, so it can be neither spent nor asked twice; canceling
moves it back while the operator has not batched it. The operator approves
waiting withdrawals of one currency into a batch, pays it (a SEPA file for
the euro ones with an IBAN, by hand for the rest), and marks it executed:
the money then leaves the books to `payout:bank` or `payout:manual`. A line
the bank refused or sent back returns to the creator's available balance,
with the reason. Every movement is keyed by the withdrawal's public id, so
a step clicked twice moves money once.

Money other instances paid by Payout stays `pending:` until they clear it
(`clearings.py`), so only what is available can be withdrawn.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from common.sql import move_state, rowcount
from settlement import accounts, ledger, topups, wallets
from settlement.explained import Explained
from settlement.ledger import AccountKey
from settlement.models import BATCH_STATES, WITHDRAWAL_STATES, PayoutDetails, Withdrawal, WithdrawalBatch
from settlement.money import Money, format_amount

REQUESTED = WITHDRAWAL_STATES.birth("requested")
CANCEL = WITHDRAWAL_STATES.move("requested", "canceled")
BATCH = WITHDRAWAL_STATES.move("requested", "batched")
PAY = WITHDRAWAL_STATES.move("batched", "paid")
RETURN_BATCHED = WITHDRAWAL_STATES.move("batched", "returned")
RETURN_PAID = WITHDRAWAL_STATES.move("paid", "returned")
APPROVED = BATCH_STATES.birth("approved")
EXECUTE = BATCH_STATES.move("approved", "executed")
#: How a withdrawal is paid: in the batch's SEPA file, or by the operator following the creator's instructions.
SEPA = "sepa"
OTHER = "other"
#: Where paid money goes on the books, by method.
_OUT = {SEPA: "bank", OTHER: "manual"}
SEPA_CURRENCY = "EUR"


class WithdrawalError(Explained):
    """A withdrawal that cannot be asked or moved; `code` is stable, the message says what to do.

    Kept as its English template and values (`settlement.explained`).
    """


def creator_key(username: str, currency: str) -> AccountKey:
    return AccountKey(accounts.CREATOR, username, currency)


def payable_key(username: str, currency: str) -> AccountKey:
    return AccountKey(accounts.PAYABLE, username, currency)


async def available(session: AsyncSession, username: str, currency: str) -> Money:
    return Money(await ledger.balance(session, creator_key(username, currency)), currency)


async def request(session: AsyncSession, username: str, money: Money, *, minimum: Money,
                  now: datetime) -> Withdrawal:
    """Ask for `money` of the creator's available balance; the details in force are copied into the row."""
    details = await session.get(PayoutDetails, username)
    _check_request(details, money, minimum, now)
    assert details is not None
    have = await available(session, username, money.currency)
    if money.amount > have.amount:
        raise WithdrawalError("more_than_available", "You have %(have)s %(currency)s available; money other "
                                                     "instances paid you is pending until they settle.",
                              {"have": format_amount(have), "currency": have.currency})
    method = SEPA if details.iban and money.currency == SEPA_CURRENCY else OTHER
    if method == OTHER and not details.instructions:
        raise WithdrawalError("no_instructions", "An IBAN is paid by SEPA in euros only: add instructions for "
                                                 "%(currency)s to your payout details.", {"currency": money.currency})
    row = Withdrawal(public_id=topups.new_public_id("W"), username=username, amount=money.amount,
                     currency=money.currency, state=REQUESTED, method=method, account_holder=details.account_holder,
                     iban=details.iban if method == SEPA else None, bic=details.bic if method == SEPA else None,
                     instructions=details.instructions if method == OTHER else None, reason="", requested_at=now,
                     updated_at=now)
    session.add(row)
    await session.flush()
    await ledger.post(session, kind="withdrawal", idempotency_key=f"withdrawal:{row.public_id}", now=now,
                      lines=[(creator_key(username, money.currency), -money.amount),
                             (payable_key(username, money.currency), money.amount)], memo=row.public_id)
    return row


def _check_request(details: PayoutDetails | None, money: Money, minimum: Money, now: datetime) -> None:
    if details is None:
        raise WithdrawalError("no_payout_details", "Say where to pay you first: your payout details.")
    if now < details.held_until:
        raise WithdrawalError("details_cooling_off", "Your payout details changed recently: withdrawals wait until "
                                                     "%(until)s UTC.",
                              {"until": f"{details.held_until:%Y-%m-%d %H:%M}"})
    if money.currency == minimum.currency and money.amount < minimum.amount:
        raise WithdrawalError("below_minimum", "The smallest withdrawal is %(least)s %(currency)s.",
                              {"least": format_amount(minimum), "currency": minimum.currency})
    if money.amount <= 0:
        raise WithdrawalError("zero_amount", "A withdrawal must be more than zero.")


async def cancel(session: AsyncSession, withdrawal: Withdrawal, now: datetime) -> bool:
    """The creator takes it back before it is batched: the money available again."""
    if not await move_state(session, withdrawal, CANCEL, updated_at=now):
        return False
    await _back_to_available(session, withdrawal, "withdrawal_canceled", payable_key(withdrawal.username,
                                                                                      withdrawal.currency), now)
    return True


async def batch(session: AsyncSession, currency: str, chosen: Sequence[str] | None, now: datetime) -> WithdrawalBatch:
    """Every waiting withdrawal in `currency` (or those `chosen` by public id) approved into one new batch."""
    query = select(Withdrawal).where(Withdrawal.state == BATCH.source, Withdrawal.currency == currency)
    if chosen is not None:
        query = query.where(Withdrawal.public_id.in_(chosen))
    waiting = list(await session.scalars(query.order_by(Withdrawal.id)))
    if not waiting:
        raise WithdrawalError("nothing_to_batch", "No withdrawal in %(currency)s is waiting for a batch.",
                              {"currency": currency})
    made = WithdrawalBatch(public_id=topups.new_public_id("B"), currency=currency, state=APPROVED, created_at=now)
    session.add(made)
    await session.flush()
    taken = [row for row in waiting if await move_state(session, row, BATCH, batch_id=made.id, updated_at=now)]
    if not taken:
        raise WithdrawalError("nothing_to_batch", "Those withdrawals were batched or canceled meanwhile.")
    return made


async def executed(session: AsyncSession, made: WithdrawalBatch, now: datetime) -> bool:
    """The bank ran the batch: every line still in it is paid, and its money leaves the books."""
    result = await session.execute(update(WithdrawalBatch).where(
        WithdrawalBatch.id == made.id, WithdrawalBatch.state == EXECUTE.source).values(
        state=EXECUTE.target, executed_at=now).execution_options(synchronize_session=False))
    if not rowcount(result):
        return False
    for row in await lines(session, made):
        if await move_state(session, row, PAY, updated_at=now):
            await ledger.post(session, kind="withdrawal_paid", idempotency_key=f"withdrawal-paid:{row.public_id}",
                              now=now, memo=row.public_id,
                              lines=[(payable_key(row.username, row.currency), -row.amount),
                                     (_out_key(row), row.amount)])
    await session.refresh(made)
    return True


async def returned(session: AsyncSession, row: Withdrawal, reason: str, now: datetime) -> bool:
    """A line the bank refused or sent back: the money available to the creator again, with the reason."""
    if not reason.strip():
        raise WithdrawalError("reason_needed", "Say why the line came back: the creator reads it.")
    move = RETURN_PAID if row.state == RETURN_PAID.source else RETURN_BATCHED
    source = _out_key(row) if move is RETURN_PAID else payable_key(row.username, row.currency)
    if not await move_state(session, row, move, reason=reason.strip()[:300], updated_at=now):
        return False
    await _back_to_available(session, row, "withdrawal_returned", source, now)
    return True


async def to_wallet(session: AsyncSession, username: str, money: Money, key: str, now: datetime) -> bool:
    """Move available earnings into the creator's own wallet, to flattr others with; once per `key`."""
    if money.amount <= 0:
        raise WithdrawalError("zero_amount", "Move more than zero.")
    have = await available(session, username, money.currency)
    if money.amount > have.amount:
        raise WithdrawalError("more_than_available", "You have %(have)s %(currency)s available.",
                              {"have": format_amount(have), "currency": have.currency})
    _, created = await ledger.post(session, kind="earnings_to_wallet", idempotency_key=f"to-wallet:{username}:{key}",
                                   now=now, lines=[(creator_key(username, money.currency), -money.amount),
                                                   (wallets.wallet_key(username, money.currency), money.amount)])
    return created


@dataclass(frozen=True)
class Waiting:
    """What the operator has to pay, per currency: asked and not batched, and batched and not yet executed."""

    currency: str
    requested: int
    batched: int


async def waiting_totals(session: AsyncSession) -> list[Waiting]:
    totals: dict[str, list[int]] = {}
    rows = await session.execute(select(Withdrawal.currency, Withdrawal.state, Withdrawal.amount).where(
        Withdrawal.state.in_((REQUESTED, BATCH.target))))
    for currency, state, amount in rows:
        totals.setdefault(currency, [0, 0])[0 if state == REQUESTED else 1] += amount
    return [Waiting(currency, *amounts) for currency, amounts in sorted(totals.items())]


async def of_user(session: AsyncSession, username: str, *, limit: int = 50) -> Sequence[Withdrawal]:
    return (await session.scalars(select(Withdrawal).where(Withdrawal.username == username)
                                  .order_by(Withdrawal.id.desc()).limit(limit))).all()


async def listed(session: AsyncSession, *, state: str | None = None, limit: int = 200) -> Sequence[Withdrawal]:
    query = select(Withdrawal).order_by(Withdrawal.id.desc()).limit(limit)
    return (await session.scalars(query if state is None else query.where(Withdrawal.state == state))).all()


async def by_public_id(session: AsyncSession, public_id: str) -> Withdrawal | None:
    return await session.scalar(select(Withdrawal).where(Withdrawal.public_id == public_id))


async def batch_by_public_id(session: AsyncSession, public_id: str) -> WithdrawalBatch | None:
    return await session.scalar(select(WithdrawalBatch).where(WithdrawalBatch.public_id == public_id))


async def batches(session: AsyncSession, *, limit: int = 50) -> Sequence[WithdrawalBatch]:
    return (await session.scalars(select(WithdrawalBatch).order_by(WithdrawalBatch.id.desc()).limit(limit))).all()


async def lines(session: AsyncSession, made: WithdrawalBatch) -> Sequence[Withdrawal]:
    return (await session.scalars(select(Withdrawal).where(Withdrawal.batch_id == made.id)
                                  .order_by(Withdrawal.id))).all()


def _out_key(row: Withdrawal) -> AccountKey:
    return AccountKey(accounts.PAYOUT, _OUT[row.method], row.currency)


async def _back_to_available(session: AsyncSession, row: Withdrawal, kind: str, source: AccountKey,
                             now: datetime) -> None:
    await ledger.post(session, kind=kind, idempotency_key=f"{kind}:{row.public_id}", now=now, memo=row.public_id,
                      lines=[(source, -row.amount), (creator_key(row.username, row.currency), row.amount)])

