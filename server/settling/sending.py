"""Our Payouts on their way: each one not sent yet, signed as a `Payout` and queued for its instance's actor.

Period payouts (`settlement.payouts`) and claim payouts
(`settlement.claim_payouts`) travel the same way; a host we cannot reach
waits for the next tick.
"""

from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from federation import payout_vocab
from federation.errors import FederationError
from federation.outbox import publish
from federation.payout_vocab import PayoutItem
from server.accounts import INSTANCE_ACTOR
from server.instance import Instance
from settlement import claim_payouts, payouts
from settlement.money import Money, format_amount
from settlement.payouts import PayoutLine


class PayoutKind(Protocol):
    """What sending needs of a kind of payout; `settlement.payouts` and `settlement.claim_payouts` provide it."""

    async def get(self, session: AsyncSession, payout_id: str) -> Any: ...

    async def lines_of(self, session: AsyncSession, payout: Any) -> list[PayoutLine]: ...

    async def mark_sent(self, session: AsyncSession, payout_id: str) -> bool: ...


def claim_payout_id(base_url: str, number: int) -> str:
    """Beside the period payouts' ids, never equal to one: no period label is `claims`."""
    return f"{base_url}/payouts/claims/{number}"


async def send_payouts(instance: Instance) -> int:
    """Queue every Payout not sent yet, of periods and of claims; a host we cannot reach waits for the next tick."""
    sent = 0
    async with instance.sessions() as session:
        waiting = [(payout.host, payout.payout_id, payouts) for payout in await payouts.pending(session)]
        waiting += [(claim.host, claim.payout_id, claim_payouts) for claim in await claim_payouts.pending(session)]
    for host, payout_id, kind in waiting:
        try:
            info = await instance.directory.info(host)
            if info.instance_actor is None or payout_id is None:
                continue
            inbox = (await instance.actors.actor(info.instance_actor)).inbox
        except FederationError:
            continue
        sent += await _queue(instance, kind, payout_id, info.instance_actor, inbox)
    if sent:
        instance.delivery.wakeup.set()
    return sent


async def _queue(instance: Instance, kind: PayoutKind, payout_id: str, recipient: str, inbox: str) -> int:
    """`kind` is the module keeping this payout: `settlement.payouts` or `settlement.claim_payouts`."""
    async with instance.sessions() as session, session.begin():
        payout = await kind.get(session, payout_id)
        if payout is None or payout.state != "pending":
            return 0
        lines = await kind.lines_of(session, payout)
        items = [PayoutItem(line.creator, line.thing, format_amount(Money(line.amount, payout.currency)), line.flattrs)
                 for line in lines]
        document = payout_vocab.payout(
            payout_id, instance.urls.actor(INSTANCE_ACTOR), recipient, period=payout.period,
            currency=payout.currency, total=format_amount(Money(payout.total, payout.currency)), items=items,
            published=instance.clock())
        if not await kind.mark_sent(session, payout_id):
            return 0
        await publish(session, sender=INSTANCE_ACTOR, activity=document, inboxes=[inbox], now=instance.clock())
    return 1
