"""Stripe's webhook as Stripe would call it: events signed with the SDK's own helper, in any order, any number of times.

localstripe sends no disputes and never repeats an event, so these events are
written here, shaped as Stripe's, and signed with the endpoint's secret as
Stripe signs them (`stripe.WebhookSignature`); the top-ups they are about are
made by a donor on the add-money page.
"""

import json
import time
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
import stripe
from sqlalchemy import func, select

from federation_harness import Federation
from localstripe_process import WEBHOOK_SECRET, LocalStripe
from payments_helper import Donor, came_in, donor_at, topup_row
from server.views.stripe_webhook import PATH
from settlement import ledger, topups, wallets
from settlement.models import Dispute, ProviderEvent

#: No localstripe process: nothing here calls Stripe's API, the events come to us.
NOWHERE = LocalStripe(port=9)
INTENT = "pi_webhooktest"


class StripeSide:
    """Stripe's side of the webhook: it numbers its events and signs each one."""

    def __init__(self, donor: Donor, topup: str, *, livemode: bool = False) -> None:
        self.donor, self.topup, self.livemode, self.sent = donor, topup, livemode, 0

    def event(self, type_: str, data: dict[str, Any], *, event_id: str | None = None) -> dict[str, Any]:
        self.sent += 1
        return {"id": event_id or f"evt_{self.sent}", "object": "event", "type": type_, "livemode": self.livemode,
                "created": int(time.time()), "api_version": "2024-06-20", "data": {"object": data}}

    def intent(self, type_: str, *, amount: int = 1000, intent: str = INTENT, metadata: bool = True,
               **extra: Any) -> dict[str, Any]:
        data = {"id": intent, "object": "payment_intent", "amount": amount, "currency": "eur",
                "metadata": {"topup": self.topup} if metadata else {}, "last_payment_error": None, **extra}
        return self.event(type_, data)

    def dispute(self, type_: str, *, status: str = "needs_response", amount: int = 1000) -> dict[str, Any]:
        data = {"id": "dp_1", "object": "dispute", "amount": amount, "currency": "eur", "charge": "ch_1",
                "payment_intent": INTENT, "reason": "fraudulent", "status": status}
        return self.event(type_, data)

    async def send(self, event: dict[str, Any], *, secret: str = WEBHOOK_SECRET,
                   signature: str | None = None) -> tuple[int, dict[str, Any]]:
        payload = json.dumps(event)
        header = signature if signature is not None else \
            stripe.WebhookSignature.generate_signature_header(payload, secret)
        async with aiohttp.ClientSession() as session:
            async with session.post(self.donor.node.base_url + PATH, data=payload.encode(),
                                    headers={"Stripe-Signature": header,
                                             "Content-Type": "application/json"}) as answer:
                return answer.status, await answer.json()


@pytest.fixture
async def stripe_side(federation: Federation) -> AsyncIterator[StripeSide]:
    """A top-up whose card the page has charged: Stripe's PaymentIntent is its reference, no event came yet."""
    async with donor_at(federation, NOWHERE, webhooks=False) as alice:
        public_id = await alice.start_topup("10.00", "stripe")
        async with alice.node.live.sessions() as session, session.begin():
            topup = await topups.by_public_id(session, public_id)
            assert topup is not None
            await topups.set_reference(session, topup, INTENT)
        yield StripeSide(alice, public_id)


async def events_kept(stripe_side: StripeSide) -> int:
    async with stripe_side.donor.node.live.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(ProviderEvent)) or 0)


async def test_an_event_not_signed_with_our_secret_is_refused_and_credits_nothing(stripe_side: StripeSide) -> None:
    event = stripe_side.intent("payment_intent.succeeded")
    assert (await stripe_side.send(event, secret="whsec_someone_else"))[0] == 400
    assert (await stripe_side.send(event, signature=""))[0] == 400
    assert (await stripe_side.send(event, signature="t=1,v1=deadbeef"))[0] == 400
    signed = stripe.WebhookSignature.generate_signature_header(json.dumps(event), WEBHOOK_SECRET)
    tampered = {**event, "data": {"object": {**event["data"]["object"], "amount": 100000}}}
    status, body = await stripe_side.send(tampered, signature=signed)
    assert (status, body["error"]) == (400, "bad_signature")
    assert await stripe_side.donor.wallet() == 0 and await events_kept(stripe_side) == 0
    assert (await topup_row(stripe_side.donor.node, stripe_side.topup)).state == "awaiting"


async def test_the_same_event_twice_credits_once(stripe_side: StripeSide) -> None:
    event = stripe_side.intent("payment_intent.succeeded")
    assert await stripe_side.send(event) == (200, {"event": event["id"], "outcome": "applied"})
    assert await stripe_side.send(event) == (200, {"event": event["id"], "outcome": "already_applied"})
    assert (await stripe_side.send(stripe_side.intent("payment_intent.succeeded")))[0] == 200
    assert await stripe_side.donor.wallet() == 1000 and await came_in(stripe_side.donor.node, "stripe") == 1000
    row = await topup_row(stripe_side.donor.node, stripe_side.topup)
    assert (row.state, row.reference) == ("confirmed", INTENT)


async def test_events_out_of_order_end_where_stripe_ended(stripe_side: StripeSide) -> None:
    assert (await stripe_side.send(stripe_side.dispute("charge.dispute.created")))[0] == 409
    assert (await stripe_side.send(stripe_side.intent("payment_intent.succeeded")))[0] == 200
    failed_late = stripe_side.intent("payment_intent.payment_failed",
                                     last_payment_error={"message": "Your card was declined."})
    assert (await stripe_side.send(failed_late))[0] == 200
    assert (await topup_row(stripe_side.donor.node, stripe_side.topup)).state == "confirmed"
    assert await stripe_side.donor.wallet() == 1000

    won = stripe_side.dispute("charge.dispute.closed", status="won")
    assert (await stripe_side.send(won))[0] == 409
    assert (await stripe_side.send(stripe_side.dispute("charge.dispute.created")))[0] == 200
    assert await stripe_side.donor.wallet() == 0
    assert (await stripe_side.send(won))[0] == 200
    assert await stripe_side.donor.wallet() == 1000 and await came_in(stripe_side.donor.node, "stripe") == 1000


async def test_a_lost_dispute_leaves_the_wallet_below_zero_and_it_gives_nothing(stripe_side: StripeSide) -> None:
    await stripe_side.send(stripe_side.intent("payment_intent.succeeded"))
    async with stripe_side.donor.node.live.sessions() as session, session.begin():
        await ledger.post(session, kind="test_spend", idempotency_key="spent", now=stripe_side.donor.node.clock(),
                          lines=[(wallets.wallet_key("alice", "EUR"), -600),
                                 (ledger.AccountKey("fee", "", "EUR"), 600)])
    assert (await stripe_side.send(stripe_side.dispute("charge.dispute.created")))[0] == 200
    assert (await stripe_side.send(stripe_side.dispute("charge.dispute.closed", status="lost")))[0] == 200
    assert await stripe_side.donor.wallet() == -600
    page = await stripe_side.donor.browser.get("/wallet")
    assert "below zero" in page.html and "-6.00 EUR" in page.html
    async with stripe_side.donor.node.live.sessions() as session:
        dispute = await session.scalar(select(Dispute))
        assert dispute is not None and (dispute.state, dispute.amount) == ("lost", 1000)
    assert await came_in(stripe_side.donor.node, "stripe") == 0


async def test_events_about_payments_we_never_started_change_nothing(stripe_side: StripeSide) -> None:
    stranger = stripe_side.intent("payment_intent.succeeded", intent="pi_not_ours", metadata=False)
    assert await stripe_side.send(stranger) == (200, {"event": stranger["id"], "outcome": "ignored"})
    unknown_type = stripe_side.event("customer.created", {"id": "cus_1", "object": "customer"})
    assert (await stripe_side.send(unknown_type))[1]["outcome"] == "ignored"
    other_amount = stripe_side.intent("payment_intent.succeeded", amount=100000)
    assert (await stripe_side.send(other_amount))[0] == 422
    assert await stripe_side.donor.wallet() == 0 and await came_in(stripe_side.donor.node, "stripe") == 0


@pytest.mark.parametrize(("instance_key", "event_live", "mode"), [
    ("sk_live_mecene", False, "test"), ("sk_test_mecene", True, "live")])
async def test_an_event_of_the_other_mode_is_refused(federation: Federation, instance_key: str, event_live: bool,
                                                     mode: str) -> None:
    async with donor_at(federation, NOWHERE, webhooks=False,
                        MECENE_PAYMENTS_STRIPE_SECRET_KEY=instance_key) as alice:
        side = StripeSide(alice, await alice.start_topup("10.00", "stripe"), livemode=event_live)
        status, body = await side.send(side.intent("payment_intent.succeeded"))
        assert (status, body["error"]) == (400, "wrong_mode") and f"{mode}-mode" in body["reason"]
        assert await alice.wallet() == 0 and await events_kept(side) == 0


async def test_a_failed_payment_is_said_and_a_later_success_of_it_still_credits(stripe_side: StripeSide) -> None:
    failed = stripe_side.intent("payment_intent.payment_failed",
                                last_payment_error={"message": "Your card has insufficient funds."})
    assert (await stripe_side.send(failed))[1]["outcome"] == "applied"
    row = await topup_row(stripe_side.donor.node, stripe_side.topup)
    assert (row.state, row.failure) == ("failed", "Your card has insufficient funds.")
    page = await stripe_side.donor.browser.get(f"/wallet/receipts/{stripe_side.topup}")
    assert "insufficient funds" in page.html and await stripe_side.donor.wallet() == 0
    assert (await stripe_side.send(stripe_side.intent("payment_intent.succeeded")))[1]["outcome"] == "applied"
    assert (await topup_row(stripe_side.donor.node, stripe_side.topup)).state == "confirmed"
    assert await stripe_side.donor.wallet() == 1000 and await came_in(stripe_side.donor.node, "stripe") == 1000
