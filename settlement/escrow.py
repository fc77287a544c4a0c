"""Escrow: shares held for creators whose server has no Mecene, until they claim them or the window ends.

An escrowed share keeps its donor, so when the claim window closes each donor
gets back exactly their own shares: pro rata by construction, to the minor unit.
Shares awaiting an agreement with their creators' instance (`awaiting`, on
`awaiting_peer:{host}`) go back the same way, by the same code, when the same
window ends before an agreement does.

Exactly once, even when two processes run at the same time: a share leaves
escrow by one conditional `UPDATE … WHERE destination = 'escrow' AND
settled_at IS NULL … RETURNING`, and the ledger transaction is built from the
rows that update returned, in the same database transaction. A concurrent
update of the same rows waits for the first and then finds them gone, so every
share is taken by one transaction only. The ledger key names the lowest share
id taken: two transactions never take the same share, so they never share their
lowest id, and the key is unique without any other coordination. (A share
sent in a claim payout comes back to escrow if the other instance refuses it,
so `settlement.claim_payouts` keys its transactions by the claim payout instead.)
"""

import calendar
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

from sqlalchemy import ColumnElement, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from common.sql import dialect_insert
from settlement import accounts, ledger
from settlement.destinations import ACCOUNT_KINDS, AWAITING, ESCROW
from settlement.ledger import AccountKey
from settlement.models import Earning, Share
from settlement.periods import parse_period

RETURNED = "returned"
CLAIMED = "claimed"
#: `stl_earnings.source` of money a creator claimed from escrow.
ESCROW_SOURCE = "escrow"
#: The ledger transaction that gives each waiting destination's expired shares back to their donors.
RETURN_KINDS = {ESCROW: "escrow_return", AWAITING: "awaiting_return"}

K = TypeVar("K")


@dataclass(frozen=True)
class Release:
    """What one donor got back from one author's escrow of one period."""

    period: str
    author: str
    donor: str
    amount: int


@dataclass(frozen=True)
class ReleaseReport:
    currency: str
    releases: list[Release]
    transaction_id: int | None

    @property
    def total(self) -> int:
        return sum(release.amount for release in self.releases)


@dataclass(frozen=True)
class EscrowHolding:
    """What one author has waiting; `expires` is when the oldest of it goes back to its donors."""

    author: str
    amount: int
    shares: int
    oldest_period: str
    expires: datetime


@dataclass(frozen=True)
class Taken:
    id: int
    period: str
    donor: str
    author: str
    thing: str
    amount: int
    currency: str
    recipient: str


def add_months(when: datetime, months: int) -> datetime:
    """Calendar months: the same day of a later month, or that month's last day when it is shorter."""
    year, month = divmod(when.month - 1 + months, 12)
    year += when.year
    day = min(when.day, calendar.monthrange(year, month + 1)[1])
    return when.replace(year=year, month=month + 1, day=day)


def expiry(period: str, *, claim_months: int, period_length: str) -> datetime:
    """The claim window runs from the period's end for `claim_months` calendar months."""
    return add_months(parse_period(period, period_length).end, claim_months)


async def release_expired(session: AsyncSession, *, now: datetime, claim_months: int, currency: str,
                          period_length: str, destination: str = ESCROW) -> ReleaseReport:
    """Give every share waiting in `destination` whose claim window ended by `now` back to its donor.

    One ledger transaction, written in the caller's transaction like
    `ledger.post`: each share leaves its own account (`escrow:{author}`, or
    `awaiting_peer:{host}`) for its donor's wallet. The shares become
    `returned` and settled; a rerun, or a concurrent run, finds nothing left to
    return (how, in the module docstring). Zero shares are marked too, with no entry.
    """
    labels = await session.scalars(select(Share.period).distinct().where(
        _unsettled(destination), Share.currency == currency))
    expired = [label for label in labels
               if expiry(label, claim_months=claim_months, period_length=period_length) <= now]
    if not expired:
        return ReleaseReport(currency, [], None)
    taken = await take(session, Share.period.in_(expired), Share.currency == currency,
                       values={"destination": RETURNED, "settled_at": now}, destination=destination)
    lines: dict[AccountKey, int] = {}
    for share in taken:
        _add(lines, AccountKey(ACCOUNT_KINDS[destination], share.recipient, currency), -share.amount)
        _add(lines, AccountKey(accounts.WALLET, share.donor, currency), share.amount)
    transaction_id = await _post(session, RETURN_KINDS[destination], taken, lines, now,
                                 f"{destination} returned to donors")
    return ReleaseReport(currency, _releases(taken), transaction_id)


async def claim(session: AsyncSession, *, author_uri: str, username: str, now: datetime) -> int:
    """Move everything held for `author_uri` to the local creator `username`; returns the minor units moved.

    One ledger transaction (escrow → `creator:{username}`) and the creator's
    earnings (source "escrow"), written with the shares' change in the caller's
    transaction; claiming again moves nothing, and only what escrow still holds.
    A creator on another Mecene instance claims through `settlement.claim_payouts`.
    """
    taken = await take(session, Share.author_uri == author_uri,
                        values={"destination": CLAIMED, "recipient": username, "settled_at": now})
    lines: dict[AccountKey, int] = {}
    for share in taken:
        _add(lines, AccountKey(accounts.ESCROW, share.author, share.currency), -share.amount)
        _add(lines, AccountKey(accounts.CREATOR, username, share.currency), share.amount)
    await _post(session, "escrow_claim", taken, lines, now, f"escrow of {author_uri} claimed by {username}")
    await _record_earnings(session, username, taken)
    return sum(share.amount for share in taken)


async def held(session: AsyncSession, *, currency: str, claim_months: int, period_length: str) -> list[EscrowHolding]:
    """Every author escrow holds money for, largest amount first."""
    rows = await session.execute(
        select(Share.author_uri, func.sum(Share.amount), func.count(Share.id), func.min(Share.period))
        .where(_unsettled(), Share.currency == currency)
        .group_by(Share.author_uri)
        .order_by(func.sum(Share.amount).desc(), Share.author_uri))
    return [EscrowHolding(author, int(amount), int(shares), oldest,
                          expiry(oldest, claim_months=claim_months, period_length=period_length))
            for author, amount, shares, oldest in rows]


def _unsettled(destination: str = ESCROW) -> ColumnElement[bool]:
    return (Share.destination == destination) & Share.settled_at.is_(None)


async def take(session: AsyncSession, *where: ColumnElement[bool], values: dict[str, object],
               destination: str = ESCROW) -> list[Taken]:
    """Mark the matching shares still waiting in `destination` with `values`, in the caller's transaction.

    Only the shares this update changed come back: what another transaction took first is not taken twice.
    """
    rows = await session.execute(
        update(Share).where(_unsettled(destination), *where).values(**values)
        .returning(Share.id, Share.period, Share.donor, Share.author_uri, Share.thing_uri, Share.amount,
                   Share.currency, Share.recipient)
        .execution_options(synchronize_session=False))
    return sorted((Taken(id_, period, donor, author, thing, int(amount), currency, recipient)
                   for id_, period, donor, author, thing, amount, currency, recipient in rows),
                  key=lambda share: share.id)


async def _post(session: AsyncSession, kind: str, taken: Sequence[Taken], lines: dict[AccountKey, int],
                now: datetime, memo: str) -> int | None:
    nonzero = [(key, amount) for key, amount in sorted(lines.items()) if amount]
    if not nonzero:
        return None
    key = f"{kind}:{taken[0].id}-{taken[-1].id}"
    transaction_id, _ = await ledger.post(session, kind=kind, idempotency_key=key, lines=nonzero, now=now,
                                          memo=memo[:500])
    return transaction_id


async def _record_earnings(session: AsyncSession, username: str, taken: Sequence[Taken]) -> None:
    """Added to what an earlier claim of the same thing and period recorded, since escrow can refill."""
    grouped: dict[tuple[str, str, str], tuple[int, int]] = {}
    for share in taken:
        amount, flattrs = grouped.get((share.period, share.thing, share.currency), (0, 0))
        grouped[(share.period, share.thing, share.currency)] = (amount + share.amount, flattrs + 1)
    for (period, thing, currency), (amount, flattrs) in sorted(grouped.items()):
        statement = dialect_insert(session, Earning.__table__).values(
            creator=username, period=period, thing_uri=thing, source=ESCROW_SOURCE, amount=amount,
            currency=currency, flattrs=flattrs)
        await session.execute(statement.on_conflict_do_update(
            index_elements=["creator", "period", "thing_uri", "source"],
            set_={"amount": Earning.amount + statement.excluded.amount,
                  "flattrs": Earning.flattrs + statement.excluded.flattrs}))


def _releases(taken: Sequence[Taken]) -> list[Release]:
    totals: dict[tuple[str, str, str], int] = {}
    for share in taken:
        _add(totals, (share.period, share.author, share.donor), share.amount)
    return [Release(period, author, donor, amount) for (period, author, donor), amount in sorted(totals.items())]


def _add(totals: dict[K, int], key: K, amount: int) -> None:
    totals[key] = totals.get(key, 0) + amount
