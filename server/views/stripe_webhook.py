"""Stripe's webhook: the only way money paid by card reaches a wallet.

An event is read only once its `Stripe-Signature` proves Stripe sent it with
our endpoint's secret (400 otherwise), and only in the mode our keys are in: a
test event at a live instance, or the reverse, is refused with 400, so test
money never becomes real. Then it is applied once by its id, in one database
transaction with what it does. A 409 for an event that came too early makes
Stripe deliver it again later; anything we do not handle is acknowledged.
"""

import logging

import stripe
from aiohttp import web

from server.appkeys import instance_key, payments_key
from server.http_errors import json_error
from server.payments import stripe_events

PATH = "/payments/stripe/webhook"
#: A webhook body is small; Stripe's largest events are a few kilobytes.
MAX_BYTES = 256 * 1024
log = logging.getLogger(__name__)


async def receive(request: web.Request) -> web.Response:
    gateway = request.app[payments_key].stripe
    if gateway is None:
        return json_error(404, "not_found", "This instance takes no card payments.")
    payload = await request.read()
    if len(payload) > MAX_BYTES:
        return json_error(413, "too_large", "This event is larger than any Stripe sends.")
    try:
        event = gateway.verify(payload, request.headers.get("Stripe-Signature", ""))
    except (stripe.SignatureVerificationError, ValueError) as refused:
        return json_error(400, "bad_signature", f"The event's signature does not hold: {refused}")
    if bool(event.livemode) != gateway.livemode:
        mode = "live" if event.livemode else "test"
        return json_error(400, "wrong_mode", f"A {mode}-mode event, and this instance's Stripe keys are not {mode}.")
    return await _apply(request, event)


async def _apply(request: web.Request, event: stripe.Event) -> web.Response:
    instance = request.app[instance_key]
    try:
        async with instance.sessions() as session, session.begin():
            outcome = await stripe_events.apply(session, event, instance.clock())
    except stripe_events.TooEarly as early:
        return json_error(409, "too_early", str(early))
    except stripe_events.Mismatch as mismatch:
        log.error("Stripe event %s does not match our records: %s", event.id, mismatch)
        return json_error(422, "mismatch", str(mismatch))
    return web.json_response({"event": event.id, "outcome": outcome})


def routes() -> list[web.RouteDef]:
    return [web.post(PATH, receive)]
