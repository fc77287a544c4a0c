"""Prometheus metrics of one instance: the inbox, the delivery queue, payouts in flight, period closes.

Off by default and never on the public listener: with `server.metrics_port`
set, `server.app` serves them on 127.0.0.1 at that port alone, for a
Prometheus on the same machine (or a tunnel the operator opens). Each
instance has a registry of its own, so that several in one process (tests,
the demo) do not count into each other. Gauges read from the database are
refreshed when scraped.
"""

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from federation import delivery_queue
from settlement.sent_payouts import KINDS

CLOSE_BUCKETS = (1, 5, 30, 60, 300, 900, 3600, 4 * 3600)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.inbox = Counter("mecene_inbox_activities", "Activities posted to an inbox, by outcome and reason.",
                             ["outcome", "reason"], registry=self.registry)
        self.deliveries = Gauge("mecene_deliveries", "Deliveries not delivered yet, by state (queued, dead).",
                                ["state"], registry=self.registry)
        self.payouts_in_flight = Gauge("mecene_payouts_in_flight",
                                       "Payouts sent to other instances and not answered yet, by kind.",
                                       ["kind"], registry=self.registry)
        self.close_seconds = Histogram("mecene_period_close_seconds", "Time to close a period, from due to closed.",
                                       buckets=CLOSE_BUCKETS, registry=self.registry)
        #: Counted on every activity stored: its series is looked up once, not by its labels on each request.
        self._stored = self.inbox.labels(outcome="stored", reason="")

    def stored(self) -> None:
        self._stored.inc()

    def refused(self, reason: str) -> None:
        self.inbox.labels(outcome="refused", reason=reason).inc()

    async def exposition(self, session: AsyncSession) -> bytes:
        """The text Prometheus reads, with the database's gauges read now."""
        counts = await delivery_queue.counts(session)
        self.deliveries.labels(state=delivery_queue.QUEUED).set(counts.queued)
        self.deliveries.labels(state=delivery_queue.DEAD).set(counts.dead)
        for kind in KINDS:
            sent = await session.scalar(select(func.count(kind.model.id)).where(kind.model.state == kind.resend()))
            self.payouts_in_flight.labels(kind=kind.memo).set(int(sent or 0))
        return bytes(generate_latest(self.registry))
