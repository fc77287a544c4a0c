"""Closing periods as this instance runs them: who gets each share, when a period is due, escrow's release.

`settlement/` does the money; this module supplies what only the server
knows: which authors are ours, which hosts speak Mecene (their NodeInfo) and
the ids of our payouts.
"""

import os
import socket
import time
import uuid
from datetime import timedelta
from urllib.parse import quote, urlsplit

from federation.errors import FederationError
from federation.instances import InstanceInfo
from server.events import event
from server.instance import Instance
from server.settling import sending
from settlement import closing, escrow
from settlement.closing import CLOSED, CloseReport, CloseSettings, PeriodCloser, Progress
from settlement.destinations import ESCROW, LOCAL, PAYOUT, Classifier, Destination
from settlement.periods import Period, parse_period

WORKER = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def closer(instance: Instance) -> PeriodCloser:
    options = instance.settings.settlement
    settings = CloseSettings(instance.settings.instance.currency, options.fee_basis_points, options.close_batch_donors,
                             timedelta(seconds=options.close_lease_seconds))
    return PeriodCloser(instance.sessions, settings, instance.clock, WORKER, lambda label, host: payout_id(
        instance, label, host))


def payout_id(instance: Instance, label: str, host: str) -> str:
    return f"{instance.settings.base_url}/payouts/{label}/{quote(host, safe='')}"


async def classifier(instance: Instance, label: str) -> Classifier:
    """Learn every author host of the period first, so the close itself never waits on the network."""
    async with instance.sessions() as session:
        authors = await closing.authors_of(session, label)
    hosts = {urlsplit(author).netloc for author in authors} - {instance.urls.host}
    known: dict[str, InstanceInfo] = {}
    for host in sorted(hosts):
        try:
            known[host] = await instance.directory.info(host)
        except FederationError:
            continue
    currency = instance.settings.instance.currency

    def classify(author: str) -> Destination:
        host = urlsplit(author).netloc
        username = instance.urls.username_of(author) if host == instance.urls.host else None
        if username is not None:
            return Destination(LOCAL, host, username)
        info = known.get(host)
        if info is not None and info.mecene and info.currency == currency:
            return Destination(PAYOUT, host, host)
        return Destination(ESCROW, host, author)

    return classify


async def close_period(instance: Instance, period: Period, progress: Progress | None = None) -> CloseReport:
    started = time.monotonic()
    report = await closer(instance).close(period, await classifier(instance, period.label), progress)
    seconds = time.monotonic() - started
    if report.state == CLOSED:
        instance.metrics.close_seconds.observe(seconds)
    event("period_close", period=report.period, state=report.state, donors=report.donors, spent=report.spent,
          fees=report.fees, payouts=report.payouts, currency=instance.settings.instance.currency,
          seconds=round(seconds, 3))
    await sending.send_payouts(instance)
    return report


async def due_periods(instance: Instance) -> list[Period]:
    """Ended periods not closed yet, once `close_delay_minutes` have passed since their end."""
    options = instance.settings.settlement
    current = instance.current_period()
    async with instance.sessions() as session:
        labels = await closing.unclosed_periods(session, current.label)
    periods = [parse_period(label, options.period) for label in labels]
    delay = timedelta(minutes=options.close_delay_minutes)
    return [period for period in periods if instance.clock() >= period.end + delay]


async def release_escrow(instance: Instance) -> int:
    """Return to their donors the escrowed shares whose claim window has ended; the amount returned."""
    options = instance.settings.settlement
    async with instance.sessions() as session, session.begin():
        report = await escrow.release_expired(session, now=instance.clock(), claim_months=options.escrow_claim_months,
                                              currency=instance.settings.instance.currency,
                                              period_length=options.period)
    if report.total:
        event("escrow_returned", minor_units=report.total, currency=instance.settings.instance.currency)
    return report.total
