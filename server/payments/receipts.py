"""Receipts: what a donor can show for each top-up, refund and dispute, and their wallet's history of them.

A receipt is named by its public id (`T…` a top-up, `R…` a refund, `D…` a
dispute), which is unguessable: pages show a receipt only to its donor, and the
operator sees them all on the operator's page.
"""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from settlement import disputes, refunds, topups
from settlement.models import Dispute, Refund, TopUp
from settlement.money import Money

TOPUP = "topup"
REFUND = "refund"
DISPUTE = "dispute"
#: How each provider is named to donors.
PROVIDER_NAMES = {"stripe": "card (Stripe)", "bank": "bank transfer", "manual": "credited by the operator"}


@dataclass(frozen=True)
class Receipt:
    kind: str
    public_id: str
    username: str
    #: Signed as the wallet sees it: a top-up adds, a refund or a dispute takes away.
    money: Money
    provider: str
    reference: str
    state: str
    at: datetime
    #: The top-up a refund or a dispute is about.
    topup_id: str = ""
    note: str = ""

    @property
    def provider_name(self) -> str:
        return PROVIDER_NAMES.get(self.provider, self.provider)


async def receipt(session: AsyncSession, public_id: str) -> Receipt | None:
    """The receipt `public_id` names, whichever kind it is."""
    if public_id.startswith("T"):
        topup = await topups.by_public_id(session, public_id)
        return None if topup is None else of_topup(topup)
    if public_id.startswith("R"):
        refund = await refunds.by_public_id(session, public_id)
        return None if refund is None else of_refund(refund, await session.get_one(TopUp, refund.topup_id))
    if public_id.startswith("D"):
        dispute = await disputes.by_public_id(session, public_id)
        return None if dispute is None else of_dispute(dispute, await session.get_one(TopUp, dispute.topup_id))
    return None


async def history(session: AsyncSession, username: str, *, limit: int = 50) -> list[Receipt]:
    """The donor's top-ups, refunds and disputes, the newest first."""
    paid = await topups.of_user(session, username, limit=limit)
    by_id = {topup.id: topup for topup in paid}
    found = [of_topup(topup) for topup in paid]
    for refund in await refunds.of_user(session, username, limit=limit):
        found.append(of_refund(refund, await _topup(session, by_id, refund.topup_id)))
    for dispute in await disputes.of_user(session, username, limit=limit):
        found.append(of_dispute(dispute, await _topup(session, by_id, dispute.topup_id)))
    return sorted(found, key=lambda item: item.at, reverse=True)[:limit]


async def _topup(session: AsyncSession, known: dict[int, TopUp], topup_id: int) -> TopUp:
    """The top-up a refund or dispute is about: among those listed already, else an older one read for it."""
    topup = known.get(topup_id)
    return topup if topup is not None else await session.get_one(TopUp, topup_id)


def of_topup(topup: TopUp) -> Receipt:
    return Receipt(TOPUP, topup.public_id, topup.username, Money(topup.amount, topup.currency), topup.provider,
                   topup.reference or "", topup.state, topup.confirmed_at or topup.created_at,
                   note=topup.failure or "")


def of_refund(refund: Refund, topup: TopUp) -> Receipt:
    return Receipt(REFUND, refund.public_id, refund.username, Money(-refund.amount, refund.currency), topup.provider,
                   refund.provider_reference, refund.state, refund.created_at, topup.public_id, refund.failure)


def of_dispute(dispute: Dispute, topup: TopUp) -> Receipt:
    return Receipt(DISPUTE, dispute.public_id, dispute.username, Money(-dispute.amount, dispute.currency),
                   dispute.provider, dispute.provider_reference, dispute.state, dispute.closed_at or dispute.opened_at,
                   topup.public_id, dispute.reason)
