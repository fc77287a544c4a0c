"""Our agreement Offers left unanswered: delivered again, with the same id, as payouts and clearing notices are.

The peer's operator may take days to answer, so an Offer is sent again only
once its last delivery ended `settlement.payout_resend_minutes` ago: the peer
then repeats the answer its operator gave, if any (`agreement_inbox`), so an
Accept given up on the way, while we were down, still reaches us.
"""

from datetime import timedelta

from sqlalchemy import select

from federation import delivery_queue
from federation.models import Delivery
from server.events import event
from server.instance import Instance
from settlement import agreements
from settlement.models import Agreement


async def send_unanswered_again(instance: Instance) -> int:
    """Each proposal of ours whose Offer was last delivered, or given up, before the wait; the deliveries queued."""
    now = instance.clock()
    since = now - timedelta(minutes=instance.settings.settlement.payout_resend_minutes)
    again = 0
    async with instance.sessions() as session, session.begin():
        offers = await session.scalars(select(Agreement.offer_activity_id).where(
            Agreement.state == agreements.PROPOSED, Agreement.offer_activity_id.in_(
                select(Delivery.activity_id).where(Delivery.state.in_(delivery_queue.SEND_AGAIN_FROM),
                                                   Delivery.finished_at < since))))
        for offer_id in list(offers):
            again += await delivery_queue.send_again(session, offer_id, now)
            event("offer_sent_again", offer=offer_id)
    if again:
        instance.delivery.wakeup.set()
    return again
