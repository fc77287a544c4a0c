"""The operator's agreements with other Mecene instances, and the clearings that settle what each side owes.

The list of agreements, a form to propose one and each one's buttons call
`server.peering`, as `mecene peers` does; the Clearing section (per peer and
currency, what to pay whom, a form to record a transfer made, and Confirm or
Dispute for a peer's notice) calls `server.clearing`, as `mecene clearing`
does. A refusal shows the page again with the message and what was typed,
with the refusal's status, and changes nothing; a change answers 303 back
with a notice.
"""

from typing import Any

from aiohttp import web
from multidict import MultiDictProxy

from federation.clearing_vocab import MAX_REFERENCE_LENGTH
from server import clearing, peering
from server.appkeys import instance_key
from server.http_errors import refusal_status
from server.i18n.current import gettext as _
from server.i18n.formatting import amount_text
from server.peering import Typed
from server.refusal import Refusal
from server.web.admin_pages import operator
from server.web.notices import render_with_notice, see_other
from server.web.refusals import said
from server.web.rendering import field, page, posted_form
from server.web.typed_amounts import canonical
from settlement import agreements
from settlement.models import Agreement, Clearing
from settlement.money import Money

TYPED_FIELDS = ("host", "currency", "credit_limit", "iban", "holder", "instructions", "amount", "reference")
Form = MultiDictProxy[str | bytes | bytearray | web.FileField]


@page
async def peers(request: web.Request) -> web.StreamResponse:
    await operator(request)
    return await _page(request, {})


@page
async def propose(request: web.Request) -> web.StreamResponse:
    await operator(request)
    form = await posted_form(request)
    try:
        done = await peering.propose(request.app[instance_key], field(form, "host"), _typed(form))
    except Refusal as refusal:
        return await _refused(request, refusal, form, "propose")
    return await see_other(request, "/admin/peers", _("Proposed to %(host)s in %(currency)s; waiting for their "
                                                      "answer.") % _agreed(done))


@page
async def accept(request: web.Request) -> web.StreamResponse:
    await operator(request)
    form = await posted_form(request)
    try:
        done = await peering.accept(request.app[instance_key], field(form, "host"), _typed(form))
    except Refusal as refusal:
        return await _refused(request, refusal, form, f"{field(form, 'host')} {field(form, 'currency')}")
    return await see_other(request, "/admin/peers",
                           _("The agreement with %(host)s in %(currency)s is in force.") % _agreed(done))


@page
async def decline(request: web.Request) -> web.StreamResponse:
    await operator(request)
    form = await posted_form(request)
    try:
        done = await peering.decline(request.app[instance_key], field(form, "host"), field(form, "currency"))
    except Refusal as refusal:
        return await _refused(request, refusal, form, "")
    return await see_other(request, "/admin/peers",
                           _("Declined the offer of %(host)s in %(currency)s.") % _agreed(done))


@page
async def end(request: web.Request) -> web.StreamResponse:
    await operator(request)
    form = await posted_form(request)
    try:
        done = await peering.end(request.app[instance_key], field(form, "host"), field(form, "currency"))
    except Refusal as refusal:
        return await _refused(request, refusal, form, "")
    said = (_("Ended the agreement with %(host)s in %(currency)s; what is owed stays owed until cleared.")
            if done.state == agreements.ENDED else
            _("Withdrew the proposal to %(host)s in %(currency)s; what is owed stays owed until cleared."))
    return await see_other(request, "/admin/peers", said % _agreed(done))


@page
async def record_paid(request: web.Request) -> web.StreamResponse:
    await operator(request)
    form = await posted_form(request)
    host, currency = field(form, "host"), field(form, "currency")
    try:
        done = await clearing.record_paid(request.app[instance_key], host,
                                          canonical(field(form, "amount"), currency.upper()), currency,
                                          field(form, "reference"))
    except Refusal as refusal:
        return await _refused(request, refusal, form, f"clearing {host} {currency}")
    return await see_other(request, "/admin/peers", _("Recorded your transfer of %(amount)s to %(host)s; waiting "
                                                      "for them to confirm it arrived.") % _cleared(done))


@page
async def confirm_clearing(request: web.Request) -> web.StreamResponse:
    await operator(request)
    form = await posted_form(request)
    try:
        done = await clearing.confirm(request.app[instance_key], field(form, "host"), field(form, "currency"))
    except Refusal as refusal:
        return await _refused(request, refusal, form, "")
    return await see_other(request, "/admin/peers", _("Confirmed the transfer of %(amount)s from %(host)s: both "
                                                      "books have moved.") % _cleared(done))


@page
async def dispute_clearing(request: web.Request) -> web.StreamResponse:
    await operator(request)
    form = await posted_form(request)
    try:
        done = await clearing.dispute(request.app[instance_key], field(form, "host"), field(form, "currency"))
    except Refusal as refusal:
        return await _refused(request, refusal, form, "")
    return await see_other(request, "/admin/peers", _("Disputed the transfer of %(amount)s from %(host)s: nothing "
                                                      "was booked, and they were told.") % _cleared(done))


def _agreed(done: Agreement) -> dict[str, str]:
    """What a notice about an agreement names: the peer and the currency."""
    return {"host": done.peer_host, "currency": done.currency}


def _cleared(done: Clearing) -> dict[str, str]:
    """What a notice about a clearing names: the peer and the amount, written in the reader's language."""
    return {"host": done.peer_host, "amount": amount_text(Money(done.amount, done.currency))}


def _typed(form: Form) -> Typed:
    currency = field(form, "currency")
    limit = canonical(field(form, "credit_limit"), currency.upper(), allow_zero=True)
    return Typed(currency, limit, iban=field(form, "iban"),
                 account_holder=field(form, "holder"), instructions=field(form, "instructions"))


async def _refused(request: web.Request, refusal: Refusal, form: Form, which: str) -> web.Response:
    """The page again, the message above it and `which` form filled with what was typed."""
    typed = {name: field(form, name) for name in TYPED_FIELDS}
    return await _page(request, {"errors": [said(refusal)], "filled": which, "typed": typed},
                       status=refusal_status(refusal))


async def _page(request: web.Request, context: dict[str, Any], status: int = 200) -> web.Response:
    instance = request.app[instance_key]
    rows, standings = await peering.listed(instance), await clearing.standings(instance)
    return await render_with_notice(request, "admin_peers.html", {
        "rows": rows, "standings": standings, "reference_length": MAX_REFERENCE_LENGTH, "errors": [], "filled": "",
        "typed": {}, **context}, status=status)


def routes() -> list[web.RouteDef]:
    return [web.get("/admin/peers", peers), web.post("/admin/peers", propose),
            web.post("/admin/peers/accept", accept), web.post("/admin/peers/decline", decline),
            web.post("/admin/peers/end", end), web.post("/admin/peers/clearings", record_paid),
            web.post("/admin/peers/clearings/confirm", confirm_clearing),
            web.post("/admin/peers/clearings/dispute", dispute_clearing)]
