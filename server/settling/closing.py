"""Closing periods as this instance runs them: who gets each share, when a period is due, what waits and its release.

`settlement/` does the money; this module supplies what only the server
knows: which authors are ours, which hosts speak Mecene (their NodeInfo),
which of those we have an agreement in force with, and the ids of our payouts.
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
from settlement import agreements, awaited_payouts, closing, escrow
from settlement.closing import CLOSED, CloseReport, CloseSettings, PeriodCloser, Progress
from settlement.destinations import AWAITING, ESCROW, LOCAL, PAYOUT, Classifier, Destination
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


def awaited_payout_id(instance: Instance, label: str, host: str, round_: int) -> str:
    """Beside the period payouts' ids, never equal to one (no period label is `awaited`); later rounds apart."""
    first = f"{instance.settings.base_url}/payouts/awaited/{label}/{quote(host, safe='')}"
    return first if round_ == 1 else f"{first}/{round_}"


async def classifier(instance: Instance, label: str) -> Classifier:
    """Learn every author host of the period first, so the close itself never waits on the network.

    A Mecene host that accepts our currency gets a payout only under an
    agreement in force in that currency; without one its creators' shares wait for it.
    """
    currency = instance.settings.instance.currency
    async with instance.sessions() as session:
        authors = await closing.authors_of(session, label)
        peers = await agreements.hosts_in_force(session, currency)
    hosts = {urlsplit(author).netloc for author in authors} - {instance.urls.host}
    known: dict[str, InstanceInfo] = {}
    for host in sorted(hosts):
        try:
            known[host] = await instance.directory.info(host)
        except FederationError:
            continue

    def classify(author: str) -> Destination:
        host = urlsplit(author).netloc
        username = instance.urls.username_of(author) if host == instance.urls.host else None
        if username is not None:
            return Destination(LOCAL, host, username)
        info = known.get(host)
        if info is not None and info.accepts(currency):
            return Destination(PAYOUT if host in peers else AWAITING, host, host)
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


async def forward_awaiting(instance: Instance) -> int:
    """What waited for a host now under an agreement in force becomes awaited payouts; the minor units moved."""
    currency = instance.settings.instance.currency
    moved = 0
    async with instance.sessions() as session, session.begin():
        for host in await awaited_payouts.hosts_waiting(session, currency):
            if await agreements.in_force(session, host, currency):
                forwarded = await awaited_payouts.forward(
                    session, host=host, currency=currency, now=instance.clock(),
                    payout_id=lambda label, peer, round_: awaited_payout_id(instance, label, peer, round_))
                if forwarded:
                    event("awaiting_forwarded", host=host, minor_units=forwarded, currency=currency)
                moved += forwarded
    return moved


async def release_escrow(instance: Instance) -> int:
    """Return to their donors the shares, escrowed or awaiting an agreement, whose claim window has ended."""
    options = instance.settings.settlement
    currency = instance.settings.instance.currency
    returned = 0
    for destination in (ESCROW, AWAITING):
        async with instance.sessions() as session, session.begin():
            report = await escrow.release_expired(session, now=instance.clock(),
                                                  claim_months=options.escrow_claim_months, currency=currency,
                                                  period_length=options.period, destination=destination)
        if report.total:
            event(f"{destination}_returned", minor_units=report.total, currency=currency)
        returned += report.total
    return returned
