"""What a donor's money looks like right now: wallet, budget, this period's flattrs and their live value.

The value shown is what settlement would pay if the period closed now: the
same `settlement.allocation` rule (spend = min(budget, wallet), the
instance's fee, equal shares, the same remainder seed), so the dashboard
never promises more than will move.
"""

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from server.instance import Instance
from server.models import User
from settlement import flattrs, shares, wallets
from settlement.allocation import Allocation, allocate, share_seed
from settlement.flattrs import Flattr
from settlement.money import Money
from settlement.periods import Period


@dataclass(frozen=True)
class DonorView:
    wallet: Money
    budget: Money
    period: Period
    flattrs: list[Flattr]
    spend: Money
    shares: shares.ShareView

    @property
    def fee(self) -> Money:
        """What the instance keeps: the spend less every share, so the two always add up."""
        shared = self.shares.each * len(self.flattrs) + self.shares.extra_count
        return Money(self.spend.amount - shared, self.spend.currency)

    def value_of(self, record: Flattr) -> Money:
        extra = 1 if record.thing_uri in self.shares.extra_keys else 0
        return Money(self.shares.each + extra, self.budget.currency)


async def donor_view(session: AsyncSession, instance: Instance, user: User, period: Period) -> DonorView:
    currency = instance.settings.instance.currency
    wallet = await wallets.wallet_balance(session, user.username, currency)
    budget = await wallets.budget_of(session, user.username, currency)
    records = await flattrs.for_period(session, user.username, period.label)
    things = [record.thing_uri for record in records]
    allocation = _allocation(instance, user, budget, wallet, period, things)
    view = shares.describe(allocation.spend - allocation.fee, things, seed=share_seed(period.label, user.username))
    return DonorView(wallet, budget, period, records, Money(allocation.spend, currency), view)


def value_if_flattred(instance: Instance, user: User, view: DonorView, thing_uri: str) -> Money:
    """What one more flattr, of `thing_uri`, would be worth now: the same rule with it counted in."""
    things = [record.thing_uri for record in view.flattrs] + [thing_uri]
    allocation = _allocation(instance, user, view.budget, view.wallet, view.period, things)
    return Money(allocation.shares[thing_uri], view.budget.currency)


def _allocation(instance: Instance, user: User, budget: Money, wallet: Money, period: Period,
                things: list[str]) -> Allocation:
    """Settlement's own split of this donor's period, with its fee and remainder seed, as the close will make it."""
    return allocate(budget=budget.amount, wallet=wallet.amount, things=things,
                    fee_basis_points=instance.settings.settlement.fee_basis_points,
                    seed=share_seed(period.label, user.username))
