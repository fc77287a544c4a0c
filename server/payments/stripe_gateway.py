"""Stripe, as Mecene uses it: a card charged through a PaymentIntent, refunds, and signed webhooks read.

The browser turns the card into a token with Stripe.js (Elements), so no card
number ever reaches Mecene. The server attaches it to a Customer and creates
the PaymentIntent confirmed at once (Liberapay's way: no second round trip
unless the bank asks for 3-D Secure, when the page lets Stripe.js do it).
Every call carries an idempotency key named after the top-up, so a retried
request (a double click, a timeout) is the same payment. Nothing here credits
a wallet: only the signed `payment_intent.succeeded` webhook does.

The SDK and aiohttp are imported by the calls that use them: the pages and
`mecene topups` name this module, and most `mecene topups` commands never
call Stripe, so they do not pay a third of a second to load it.
"""

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from config.settings import PaymentSettings
from settlement.models import TopUp
from settlement.money import Money

if TYPE_CHECKING:
    import aiohttp
    import stripe

NAME = "stripe"
#: Seconds Stripe's API has to answer one call.
TIMEOUT_SECONDS = 30
#: What a PaymentIntent's status means for the donor waiting on the page.
CONFIRMING = "confirming"
NEEDS_ACTION = "needs_action"
FAILED = "failed"
_OUTCOMES = {"succeeded": CONFIRMING, "processing": CONFIRMING, "requires_capture": CONFIRMING,
             "requires_action": NEEDS_ACTION}


@dataclass(frozen=True)
class CardOutcome:
    """What the card page shows next: wait for confirmation, let Stripe.js authenticate, or say why it failed."""

    state: str
    payment_intent: str = ""
    client_secret: str = ""
    message: str = ""


class StripeUnavailable(Exception):
    """Stripe did not answer, or answered with an error of its own: the same call may be made again."""


class StripeRefused(Exception):
    """Stripe answered that this request cannot be done (a refund larger than the charge, say): do not retry."""


class StripeGateway:
    """One instance's Stripe account; owns the HTTP session its calls use."""

    name = NAME

    def __init__(self, settings: PaymentSettings) -> None:
        self._settings = settings
        self._session: aiohttp.ClientSession | None = None
        self._client: stripe.StripeClient | None = None

    @property
    def livemode(self) -> bool:
        return self._settings.stripe_live

    def _stripe(self) -> "stripe.StripeClient":
        import aiohttp
        import stripe

        if self._client is None:
            self._session = aiohttp.ClientSession()
            http = stripe.AIOHTTPClient(session=self._session, timeout=TIMEOUT_SECONDS)
            self._client = stripe.StripeClient(self._settings.stripe_secret_key, http_client=http,
                                               base_addresses={"api": self._settings.stripe_api_base},
                                               max_network_retries=2)
        return self._client

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()

    async def charge_card(self, topup: TopUp, token: str) -> CardOutcome:
        """Charge the card `token` stands for with the top-up's amount; a declined card is an outcome, not an error."""
        import stripe

        try:
            customer = await self._stripe().v1.customers.create_async(
                {"source": token, "metadata": {"username": topup.username}},
                {"idempotency_key": f"mecene-customer-{topup.public_id}-{token}"})
            intent = await self._stripe().v1.payment_intents.create_async(
                self._intent(topup, customer), {"idempotency_key": f"mecene-topup-{topup.public_id}-{token}"})
        except stripe.CardError as declined:
            return CardOutcome(FAILED, message=declined.user_message or "Your card was declined.")
        except stripe.StripeError as error:
            raise StripeUnavailable(str(error.user_message or error)) from error
        return self._outcome(intent)

    @staticmethod
    def _intent(topup: TopUp, customer: "stripe.Customer") -> Any:
        """Card only, confirmed at once with the card just attached: `payment_method_types` is the long-standing
        parameter both Stripe and localstripe read (typed `Any`: the SDK's newest types name it otherwise)."""
        return {"amount": topup.amount, "currency": topup.currency.lower(), "customer": customer.id,
                "payment_method": customer.default_source, "payment_method_types": ["card"], "confirm": True,
                "metadata": {"topup": topup.public_id, "username": topup.username}}

    @staticmethod
    def _outcome(intent: "stripe.PaymentIntent") -> CardOutcome:
        state = _OUTCOMES.get(intent.status, FAILED)
        error = intent.last_payment_error
        message = (error.message if error is not None and error.message else
                   "The payment did not go through; try another card.") if state == FAILED else ""
        return CardOutcome(state, intent.id, intent.client_secret or "", message)

    async def refund(self, topup: TopUp, money: Money, key: str) -> str:
        """Pay `money` of the top-up's PaymentIntent back to the card; `key` makes a retry the same refund."""
        import stripe

        if topup.reference is None:
            raise StripeUnavailable("this top-up has no PaymentIntent to refund")
        try:
            refund = await self._stripe().v1.refunds.create_async(
                {"payment_intent": topup.reference, "amount": money.amount}, {"idempotency_key": f"mecene-{key}"})
        except (stripe.InvalidRequestError, stripe.CardError) as refused:
            raise StripeRefused(str(refused.user_message or refused)) from refused
        except stripe.StripeError as error:
            raise StripeUnavailable(str(error.user_message or error)) from error
        return refund.id

    def verify(self, payload: bytes, signature: str) -> "stripe.Event":
        """The event, if Stripe signed it with our webhook secret within the last five minutes; else SignatureError."""
        import stripe

        return stripe.Webhook.construct_event(payload.decode("utf-8"), signature,
                                              self._settings.stripe_webhook_secret)
