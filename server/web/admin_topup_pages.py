"""The operator's money-in page: every top-up and its provider state, transfers received, refunds, disputes.

One page, several small forms, each posting to its own address: a hand
credit, one received transfer, a bank's CSV export, a refund of one top-up,
a declined refund request. A refusal re-renders the page with the message
and changes nothing; a change answers 303 back with what it did, so a reload
never posts twice. Money moves only through `server.payments.wallet_service`,
which the CLI uses too.
"""

import secrets
from typing import Any

from aiohttp import web

from server.appkeys import instance_key, payments_key
from server.http_errors import refusal_status
from server.i18n.current import gettext as _
from server.i18n.formatting import amount_text, explain, read_amount
from server.payments import receipts, wallet_service
from server.payments.bank_transfers import CREDITED, Received
from server.refusal import Refusal
from server.topups import InvalidReference, UnknownAccount, top_up
from server.web import refusals
from server.web.admin_pages import operator
from server.web.notices import render_with_notice, see_other
from server.web.rendering import field, page, posted_form, render
from server.web.typed_amounts import canonical
from settlement import disputes, refunds, topups
from settlement.money import Money, MoneyError, check_currency

#: The largest bank export the page accepts; a month of a community's account is far smaller.
MAX_STATEMENT_BYTES = 1024 * 1024


@page
async def topups_page(request: web.Request) -> web.StreamResponse:
    await operator(request)
    return await render_with_notice(request, "admin_topups.html", await _context(request))


async def _context(request: web.Request, **overrides: Any) -> dict[str, Any]:
    instance = request.app[instance_key]
    async with instance.sessions() as session:
        listed = [receipts.of_topup(topup) for topup in await topups.listed(session)]
        asked = list(await refunds.open_requests(session))
        still_open = list(await disputes.still_open(session))
        unsent = list(await refunds.unsent(session))
    return {"topups": listed, "requests": asked, "disputes": still_open, "unsent": unsent,
            "providers": request.app[payments_key].enabled, "username": "", "amount": "",
            "reference": f"web-{secrets.token_hex(6)}", "errors": [], "results": [], **overrides}


async def _refused(request: web.Request, refusal: Refusal | str, **values: Any) -> web.Response:
    message = refusals.said(refusal) if isinstance(refusal, Refusal) else refusal
    status = refusal_status(refusal) if isinstance(refusal, Refusal) else 400
    return await render(request, "admin_topups.html", await _context(request, errors=[message], **values),
                        status=status)


@page
async def credit_by_hand(request: web.Request) -> web.StreamResponse:
    await operator(request)
    form = await posted_form(request)
    instance = request.app[instance_key]
    values = {name: field(form, name) for name in ("username", "amount", "reference")}
    try:
        credit = read_amount(values["amount"], instance.settings.instance.currency)
        check_currency(credit, instance.settings.instance.currency)
        async with instance.sessions() as session, session.begin():
            done = await top_up(session, values["username"].lower(), credit, values["reference"], instance.clock())
    except MoneyError as error:
        return await _refused(request, explain(error), **values)
    except (UnknownAccount, InvalidReference) as error:
        return await _refused(request, refusals.said(error), **values)
    filled = {"amount": amount_text(done.credited), "username": values["username"], "reference": done.reference,
            "wallet": amount_text(done.wallet)}
    notice = (_("Credited %(amount)s to %(username)s. Wallet of %(username)s: %(wallet)s.") if done.created else
              _("Reference %(reference)s was already credited; nothing changed. Wallet of %(username)s: %(wallet)s."))
    return await see_other(request, "/admin/topups", notice % filled)


@page
async def transfer_received(request: web.Request) -> web.StreamResponse:
    await operator(request)
    form = await posted_form(request)
    instance = request.app[instance_key]
    try:
        currency = instance.settings.instance.currency
        received = await wallet_service.receive_transfer(instance.sessions, field(form, "text"),
                                                         canonical(field(form, "transfer_amount"), currency),
                                                         currency, instance.clock())
    except Refusal as refused:
        return await _refused(request, refused)
    if received.outcome != CREDITED:
        return await _refused(request, _said(received))
    return await see_other(request, "/admin/topups", _said(received))


@page
async def statement_imported(request: web.Request) -> web.StreamResponse:
    await operator(request)
    form = await posted_form(request)
    upload = form.get("statement")
    if not isinstance(upload, web.FileField):
        return await _refused(request, _("Choose the CSV file your bank exported."))
    content = upload.file.read(MAX_STATEMENT_BYTES + 1)
    if len(content) > MAX_STATEMENT_BYTES:
        return await _refused(request, _("This file is larger than a bank export of one month; split it."))
    instance = request.app[instance_key]
    try:
        done = await wallet_service.import_statement(instance.sessions, content.decode("utf-8-sig"),
                                                     instance.settings.instance.currency, instance.clock())
    except (Refusal, UnicodeDecodeError) as refused:
        return await _refused(request, refused if isinstance(refused, Refusal) else _("The file is not UTF-8 text."))
    results = [_result_line(line.line, line.text, received, line.error) for line, received in done]
    return await render(request, "admin_topups.html", await _context(request, results=results))


def _result_line(number: int, text: str, received: Received | None, error: str) -> str:
    if received is None:
        return _("line %(number)s: %(why)s, nothing recorded") % {"number": number, "why": error or _("not a credit")}
    return _("line %(number)s: %(reference)s: %(outcome)s") % {"number": number, "reference": received.reference,
                                                             "outcome": refusals.said(received)}


def _said(received: Received) -> str:
    return _("%(reference)s: %(outcome)s.") % {"reference": received.reference,
                                               "outcome": refusals.said(received)}


@page
async def refund(request: web.Request) -> web.StreamResponse:
    await operator(request)
    form = await posted_form(request)
    instance, payments = request.app[instance_key], request.app[payments_key]
    try:
        typed = canonical(field(form, "refund_amount"), instance.settings.instance.currency)
        made = await wallet_service.refund(instance.sessions, payments, request.match_info["public_id"], typed,
                                           field(form, "refund_reference"), instance.clock)
    except Refusal as refused:
        return await _refused(request, refused)
    return await see_other(request, "/admin/topups", _("Refunded %(amount)s of %(topup)s (%(refund)s).") % {
        "amount": amount_text(Money(made.amount, made.currency)), "topup": request.match_info["public_id"],
        "refund": made.public_id})


@page
async def decline(request: web.Request) -> web.StreamResponse:
    await operator(request)
    form = await posted_form(request)
    instance = request.app[instance_key]
    try:
        async with instance.sessions() as session, session.begin():
            await wallet_service.decline_request(session, field(form, "username"),
                                                 instance.settings.instance.currency, field(form, "reason"),
                                                 instance.clock())
    except Refusal as refused:
        return await _refused(request, refused)
    return await see_other(request, "/admin/topups",
                           _("Declined the refund request of %(username)s.") % {"username": field(form, "username")})


def routes() -> list[web.RouteDef]:
    return [web.get("/admin/topups", topups_page), web.post("/admin/topups", credit_by_hand),
            web.post("/admin/topups/transfers", transfer_received),
            web.post("/admin/topups/statement", statement_imported),
            web.post("/admin/topups/{public_id}/refund", refund),
            web.post("/admin/refund-requests/decline", decline)]
