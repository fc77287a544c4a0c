"""The operator's money-out page: what creators wait for, batches, their bank files, and lines that came back.

The operator approves every waiting withdrawal of one currency into a batch,
downloads its SEPA file for the bank (and the list of the lines to pay by
hand), marks the batch executed once the bank ran it, and returns a line the
bank refused or sent back, saying why: the creator reads the reason. As on
the other operator pages, each form posts to its own address, a refusal
re-renders the page with the message and moves nothing (a second "Mark
executed" is a 409 saying so), and a change answers 303 back with what it
did. Everything goes through `server.withdrawing`, which the CLI uses too.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from server.appkeys import instance_key
from server.http_errors import refusal_status
from server.i18n.current import N_, ngettext
from server.i18n.current import gettext as _
from server.i18n.formatting import amount_text, explain
from server.refusal import Kind, Refusal
from server.storable import checked_text
from server.web.admin_pages import operator
from server.web.notices import render_with_notice, see_other
from server.web.payout_pages import paid_to
from server.web.refusals import as_page_error
from server.web.rendering import field, page, posted_form, render
from server.withdrawing import bank_files, service
from settlement import withdrawals
from settlement.models import Withdrawal, WithdrawalBatch
from settlement.money import Money, MoneyError, minor_digits

#: The longest reason a returned line keeps, as `settlement.withdrawals` stores it.
MAX_REASON = 300


@dataclass(frozen=True)
class Batch:
    """A batch as the page lists it: its lines, and which of its two files has lines still to pay."""

    batch: WithdrawalBatch
    lines: Sequence[Withdrawal]

    @property
    def has_sepa(self) -> bool:
        return any(line.method == withdrawals.SEPA and line.state != bank_files.RETURNED for line in self.lines)

    @property
    def has_others(self) -> bool:
        return any(line.method == withdrawals.OTHER and line.state != bank_files.RETURNED for line in self.lines)


@page
async def withdrawals_page(request: web.Request) -> web.StreamResponse:
    await operator(request)
    return await render_with_notice(request, "admin_withdrawals.html", await _context(request))


async def _context(request: web.Request, **overrides: Any) -> dict[str, Any]:
    async with request.app[instance_key].sessions() as session:
        totals = await withdrawals.waiting_totals(session)
        waiting = await withdrawals.listed(session, state=withdrawals.REQUESTED)
        made = [Batch(batch, await withdrawals.lines(session, batch)) for batch in await withdrawals.batches(session)]
    return {"totals": totals, "waiting": waiting, "made": made, "paid_to": paid_to,
            "returnable": {withdrawals.RETURN_BATCHED.source, withdrawals.RETURN_PAID.source}, "errors": [],
            **overrides}


async def _refused(request: web.Request, refusal: Refusal) -> web.Response:
    return await render(request, "admin_withdrawals.html", await _context(request, errors=[refusal.message]),
                        status=refusal_status(refusal))


@page
async def approve(request: web.Request) -> web.StreamResponse:
    await operator(request)
    currency = field(await posted_form(request), "currency").upper()
    instance = request.app[instance_key]
    try:
        _check_currency(currency)
        async with instance.sessions() as session, session.begin():
            made = await service.batch(session, currency, None, instance.clock())
            lines = await withdrawals.lines(session, made)
    except Refusal as refused:
        return await _refused(request, refused)
    total = Money(sum(line.amount for line in lines), currency)
    said = ngettext("Batch %(batch)s approved: %(count)s withdrawal, %(amount)s. Pay it, then mark it executed.",
                    "Batch %(batch)s approved: %(count)s withdrawals, %(amount)s. Pay it, then mark it executed.",
                    len(lines))
    return await see_other(request, "/admin/withdrawals",
                           said % {"batch": made.public_id, "count": len(lines), "amount": amount_text(total)})


def _check_currency(currency: str) -> None:
    try:
        minor_digits(currency)
    except MoneyError as refused:
        raise Refusal(Kind.INVALID, refused.code, explain(refused)) from refused


@page
async def mark_executed(request: web.Request) -> web.StreamResponse:
    await operator(request)
    await posted_form(request)
    instance = request.app[instance_key]
    try:
        async with instance.sessions() as session, session.begin():
            made = await service.executed(session, request.match_info["public_id"], instance.clock())
    except Refusal as refused:
        return await _refused(request, refused)
    return await see_other(request, "/admin/withdrawals", _("Batch %(batch)s marked executed: its lines are paid "
                                                            "and their money has left the books.") % {
        "batch": made.public_id})


@page
async def return_line(request: web.Request) -> web.StreamResponse:
    await operator(request)
    reason = field(await posted_form(request), "reason")
    instance = request.app[instance_key]
    try:
        checked_text(reason, N_("The reason"), MAX_REASON)
        async with instance.sessions() as session, session.begin():
            row = await service.return_line(session, request.match_info["public_id"], reason, instance.clock())
    except Refusal as refused:
        return await _refused(request, refused)
    return await see_other(request, "/admin/withdrawals", _(
        "Returned %(withdrawal)s: %(amount)s is available to %(username)s again, who reads why.") % {
        "withdrawal": row.public_id, "amount": amount_text(Money(row.amount, row.currency)),
        "username": row.username})


@page
async def sepa_download(request: web.Request) -> web.StreamResponse:
    """The batch's pain.001 file, written on each download and dated today, the day it reaches the bank."""
    await operator(request)
    instance = request.app[instance_key]
    settings = instance.settings
    with as_page_error():
        async with instance.sessions() as session:
            made = await service.the_batch(session, request.match_info["public_id"])
            lines = await withdrawals.lines(session, made)
        content = bank_files.sepa_file(settings.payments, settings.instance.name, made, lines,
                                       instance.clock().date())
    return _attachment(content, f"{made.public_id}-sepa.xml", "application/xml")


@page
async def others_download(request: web.Request) -> web.StreamResponse:
    await operator(request)
    with as_page_error():
        async with request.app[instance_key].sessions() as session:
            made = await service.the_batch(session, request.match_info["public_id"])
            lines = await withdrawals.lines(session, made)
    return _attachment(bank_files.other_lines(lines).encode(), f"{made.public_id}-others.csv", "text/csv",
                       charset="utf-8")


def _attachment(content: bytes, name: str, media_type: str, *, charset: str | None = None) -> web.Response:
    """A file to save, never shown in the page's place nor kept in a cache: it names creators' accounts."""
    return web.Response(body=content, content_type=media_type, charset=charset,
                        headers={"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"})


def routes() -> list[web.RouteDef]:
    return [web.get("/admin/withdrawals", withdrawals_page), web.post("/admin/withdrawals/batches", approve),
            web.post("/admin/withdrawals/batches/{public_id}/executed", mark_executed),
            web.get("/admin/withdrawals/batches/{public_id}/sepa.xml", sepa_download),
            web.get("/admin/withdrawals/batches/{public_id}/others.csv", others_download),
            web.post("/admin/withdrawals/{public_id}/return", return_line)]
