"""When settlement work runs: APScheduler decides when to look, the tables say what is due.

Every tick is safe to run in several processes at once: a close is leased,
a payout is queued by whoever moves it out of `pending`, so the ticks only
decide how soon work happens, never whether it happens twice.
"""

import logging
from datetime import UTC, datetime

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from server.instance import Instance
from server.settling import close_period, due_periods, send_payouts

log = logging.getLogger(__name__)


def settlement_scheduler(instance: Instance) -> AsyncIOScheduler:
    scheduler = AsyncIOScheduler(timezone=UTC)
    scheduler.add_job(settlement_tick, "interval", args=[instance], seconds=instance.settings.settlement.tick_seconds,
                      max_instances=1, coalesce=True, next_run_time=datetime.now(UTC), id="settlement")
    return scheduler


async def settlement_tick(instance: Instance) -> None:
    for period in await due_periods(instance):
        report = await close_period(instance, period)
        log.info("period %s: %s, %d donors, %d spent, %d payouts", report.period, report.state, report.donors,
                 report.spent, report.payouts)
    await send_payouts(instance)
