"""What a donor's money looks like right now: wallet, budget, this period's flattrs and their live value.

The value shown is what settlement would pay if the period closed now:
the spend is min(budget, wallet), split in equal shares by the same rule
(`settlement.shares`), so the dashboard never promises more than will move.
"""

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from server.models import User
from settlement import flattrs, shares, wallets
from settlement.flattrs import Flattr
from settlement.money import Money
from settlement.periods import Period


@dataclass(frozen=True)
class DonorView:
    wallet: Money
    budget: Money
    period: Period
    flattrs: list[Flattr]
    shares: shares.ShareView

    @property
    def spend(self) -> Money:
        return Money(min(self.budget.amount, max(self.wallet.amount, 0)), self.budget.currency)

    def value_of(self, record: Flattr) -> Money:
        extra = 1 if record.thing_uri in self.shares.extra_keys else 0
        return Money(self.shares.each + extra, self.budget.currency)


def share_seed(period: str, username: str) -> str:
    """Seeds the remainder placement per donor and period, as settlement will."""
    return f"{period}:{username}"


async def donor_view(session: AsyncSession, user: User, period: Period, currency: str) -> DonorView:
    wallet = await wallets.wallet_balance(session, user.username, currency)
    budget = await wallets.budget_of(session, user.username, currency)
    records = await flattrs.for_period(session, user.username, period.label)
    spend = min(budget.amount, max(wallet.amount, 0))
    view = shares.describe(spend, [r.thing_uri for r in records], seed=share_seed(period.label, user.username))
    return DonorView(wallet, budget, period, records, view)
