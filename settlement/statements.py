"""Statements: what this instance and each other instance owe each other, and where all the money is.

Between two instances, a payout the receiver accepted is booked on both sides:
the sender moves it from `in_flight:{receiver}` to `due_to:{receiver}`, the
receiver credits its creators against `due_from:{sender}`. So once every answer
has arrived, `owed_to(receiver)` on the sender equals `owed_by(sender)` on the
receiver, to the minor unit: the two statements of a pair agree, and the
operators settle that amount outside Mecene.

Conservation. Every ledger transaction sums to zero per currency, so the
balances of all accounts sum to zero. Naming each kind of account, with
`funded` = −payin (what came in through payment providers), `owed_by` =
−due_from (what other instances' accepted payouts say they owe us),
`cleared_in` = −cleared_in (real money other instances paid us in clearings)
and `cleared_out` (real money we paid them):

    funded + owed_by + cleared_in
        = wallets + creators + pending + fees + escrow + awaiting + in_flight + owed_to + cleared_out

That is an identity on one instance: it fails only when the ledger does not
balance or holds an account kind this summary does not name. Summed over every
instance of a federation, each pair's `owed_to` and `owed_by` cancel once all
payouts are answered, and each pair's `cleared_out` and `cleared_in` once both
have booked their clearings, leaving what the issue asks to hold across instances:

    Σ funded = Σ (wallets + creators + pending + fees + escrow + awaiting + in_flight)

`awaiting` is what waits for an agreement with another instance, or for room
under its credit limit (`awaiting_peer:{host}`); `pending`, what creators here
were paid by other instances that have not cleared it yet.
"""

from dataclasses import dataclass, fields, replace

from sqlalchemy import BigInteger, SQLColumnExpression, cast, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import Cast

from settlement import accounts
from settlement.awaited_payouts import AWAITED
from settlement.destinations import PAYOUT
from settlement.models import Account, AwaitedPayout, ClaimPayout, Entry, Payout, ReceivedPayout, Share

SETTLED = "settled"
_STATES = ["pending", "sent", SETTLED]


@dataclass(frozen=True)
class Conservation:
    currency: str
    funded: int = 0
    wallets: int = 0
    creators: int = 0
    pending: int = 0
    fees: int = 0
    escrow: int = 0
    awaiting: int = 0
    in_flight: int = 0
    owed_to: int = 0
    owed_by: int = 0
    cleared_in: int = 0
    cleared_out: int = 0
    #: Asked by creators to be withdrawn, not yet paid by the operator's bank.
    payable: int = 0
    #: Paid out to creators by the operator's bank: gone from Mecene.
    paid_out: int = 0

    @property
    def held(self) -> int:
        """Money inside Mecene that no other instance has accepted yet."""
        return (self.wallets + self.creators + self.payable + self.pending + self.fees + self.escrow + self.awaiting
                + self.in_flight)

    @property
    def holds(self) -> bool:
        return (self.funded + self.owed_by + self.cleared_in
                == self.held + self.owed_to + self.cleared_out + self.paid_out)

    def __add__(self, other: "Conservation") -> "Conservation":
        """Instances summed, for the federation-wide check: see the module docstring."""
        if other.currency != self.currency:
            raise ValueError(f"cannot add {self.currency} and {other.currency} statements")
        return Conservation(self.currency, *(getattr(self, f.name) + getattr(other, f.name)
                                             for f in fields(self) if f.name != "currency"))


@dataclass(frozen=True)
class PeriodLine:
    """One period between us and one other instance.

    `sent`: our payout's total (None when we sent none), with the claim
    payouts of that period to the same instance, split into what is still
    `in_flight`, what they `accepted` and what they `refused` (gone to
    escrow). `received`: what their payouts credited here (None when none came).
    """

    period: str
    sent: int | None
    state: str | None
    in_flight: int
    accepted: int
    refused: int
    received: int | None


@dataclass(frozen=True)
class Position:
    """Where we stand with one other instance; `net` is positive when they owe us."""

    host: str
    owed_to: int
    in_flight: int
    owed_by: int
    periods: list[PeriodLine]

    @property
    def net(self) -> int:
        """In-flight money is left out: it is owed only once they accept it."""
        return self.owed_by - self.owed_to


@dataclass(frozen=True)
class Statement:
    currency: str
    positions: list[Position]
    conservation: Conservation

    @property
    def owed_to(self) -> int:
        return sum(position.owed_to for position in self.positions)

    @property
    def in_flight(self) -> int:
        return sum(position.in_flight for position in self.positions)

    @property
    def owed_by(self) -> int:
        return sum(position.owed_by for position in self.positions)

    @property
    def net(self) -> int:
        return self.owed_by - self.owed_to


_CONSERVED = {accounts.PAYIN: "funded", accounts.WALLET: "wallets", accounts.CREATOR: "creators",
              accounts.PENDING: "pending", accounts.FEE: "fees", accounts.ESCROW: "escrow",
              accounts.AWAITING_PEER: "awaiting", accounts.IN_FLIGHT: "in_flight", accounts.DUE_TO: "owed_to",
              accounts.DUE_FROM: "owed_by", accounts.CLEARED_IN: "cleared_in", accounts.CLEARED_OUT: "cleared_out",
              accounts.PAYABLE: "payable", accounts.PAYOUT: "paid_out"}
_NEGATIVE = {accounts.PAYIN, accounts.DUE_FROM, accounts.CLEARED_IN}


async def conservation(session: AsyncSession, currency: str) -> Conservation:
    totals = {name: 0 for name in _CONSERVED.values()}
    rows = await session.execute(
        select(Account.kind, _sum(Entry.amount)).join(Entry, Entry.account_id == Account.id)
        .where(Account.currency == currency).group_by(Account.kind))
    for kind, total in rows:
        if kind in _CONSERVED:
            totals[_CONSERVED[kind]] += -int(total) if kind in _NEGATIVE else int(total)
    return Conservation(currency, **totals)


async def statement(session: AsyncSession, currency: str) -> Statement:
    """Every other instance we have booked money with, by host, and the conservation summary."""
    balances = await _balances_by_host(session, currency)
    sent = await _sent(session, currency)
    received = await _received(session, currency)
    hosts = sorted(set(balances) | {host for host, _ in sent} | {host for host, _ in received})
    positions = [_position(host, balances.get(host, {}), sent, received) for host in hosts]
    return Statement(currency, positions, await conservation(session, currency))


def _position(host: str, balances: dict[str, int], sent: dict[tuple[str, str], PeriodLine],
              received: dict[tuple[str, str], int]) -> Position:
    periods = sorted({period for other, period in [*sent, *received] if other == host})
    lines = [replace(sent.get((host, period)) or PeriodLine(period, None, None, 0, 0, 0, None),
                     received=received.get((host, period))) for period in periods]
    return Position(host, balances.get(accounts.DUE_TO, 0), balances.get(accounts.IN_FLIGHT, 0),
                    -balances.get(accounts.DUE_FROM, 0), lines)


async def _balances_by_host(session: AsyncSession, currency: str) -> dict[str, dict[str, int]]:
    rows = await session.execute(
        select(Account.owner, Account.kind, _sum(Entry.amount)).join(Entry, Entry.account_id == Account.id)
        .where(Account.currency == currency, Account.kind.in_((accounts.DUE_TO, accounts.IN_FLIGHT, accounts.DUE_FROM)))
        .group_by(Account.owner, Account.kind))
    balances: dict[str, dict[str, int]] = {}
    for host, kind, total in rows:
        balances.setdefault(host, {})[kind] = int(total)
    return balances


async def _sent(session: AsyncSession, currency: str) -> dict[tuple[str, str], PeriodLine]:
    """Our payouts, a period's, its claims' and its awaited ones together; once settled, what was not refused.

    The settled rounds of a period's awaited payouts to a host are counted
    together: their shares do not say which round accepted them.
    """
    accepted = await _accepted(session, PAYOUT, currency)
    lines: dict[tuple[str, str], PeriodLine] = {}
    for payout in await session.scalars(select(Payout).where(Payout.currency == currency)):
        refused = payout.total - accepted.get((payout.host, payout.period), 0)
        _add_sent(lines, payout.host, payout.period, payout.total, payout.state, refused)
    for claim in await session.scalars(select(ClaimPayout).where(ClaimPayout.currency == currency)):
        _add_sent(lines, claim.host, claim.period, claim.total, claim.state, claim.refused)
    waited = await _accepted(session, AWAITED, currency)
    rounds: dict[tuple[str, str], list[AwaitedPayout]] = {}
    for awaited in await session.scalars(select(AwaitedPayout).where(AwaitedPayout.currency == currency)):
        rounds.setdefault((awaited.host, awaited.period), []).append(awaited)
    for (host, period), sent in rounds.items():
        for awaited in sent:
            if awaited.state != SETTLED:
                _add_sent(lines, host, period, awaited.total, awaited.state, 0)
        settled = sum(awaited.total for awaited in sent if awaited.state == SETTLED)
        if settled:
            _add_sent(lines, host, period, settled, SETTLED, settled - waited.get((host, period), 0))
    return lines


async def _accepted(session: AsyncSession, destination: str, currency: str) -> dict[tuple[str, str], int]:
    """Settled shares still in `destination`, per (host, period): the lines their payout's destination credited."""
    rows = await session.execute(
        select(Share.host, Share.period, _sum(Share.amount))
        .where(Share.destination == destination, Share.settled_at.is_not(None), Share.currency == currency)
        .group_by(Share.host, Share.period))
    return {(host, period): int(total) for host, period, total in rows}


def _add_sent(lines: dict[tuple[str, str], PeriodLine], host: str, period: str, total: int, state: str,
              refused: int) -> None:
    """`refused` counts once settled; the line's state is the least advanced of its payouts'."""
    settled = state == SETTLED
    line = PeriodLine(period, total, state, 0 if settled else total, total - refused if settled else 0,
                      refused if settled else 0, None)
    earlier = lines.get((host, period))
    if earlier is not None:
        line = PeriodLine(period, (earlier.sent or 0) + total, min(earlier.state or state, state, key=_STATES.index),
                          earlier.in_flight + line.in_flight, earlier.accepted + line.accepted,
                          earlier.refused + line.refused, None)
    lines[(host, period)] = line


async def _received(session: AsyncSession, currency: str) -> dict[tuple[str, str], int]:
    rows = await session.execute(
        select(ReceivedPayout.source_host, ReceivedPayout.period, _sum(ReceivedPayout.credited))
        .where(ReceivedPayout.currency == currency)
        .group_by(ReceivedPayout.source_host, ReceivedPayout.period))
    return {(host, period): int(total) for host, period, total in rows}


def _sum(column: SQLColumnExpression[int]) -> Cast[int]:
    """An int on both databases and 0 over no rows, as in `ledger`."""
    return cast(func.coalesce(func.sum(column), 0), BigInteger)
