"""Events from payment providers, applied once each: a provider delivers at least once, in any order.

The row is written in the same transaction as the event's effect, so an event
is either applied and remembered, or neither (and then applied when the
provider delivers it again).
"""

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from common.sql import insert_ignoring_duplicates
from settlement.models import ProviderEvent


async def first_time(session: AsyncSession, *, provider: str, event_id: str, type_: str, now: datetime) -> bool:
    """True for the first delivery of this event, whose effect the caller then applies in the same transaction."""
    return await insert_ignoring_duplicates(session, ProviderEvent.__table__, {
        "provider": provider, "event_id": event_id, "type": type_[:64], "received_at": now})
