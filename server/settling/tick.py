"""When settlement work runs: APScheduler decides when to look, the tables say what is due.

The scheduler only wakes a worker task; the work runs in that task, one tick
at a time, so ticks never overlap and stopping the server cancels it like the
delivery and inbox workers. Every tick is safe in several processes at once:
a close is leased, a payout is queued by whoever moves it out of `pending`.
"""

import asyncio
import contextlib
import logging
from datetime import UTC, datetime, timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from common.supervision import supervise
from server.bot.escrow_notices import send_escrow_notices
from server.instance import Instance
from server.mail import alerts as mail_alerts
from server.mail import summaries as mail_summaries
from server.settling.agreement_resends import send_unanswered_again as send_offers_again
from server.settling.alias_claims import claim_by_alias
from server.settling.clearing_resends import send_unanswered_again as send_clearings_again
from server.settling.closing import close_period, due_periods, forward_awaiting, release_escrow
from server.settling.link_claims import claim_all
from server.settling.sending import send_payouts
from server.settling.statement_exchange import send_statements

log = logging.getLogger(__name__)

#: How long a stopping server lets a tick under way finish before cancelling it.
STOP_GRACE_SECONDS = 10.0


class SettlementWorker:
    def __init__(self, instance: Instance) -> None:
        self._instance = instance
        self.wakeup = asyncio.Event()
        self._aliases_checked: datetime | None = None
        self._stopping = False
        self._idle = asyncio.Event()
        self._idle.set()

    def scheduler(self) -> AsyncIOScheduler:
        scheduler = AsyncIOScheduler(timezone=UTC)
        scheduler.add_job(self._wake, "interval", seconds=self._instance.settings.settlement.tick_seconds,
                          next_run_time=datetime.now(UTC), id="settlement")
        return scheduler

    async def run(self) -> None:
        """A failed tick is logged and waited out; the next one tries again, and a close resumes where it stopped."""
        await supervise("settlement tick", self._round)

    async def stop(self) -> None:
        """Start no new tick and wait, a while, for the one under way.

        Cancelled in the middle of a transaction, a tick leaves nothing wrong
        (a close is leased and resumes), but its connection's rollback is cut
        short too and the pool reports it as an error with a traceback: an
        operator's Ctrl-C should not look like a failure.
        """
        self._stopping = True
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(STOP_GRACE_SECONDS):
                await self._idle.wait()

    async def _round(self) -> None:
        await self.wakeup.wait()
        self.wakeup.clear()
        if self._stopping:
            return
        self._idle.clear()
        try:
            await settlement_tick(self._instance, self._aliases_due())
        finally:
            self._idle.set()

    async def _wake(self) -> None:
        self.wakeup.set()

    def _aliases_due(self) -> bool:
        """Alias claims fetch the actor of every creator escrow holds money for: not at every tick, then."""
        now = self._instance.clock()
        interval = timedelta(minutes=self._instance.settings.settlement.alias_check_minutes)
        if self._aliases_checked is not None and now < self._aliases_checked + interval:
            return False
        self._aliases_checked = now
        return True


async def settlement_tick(instance: Instance, check_aliases: bool = True) -> None:
    for period in await due_periods(instance):
        try:
            report = await close_period(instance, period)
        except Exception as error:
            await mail_alerts.close_failed(instance, period.label, error)
            raise
        log.info("period %s: %s, %d donors, %d spent, %d payouts", report.period, report.state, report.donors,
                 report.spent, report.payouts)
    await forward_awaiting(instance)
    await send_payouts(instance)
    await send_clearings_again(instance)
    await send_offers_again(instance)
    await send_statements(instance)
    returned = await release_escrow(instance)
    if returned:
        log.info("escrow returned to donors: %d minor units", returned)
    claimed = await claim_all(instance.sessions, instance.clock())
    if check_aliases:
        claimed += await claim_by_alias(instance)
    if claimed:
        log.info("escrow claimed by linked and aliased accounts: %d minor units", claimed)
    await send_escrow_notices(instance)
    await mail_summaries.catch_up(instance)
    await mail_alerts.dead_letters(instance)
