"""Alerts to the operators (admin accounts with a confirmed address): a dispute opened, a close that failed,
dead letters piling up.

Each is keyed so that it comes once per event (a dispute), or at most once
a day per operator for a condition that lasts (a close failing at every
retry, a dead-letter queue that stays long).
"""

import logging
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from federation.delivery_queue import DEAD
from federation.models import Delivery
from server.instance import Instance
from server.mail import kinds, outbox
from server.mail.outbox import amount
from server.models import User
from settlement.models import Dispute

log = logging.getLogger(__name__)

#: Dead letters from which the operators are told, once a day while there are as many.
DEAD_LETTERS_ALERT = 20


async def to_operators(session: AsyncSession, key: str, context: dict[str, Any], now: datetime) -> int:
    admins = list(await session.scalars(select(User.username).where(User.is_admin, User.email.is_not(None))))
    queued = 0
    for username in admins:
        queued += await outbox.to_user(session, username, kinds.OPERATOR_ALERT, f"{key}:{username}",
                                       {"username": username, **context}, now)
    return queued


async def dispute_opened(session: AsyncSession, dispute: Dispute, reason: str, now: datetime) -> int:
    return await to_operators(session, f"alert:dispute:{dispute.public_id}", {
        "what": "dispute", "dispute": dispute.public_id, "donor": dispute.username, "reason": reason,
        "amount": amount(dispute.amount, dispute.currency)}, now)


async def close_failed(instance: Instance, period: str, error: BaseException) -> int:
    """Told while the close's error goes on to the log; a database that is away fails this too, and says so there."""
    now = instance.clock()
    try:
        async with instance.sessions() as session, session.begin():
            return await to_operators(session, f"alert:close:{period}:{now:%Y-%m-%d}", {
                "what": "close_failed", "period": period, "error": type(error).__name__}, now)
    except Exception:
        log.exception("the operators could not be told that the close of %s failed", period)
        return 0


async def dead_letters(instance: Instance) -> int:
    now = instance.clock()
    async with instance.sessions() as session, session.begin():
        dead = int(await session.scalar(select(func.count()).select_from(Delivery).where(Delivery.state == DEAD))
                   or 0)
        if dead < DEAD_LETTERS_ALERT:
            return 0
        return await to_operators(session, f"alert:dead:{now:%Y-%m-%d}", {"what": "dead_letters", "dead": dead}, now)
