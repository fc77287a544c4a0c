"""How each of a donor's flattrs reached its author's server, said to the donor.

A flattr is recorded here whatever happens to its `Flattr` activity, and its
share goes to the author at the close all the same (by Payout, or held in
escrow); but a donor told only "you flattred" would not know that the author's
server never heard of it. So the dashboard and the API say how the delivery
went: a thing of this instance needs none.
"""

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from federation import delivery_queue
from server.i18n.current import N_
from settlement.models import Flattr

#: A flattr of a thing of this instance: nothing to deliver.
HERE = "here"
#: Each delivery in words, marked for translation: the page translates them where shown.
WORDS = {
    HERE: N_("recorded here"),
    delivery_queue.DELIVERED: N_("delivered"),
    delivery_queue.QUEUED: N_("on its way"),
    delivery_queue.NOT_UNDERSTOOD: N_("delivered; the author's server does not show flattrs"),
    delivery_queue.DEAD: N_("not delivered: the author's server refused it or never answered (your flattr still "
                            "counts; the money waits for the author)"),
}


async def of(session: AsyncSession, records: Sequence[Flattr]) -> dict[int, str]:
    """Each flattr's delivery, by flattr id: a key of `WORDS`."""
    outcomes = await delivery_queue.outcome_of(session, [record.activity_id for record in records])
    return {record.id: outcomes.get(record.activity_id, HERE) for record in records}
