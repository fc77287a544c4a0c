"""Our Payouts on their way: each one not sent yet, signed as a `Payout` and queued for its instance's actor.

Period payouts (`settlement.payouts`) and claim payouts
(`settlement.claim_payouts`) travel the same way; a host we cannot reach
waits for the next tick.
"""

from datetime import timedelta

from federation import delivery_queue, payout_vocab
from federation.errors import FederationError
from federation.outbox import publish
from federation.payout_vocab import PayoutItem
from server.accounts import INSTANCE_ACTOR
from server.events import event
from server.instance import Instance
from settlement import sent_payouts
from settlement.money import Money, format_amount
from settlement.sent_payouts import SentKind


def claim_payout_id(base_url: str, number: int) -> str:
    """Beside the period payouts' ids, never equal to one: no period label is `claims`."""
    return f"{base_url}/payouts/claims/{number}"


async def send_payouts(instance: Instance) -> int:
    """Queue every Payout not sent yet, of periods and of claims; a host we cannot reach waits for the next tick."""
    sent = 0
    async with instance.sessions() as session:
        waiting = [(payout.host, payout.payout_id, kind) for kind, payout in await sent_payouts.pending(session)]
    for host, payout_id, kind in waiting:
        try:
            info = await instance.directory.info(host)
            if info.instance_actor is None or payout_id is None:
                continue
            inbox = (await instance.actors.actor(info.instance_actor)).inbox
        except FederationError:
            continue
        sent += await _queue(instance, kind, payout_id, info.instance_actor, inbox)
    sent += await _send_unanswered_again(instance)
    if sent:
        instance.delivery.wakeup.set()
    return sent


async def _send_unanswered_again(instance: Instance) -> int:
    """Payouts left unanswered for `settlement.payout_resend_minutes`, delivered again with the same id.

    The destination credits a payout id once, whatever the number of copies,
    and handles and answers every copy (`federation.inbox_writer`), whether
    the first one failed there or its answer was lost on the way, so an answer
    comes back and the payout settles.
    """
    now = instance.clock()
    wait = timedelta(minutes=instance.settings.settlement.payout_resend_minutes)
    again = 0
    async with instance.sessions() as session, session.begin():
        for kind, payout in await sent_payouts.unanswered(session, sent_before=now - wait):
            if payout.payout_id is not None and await sent_payouts.mark_resent(session, kind, payout, now):
                again += await delivery_queue.send_again(session, payout.payout_id, now)
                event("payout_sent_again", payout_id=payout.payout_id, host=payout.host, total=payout.total,
                      currency=payout.currency)
    return again


async def _queue(instance: Instance, kind: SentKind, payout_id: str, recipient: str, inbox: str) -> int:
    """Sign and queue the payout, in the transaction that marks it sent; 0 when another process did it first."""
    async with instance.sessions() as session, session.begin():
        found = await sent_payouts.find(session, payout_id)
        if found is None:
            return 0
        payout = found[1]
        lines = await kind.lines_of(session, payout)
        items = [PayoutItem(line.creator, line.thing, format_amount(Money(line.amount, payout.currency)), line.flattrs)
                 for line in lines]
        document = payout_vocab.payout(
            payout_id, instance.urls.actor(INSTANCE_ACTOR), recipient, period=payout.period,
            currency=payout.currency, total=format_amount(Money(payout.total, payout.currency)), items=items,
            published=instance.clock())
        if not await sent_payouts.mark_sent(session, kind, payout_id, instance.clock()):
            return 0
        await publish(session, sender=INSTANCE_ACTOR, activity=document, inboxes=[inbox], now=instance.clock())
    event("payout_sent", payout_id=payout_id, host=payout.host, period=payout.period, total=payout.total,
          currency=payout.currency)
    return 1
