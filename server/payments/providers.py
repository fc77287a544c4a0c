"""The payment providers this instance's operator enabled, and who pays a refund back for each.

A card refund is Stripe's to pay. A bank transfer or a hand credit is paid
back by the operator from the bank, outside Mecene: their refund is the
operator saying so, with the reference of the transfer back.
"""

from dataclasses import dataclass

from config.settings import PaymentSettings
from server.payments import bank_transfers, stripe_gateway
from server.payments.stripe_gateway import StripeGateway
from settlement import topups
from settlement.models import TopUp
from settlement.money import Money


@dataclass
class OperatorRefund:
    """A refund the operator has paid by their own transfer; its reference is the one they give."""

    name: str
    reference: str

    async def refund(self, topup: TopUp, money: Money, key: str) -> str:
        return self.reference


class Payments:
    """What `payments.providers` enabled; the Stripe gateway opens its HTTP session on first use."""

    def __init__(self, settings: PaymentSettings) -> None:
        self.settings = settings
        self.stripe = StripeGateway(settings) if stripe_gateway.NAME in settings.providers else None

    @property
    def enabled(self) -> tuple[str, ...]:
        return self.settings.providers

    @property
    def bank(self) -> bool:
        return bank_transfers.NAME in self.settings.providers

    def refunder(self, topup: TopUp, operator_reference: str) -> topups.PaymentProvider:
        """Stripe for a card top-up, the operator for the others (whose `operator_reference` names the transfer)."""
        if topup.provider == stripe_gateway.NAME:
            if self.stripe is None:
                self.stripe = StripeGateway(self.settings)
            return self.stripe
        return OperatorRefund(topup.provider, operator_reference)

    async def close(self) -> None:
        if self.stripe is not None:
            await self.stripe.close()
