"""Our clearing notices left unanswered: delivered again, with the same id, as payouts are.

A creditor answers every copy of a notice its operator has answered
(`server.settling.clearing_inbox`), so a debtor whose answer was lost, given
up after its delivery's last try or sent while it was down, still learns the
outcome and books the clearing. The wait is `settlement.payout_resend_minutes`.
"""

from datetime import timedelta

from federation import delivery_queue
from server.events import event
from server.instance import Instance
from settlement import clearings


async def send_unanswered_again(instance: Instance) -> int:
    """Each notice unanswered for the resend wait queued again; the deliveries queued."""
    now = instance.clock()
    wait = timedelta(minutes=instance.settings.settlement.payout_resend_minutes)
    again = 0
    async with instance.sessions() as session, session.begin():
        for clearing in await clearings.unanswered(session, sent_before=now - wait):
            if await clearings.mark_resent(session, clearing, now):
                again += await delivery_queue.send_again(session, clearing.uri, now)
                event("clearing_sent_again", clearing=clearing.uri, host=clearing.peer_host, amount=clearing.amount,
                      currency=clearing.currency)
    if again:
        instance.delivery.wakeup.set()
    return again
