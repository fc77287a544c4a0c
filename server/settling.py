"""Settlement as this instance runs it: classify who gets each share, close periods, send payouts.

`settlement/` does the money; this module supplies what only the server
knows: which authors are ours, which hosts speak Mecene (their NodeInfo),
where another instance's actor receives, and the ids of our payouts.
"""

import os
import socket
import uuid
from datetime import timedelta
from typing import Any, Protocol
from urllib.parse import quote, urlsplit

from sqlalchemy.ext.asyncio import AsyncSession

from federation import payout_vocab
from federation.errors import FederationError
from federation.instances import InstanceInfo
from federation.outbox import publish
from server.accounts import INSTANCE_ACTOR
from server.instance import Instance
from settlement import claim_payouts, closing, escrow, payouts
from settlement.closing import CloseReport, CloseSettings, PeriodCloser, Progress
from settlement.destinations import ESCROW, LOCAL, PAYOUT, Classifier, Destination
from settlement.money import Money, format_amount
from settlement.payouts import PayoutLine
from settlement.periods import Period, parse_period

WORKER = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class PayoutKind(Protocol):
    """What sending needs of a kind of payout; `settlement.payouts` and `settlement.claim_payouts` provide it."""

    async def get(self, session: AsyncSession, payout_id: str) -> Any: ...

    async def lines_of(self, session: AsyncSession, payout: Any) -> list[PayoutLine]: ...

    async def mark_sent(self, session: AsyncSession, payout_id: str) -> bool: ...


def closer(instance: Instance) -> PeriodCloser:
    options = instance.settings.settlement
    settings = CloseSettings(instance.settings.instance.currency, options.fee_basis_points, options.close_batch_donors,
                             timedelta(seconds=options.close_lease_seconds))
    return PeriodCloser(instance.sessions, settings, instance.clock, WORKER, lambda label, host: payout_id(
        instance, label, host))


def payout_id(instance: Instance, label: str, host: str) -> str:
    return f"{instance.settings.base_url}/payouts/{label}/{quote(host, safe='')}"


def claim_payout_id(base_url: str, number: int) -> str:
    """Beside the period payouts' ids, never equal to one: no period label is `claims`."""
    return f"{base_url}/payouts/claims/{number}"


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
    report = await closer(instance).close(period, await classifier(instance, period.label), progress)
    await send_payouts(instance)
    return report


async def due_periods(instance: Instance) -> list[Period]:
    """Ended periods not closed yet, once `close_delay_minutes` have passed since their end."""
    options = instance.settings.settlement
    current = instance.current_period()
    async with instance.sessions() as session:
        labels = await closing.unclosed_periods(session, current.label)
    periods = [parse_period(label, options.period) for label in labels]
    delay = timedelta(minutes=options.close_delay_minutes)
    return [period for period in periods if instance.now() >= period.end + delay]


async def release_escrow(instance: Instance) -> int:
    """Return to their donors the escrowed shares whose claim window has ended; the amount returned."""
    options = instance.settings.settlement
    async with instance.sessions() as session, session.begin():
        report = await escrow.release_expired(session, now=instance.now(), claim_months=options.escrow_claim_months,
                                              currency=instance.settings.instance.currency,
                                              period_length=options.period)
    return report.total


async def send_payouts(instance: Instance) -> int:
    """Queue every Payout not sent yet, of periods and of claims; a host we cannot reach waits for the next tick."""
    sent = 0
    async with instance.sessions() as session:
        waiting = [(payout.host, payout.payout_id, payouts) for payout in await payouts.pending(session)]
        waiting += [(claim.host, claim.payout_id, claim_payouts) for claim in await claim_payouts.pending(session)]
    for host, payout_id, kind in waiting:
        try:
            info = await instance.directory.info(host)
            if info.instance_actor is None or payout_id is None:
                continue
            inbox = (await instance.actors.actor(info.instance_actor)).inbox
        except FederationError:
            continue
        sent += await _queue(instance, kind, payout_id, info.instance_actor, inbox)
    if sent:
        instance.delivery.wakeup.set()
    return sent


async def _queue(instance: Instance, kind: PayoutKind, payout_id: str, recipient: str, inbox: str) -> int:
    """`kind` is the module keeping this payout: `settlement.payouts` or `settlement.claim_payouts`."""
    async with instance.sessions() as session, session.begin():
        payout = await kind.get(session, payout_id)
        if payout is None or payout.state != "pending":
            return 0
        lines = await kind.lines_of(session, payout)
        items = [{"creator": line.creator, "object": line.thing, "flattrs": line.flattrs,
                  "amount": format_amount(Money(line.amount, payout.currency))} for line in lines]
        document = payout_vocab.payout(
            payout_id, instance.urls.actor(INSTANCE_ACTOR), recipient, period=payout.period,
            currency=payout.currency, total=format_amount(Money(payout.total, payout.currency)), items=items,
            published=instance.now())
        if not await kind.mark_sent(session, payout_id):
            return 0
        await publish(session, sender=INSTANCE_ACTOR, activity=document, inboxes=[inbox], now=instance.now())
    return 1
