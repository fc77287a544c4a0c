"""Closing a period: every donor's spend split and booked exactly once, resumable after a crash.

Stages, recorded in `stl_period_closes.state`:

1. `distributing`: donors are taken in batches; each batch is one database
   transaction holding its shares, one ledger transaction and a
   `stl_donor_closes` row per donor. A crash loses at most the batch in hand,
   which the next run redoes; a donor already closed is never taken again.
2. `paying`: one `stl_payouts` row per destination instance and the local
   creators' earnings, written in one transaction with the check of the
   period's invariants (`close_invariants`): if they fail, nothing of it is
   kept and the period stays `paying`.
3. `closed`.

One process works on a period at a time: it holds a lease on the period's
row, renewed by every batch. A second process finds the lease held and
leaves; if the holder dies, the lease runs out and another process resumes.
Every batch re-checks the lease inside its own transaction, and the unique
(period, donor) row makes a double distribution impossible even then.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from sqlalchemy import Executable, and_, func, insert, literal, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from common.sql import dialect_insert, insert_ignoring_duplicates, rowcount
from settlement import accounts, close_invariants, ledger
from settlement.allocation import allocate, share_seed
from settlement.destinations import ACCOUNT_KINDS, CLOSE_DESTINATIONS, LOCAL, PAYOUT, Classifier, Destination
from settlement.ledger import AccountKey
from settlement.models import (
    PAYOUT_STATES,
    PERIOD_CLOSE_STATES,
    Account,
    Budget,
    DonorClose,
    Earning,
    Entry,
    Flattr,
    Payout,
    PeriodClose,
    Share,
)
from settlement.periods import Period

DISTRIBUTED = PERIOD_CLOSE_STATES.move("distributing", "paying")
PAID = PERIOD_CLOSE_STATES.move("paying", "closed")
DISTRIBUTING, PAYING, CLOSED = DISTRIBUTED.source, DISTRIBUTED.target, PAID.target
#: What a close reports, not a state of its row, when another process holds the period.
BUSY = "busy"
#: Classifier answers kept during a close: bounded, so memory stays flat however many authors a period has.
AUTHORS_REMEMBERED = 65_536

Progress = Callable[[int, int], None]


class PeriodStillOpen(ValueError):
    """Only a period that has ended can close: flattrs may still arrive in an open one."""


class LeaseLost(RuntimeError):
    """Another process took the period over; this one stops without writing."""


@dataclass(frozen=True)
class CloseSettings:
    currency: str
    fee_basis_points: int = 0
    batch_donors: int = 5000
    lease: timedelta = timedelta(minutes=2)


@dataclass(frozen=True)
class CloseReport:
    period: str
    state: str  # CLOSED, or BUSY when another process holds the period
    donors: int
    spent: int
    fees: int
    payouts: int


@dataclass(frozen=True)
class _DonorOutcome:
    donor: str
    spend: int
    fee: int
    shares: list[dict[str, Any]]


class PeriodCloser:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], settings: CloseSettings,
                 clock: Callable[[], datetime], worker: str, payout_id: Callable[[str, str], str]) -> None:
        self._sessions = sessions
        self._settings = settings
        self._clock = clock
        self._worker = worker
        self._payout_id = payout_id

    async def close(self, period: Period, classify: Classifier, progress: Progress | None = None) -> CloseReport:
        """Run whatever stages remain; returns at once with state "busy" when another process holds the lease."""
        if period.end > self._clock():
            raise PeriodStillOpen(f"period {period.label} ends at {period.end.isoformat()}")
        state = await self._claim(period)
        if state == DISTRIBUTING:
            await self._distribute(period, _remembering(classify), progress or _quiet)
            state = PAYING
        if state == PAYING:
            await self._finish(period)
        return await self.report(period.label, busy=state is None)

    async def preview(self, period: Period, classify: Classifier) -> dict[str, int]:
        """What a close would move, per destination kind, computed and written nowhere (`--dry-run`)."""
        totals = {"donors": 0, "spent": 0, "fees": 0, **{kind: 0 for kind in CLOSE_DESTINATIONS}}
        async with self._sessions() as session:
            after = ""
            while donors := await _open_donors(session, period.label, after, self._settings.batch_donors):
                for outcome in await self._outcomes(session, period.label, donors, classify):
                    totals["donors"] += 1
                    totals["spent"] += outcome.spend
                    totals["fees"] += outcome.fee
                    for share in outcome.shares:
                        totals[str(share["destination"])] += int(share["amount"])
                after = donors[-1]
        return totals

    async def report(self, label: str, *, busy: bool = False) -> CloseReport:
        async with self._sessions() as session:
            closes = await session.execute(select(
                func.count(DonorClose.id), func.coalesce(func.sum(DonorClose.spend), 0),
                func.coalesce(func.sum(DonorClose.fee), 0)).where(DonorClose.period == label))
            donors, spent, fees = closes.one()
            payouts = await session.scalar(select(func.count(Payout.id)).where(Payout.period == label))
            state = await session.scalar(select(PeriodClose.state).where(PeriodClose.period == label))
        return CloseReport(label, BUSY if busy else str(state), int(donors), int(spent), int(fees), int(payouts or 0))

    async def _claim(self, period: Period) -> str | None:
        """The stage to run under a fresh lease, CLOSED when done, None when another process holds it."""
        now = self._clock()
        async with self._sessions() as session, session.begin():
            await insert_ignoring_duplicates(session, PeriodClose.__table__, {
                "period": period.label, "state": PERIOD_CLOSE_STATES.birth(DISTRIBUTING), "donors_total": 0,
                "donors_done": 0, "started_at": now})
            claimed = await session.execute(
                update(PeriodClose)
                .where(PeriodClose.period == period.label, PeriodClose.state != CLOSED,
                       or_(PeriodClose.lease_until.is_(None), PeriodClose.lease_until < now,
                           PeriodClose.lease_owner == self._worker))
                .values(lease_owner=self._worker, lease_until=now + self._settings.lease)
                .returning(PeriodClose.state))
            state = claimed.scalar_one_or_none()
            if state is None and await session.scalar(
                    select(PeriodClose.state).where(PeriodClose.period == period.label)) == CLOSED:
                return CLOSED
            return state

    async def _renew(self, session: AsyncSession, label: str, **values: object) -> None:
        now = self._clock()
        renewed = await session.execute(
            update(PeriodClose).where(PeriodClose.period == label, PeriodClose.lease_owner == self._worker)
            .values(lease_until=now + self._settings.lease, **values))
        if not rowcount(renewed):
            raise LeaseLost(f"another process took over period {label}")

    async def _distribute(self, period: Period, classify: Classifier, progress: Progress) -> None:
        async with self._sessions() as session, session.begin():
            total = int(await session.scalar(
                select(func.count(func.distinct(Flattr.donor))).where(Flattr.period == period.label)) or 0)
            done = int(await session.scalar(
                select(func.count(DonorClose.id)).where(DonorClose.period == period.label)) or 0)
            await self._renew(session, period.label, donors_total=total)
        progress(done, total)
        after = ""
        while True:
            async with self._sessions() as session, session.begin():
                await self._renew(session, period.label)
                donors = await _open_donors(session, period.label, after, self._settings.batch_donors)
                if not donors:
                    await self._renew(session, period.label, state=PAYING)
                    return
                await self._book(session, period.label, await self._outcomes(session, period.label, donors, classify))
                done += len(donors)
                await self._renew(session, period.label, donors_done=done)
            after = donors[-1]
            progress(done, total)

    async def _outcomes(self, session: AsyncSession, label: str, donors: Sequence[str],
                        classify: Classifier) -> list[_DonorOutcome]:
        flattrs = await session.execute(
            select(Flattr.donor, Flattr.thing_uri, Flattr.author_uri)
            .where(Flattr.period == label, Flattr.donor.in_(donors)))
        things: dict[str, dict[str, str]] = {donor: {} for donor in donors}
        for donor, thing, author in flattrs:
            things[donor][thing] = author
        budgets = await _budgets(session, donors, self._settings.currency)
        wallets = await _wallets(session, donors, self._settings.currency)
        now = self._clock()
        outcomes = []
        for donor in donors:
            authors = things[donor]
            allocation = allocate(budget=budgets.get(donor, 0), wallet=wallets.get(donor, 0),
                                  things=list(authors), fee_basis_points=self._settings.fee_basis_points,
                                  seed=share_seed(label, donor))
            shares = [self._share_row(label, donor, thing, authors[thing], amount, classify(authors[thing]), now)
                      for thing, amount in allocation.shares.items()]
            outcomes.append(_DonorOutcome(donor, allocation.spend, allocation.fee, shares))
        return outcomes

    def _share_row(self, label: str, donor: str, thing: str, author: str, amount: int, destination: Destination,
                   now: datetime) -> dict[str, Any]:
        return {"period": label, "donor": donor, "thing_uri": thing, "author_uri": author, "host": destination.host,
                "recipient": destination.recipient, "amount": amount, "currency": self._settings.currency,
                "destination": destination.kind, "settled_at": now if destination.kind == LOCAL else None}

    async def _book(self, session: AsyncSession, label: str, outcomes: list[_DonorOutcome]) -> None:
        """One batch: its ledger transaction, its share rows and its donors marked closed, together."""
        transaction_id = await self._post(session, label, outcomes)
        shares = [share for outcome in outcomes for share in outcome.shares]
        if shares:
            await session.execute(insert(Share.__table__), shares)
        await session.execute(insert(DonorClose.__table__), [
            {"period": label, "donor": o.donor, "spend": o.spend, "fee": o.fee,
             "transaction_id": transaction_id if o.spend else None} for o in outcomes])

    async def _post(self, session: AsyncSession, label: str, outcomes: list[_DonorOutcome]) -> int | None:
        """The batch's one ledger transaction; amounts are summed per (kind, owner) before any key is built."""
        totals: dict[tuple[str, str], int] = {}
        for outcome in outcomes:
            _add(totals, ("wallet", outcome.donor), -outcome.spend)
            _add(totals, (accounts.FEE, ""), outcome.fee)
            for share in outcome.shares:
                _add(totals, (ACCOUNT_KINDS[share["destination"]], share["recipient"]), share["amount"])
        currency = self._settings.currency
        nonzero = [(AccountKey(kind, owner, currency), amount) for (kind, owner), amount in totals.items() if amount]
        if not nonzero:
            return None
        key = f"close:{label}:{outcomes[0].donor}:{outcomes[-1].donor}"
        transaction_id, _ = await ledger.post(session, kind="close", idempotency_key=key, lines=nonzero,
                                              now=self._clock(), memo=f"period {label}")
        return transaction_id

    async def _finish(self, period: Period) -> None:
        """Payout rows and local earnings from the shares, then `closed`; all or nothing."""
        label = period.label
        async with self._sessions() as session, session.begin():
            await self._renew(session, label)
            owed = await session.execute(
                select(Share.host, func.sum(Share.amount)).where(
                    Share.period == label, Share.destination == PAYOUT, Share.amount > 0).group_by(Share.host))
            for host, total in owed:
                await insert_ignoring_duplicates(session, Payout.__table__, {
                    "period": label, "host": host, "payout_id": self._payout_id(label, host), "total": int(total),
                    "currency": self._settings.currency, "state": PAYOUT_STATES.birth("pending"),
                    "created_at": self._clock()})
            await session.execute(_local_earnings(session, label))
            await close_invariants.check(session, label)
            await self._renew(session, label, state=CLOSED, finished_at=self._clock(), lease_owner=None)


async def _open_donors(session: AsyncSession, label: str, after: str, limit: int) -> list[str]:
    """Donors of the period not closed yet, in name order from `after` (keyset paging).

    Two range scans rather than one anti-join: the closes grow during the close faster than PostgreSQL's
    statistics follow, and on a stale estimate it joins against every close of the period, batch after batch.
    """
    while donors := list(await session.scalars(
            select(Flattr.donor).where(Flattr.period == label, Flattr.donor > after)
            .group_by(Flattr.donor).order_by(Flattr.donor).limit(limit))):
        closed = set(await session.scalars(select(DonorClose.donor).where(
            DonorClose.period == label, DonorClose.donor > after, DonorClose.donor <= donors[-1])))
        if open_donors := [donor for donor in donors if donor not in closed]:
            return open_donors
        after = donors[-1]
    return []


async def _budgets(session: AsyncSession, donors: Sequence[str], currency: str) -> dict[str, int]:
    rows = await session.execute(select(Budget.username, Budget.amount).where(
        Budget.username.in_(donors), Budget.currency == currency))
    return {username: int(amount) for username, amount in rows}


async def _wallets(session: AsyncSession, donors: Sequence[str], currency: str) -> dict[str, int]:
    rows = await session.execute(
        select(Account.owner, func.sum(Entry.amount)).join(Entry, Entry.account_id == Account.id)
        .where(Account.kind == "wallet", Account.currency == currency, Account.owner.in_(donors))
        .group_by(Account.owner))
    return {owner: int(total) for owner, total in rows}


def _local_earnings(session: AsyncSession, label: str) -> Executable:
    """Local creators' earnings per thing, summed from the period's shares in the database."""
    shares = (select(Share.recipient, Share.period, Share.thing_uri, literal(""), Share.currency,
                     func.sum(Share.amount), func.count(Share.id))
              .where(and_(Share.period == label, Share.destination == LOCAL))
              .group_by(Share.recipient, Share.period, Share.thing_uri, Share.currency))
    columns = ["creator", "period", "thing_uri", "source", "currency", "amount", "flattrs"]
    return dialect_insert(session, Earning.__table__).from_select(columns, shares).on_conflict_do_nothing()


def _add(totals: dict[tuple[str, str], int], key: tuple[str, str], amount: int) -> None:
    totals[key] = totals.get(key, 0) + amount


def _remembering(classify: Classifier) -> Classifier:
    """The classifier, its answers kept for the most recent authors: a period names each author many times."""
    return lru_cache(maxsize=AUTHORS_REMEMBERED)(classify)


def _quiet(done: int, total: int) -> None:
    """The default progress report: none."""


async def unclosed_periods(session: AsyncSession, before: str) -> list[str]:
    """Periods earlier than `before` with flattrs and no finished close, oldest first."""
    finished = select(PeriodClose.period).where(PeriodClose.state == CLOSED)
    return list(await session.scalars(
        select(Flattr.period).where(Flattr.period < before, Flattr.period.not_in(finished))
        .group_by(Flattr.period).order_by(Flattr.period)))


async def authors_of(session: AsyncSession, label: str) -> list[str]:
    """Everyone flattred in a period: the caller classifies them before the close."""
    return list(await session.scalars(
        select(Flattr.author_uri).where(Flattr.period == label).group_by(Flattr.author_uri)))
