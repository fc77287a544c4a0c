"""Where we stand with one other instance in one currency: what accepted payouts say each side owes the other.

Read by the receiver of a payout (room under its credit limit), by clearings
(what to pay, what a clearing nets out) and by statements. The two IOUs stay
apart in the ledger (`due_to:{host}`, `due_from:{host}`), as each side booked
them, until a clearing nets them.
"""

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from settlement import accounts, ledger
from settlement.ledger import AccountKey


@dataclass(frozen=True)
class Position:
    host: str
    currency: str
    #: What we owe `host` for the payouts it accepted.
    owed_to: int
    #: What `host` owes us for the payouts from it that we credited.
    owed_by: int

    @property
    def net(self) -> int:
        """Positive when the peer owes us, negative when we owe it."""
        return self.owed_by - self.owed_to

    @property
    def netted(self) -> int:
        """What a clearing now would cancel both ways, so that only `abs(net)` travels by bank."""
        return min(self.owed_to, self.owed_by)


async def owed_to(session: AsyncSession, host: str, currency: str) -> int:
    return await ledger.balance(session, AccountKey(accounts.DUE_TO, host, currency))


async def owed_by(session: AsyncSession, host: str, currency: str) -> int:
    return -await ledger.balance(session, AccountKey(accounts.DUE_FROM, host, currency))


async def position(session: AsyncSession, host: str, currency: str) -> Position:
    return Position(host, currency, await owed_to(session, host, currency), await owed_by(session, host, currency))
