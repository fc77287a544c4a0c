"""Crediting a donor's wallet by hand: the operator received the money outside Mecene (a transfer, cash).

One function for the admin API, the operator's top-up page and
`mecene wallet topup`, so all three refuse the same input and credit a
reference once however often it is sent.
"""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from server.i18n.current import N_
from server.mail import notices as mail_notices
from server.models import User
from server.storable import is_storable
from settlement import topups, wallets
from settlement.explained import Explained
from settlement.models import Transaction
from settlement.money import Money

MAX_REFERENCE = 100


class HandCreditRefused(Explained):
    """Why a credit by hand was refused, as an English template and its values, so a page can translate it."""

    def __init__(self, template: str, params: dict[str, str | int] | None = None) -> None:
        super().__init__("hand_credit_refused", template, params)


class UnknownAccount(HandCreditRefused, LookupError):
    """No local account of that name; the message names it for the operator."""


class InvalidReference(HandCreditRefused, ValueError):
    pass


@dataclass(frozen=True)
class TopUp:
    transaction_id: int
    reference: str
    credited: Money
    wallet: Money
    #: False when this reference had already been credited: nothing changed.
    created: bool
    #: The donor's receipt: /wallet/receipts/{receipt}.
    receipt: str


async def top_up(session: AsyncSession, username: str, credit: Money, reference: str, now: datetime) -> TopUp:
    """Credit `credit` to the wallet of `username` once per `reference`, in the caller's transaction."""
    reference = reference.strip()
    if not reference or len(reference) > MAX_REFERENCE:
        raise InvalidReference(N_("A reference is 1 to %(most)s characters."), {"most": MAX_REFERENCE})
    if not is_storable(reference):
        raise InvalidReference(N_("A reference may not hold a NUL character or a lone surrogate."))
    if not is_storable(username) or await session.scalar(select(User.id).where(User.username == username)) is None:
        raise UnknownAccount(N_("No account %(username)s here."), {"username": repr(username)})
    topup, created = await topups.credit_by_hand(session, username=username, money=credit, reference=reference,
                                                 now=now)
    if created:
        await mail_notices.topup_confirmed(session, topup, now)
    transaction_id = await session.scalar(select(Transaction.id).where(Transaction.memo == topup.public_id))
    balance = await wallets.wallet_balance(session, username, credit.currency)
    return TopUp(int(transaction_id or 0), reference, credit, balance, created, topup.public_id)
