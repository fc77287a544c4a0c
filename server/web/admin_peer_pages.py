"""The operator's agreements with other Mecene instances: the list, a form to propose one, and each one's buttons.

Every form calls `server.peering`, as `mecene peers` does. A refusal shows the
page again with the message and what was typed, with the refusal's status,
and changes nothing; a change answers 303 back with a notice.
"""

from typing import Any

from aiohttp import web
from multidict import MultiDictProxy

from server import peering
from server.appkeys import instance_key
from server.http_errors import refusal_status
from server.peering import Typed
from server.refusal import Refusal
from server.web.admin_pages import operator
from server.web.notices import render_with_notice, see_other
from server.web.rendering import field, page, posted_form
from settlement import agreements

TERMS_FIELDS = ("host", "currency", "credit_limit", "iban", "holder", "instructions")
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
    return await see_other(request, "/admin/peers", f"Proposed to {done.peer_host} in {done.currency}; "
                                                    "waiting for their answer.")


@page
async def accept(request: web.Request) -> web.StreamResponse:
    await operator(request)
    form = await posted_form(request)
    try:
        done = await peering.accept(request.app[instance_key], field(form, "host"), _typed(form))
    except Refusal as refusal:
        return await _refused(request, refusal, form, f"{field(form, 'host')} {field(form, 'currency')}")
    return await see_other(request, "/admin/peers", f"The agreement with {done.peer_host} in {done.currency} "
                                                    "is in force.")


@page
async def decline(request: web.Request) -> web.StreamResponse:
    await operator(request)
    form = await posted_form(request)
    try:
        done = await peering.decline(request.app[instance_key], field(form, "host"), field(form, "currency"))
    except Refusal as refusal:
        return await _refused(request, refusal, form, "")
    return await see_other(request, "/admin/peers", f"Declined the offer of {done.peer_host} in {done.currency}.")


@page
async def end(request: web.Request) -> web.StreamResponse:
    await operator(request)
    form = await posted_form(request)
    try:
        done = await peering.end(request.app[instance_key], field(form, "host"), field(form, "currency"))
    except Refusal as refusal:
        return await _refused(request, refusal, form, "")
    said = "Ended the agreement with" if done.state == agreements.ENDED else "Withdrew the proposal to"
    return await see_other(request, "/admin/peers", f"{said} {done.peer_host} in {done.currency}; what is owed "
                                                    "stays owed until cleared.")


def _typed(form: Form) -> Typed:
    return Typed(field(form, "currency"), field(form, "credit_limit"), iban=field(form, "iban"),
                 account_holder=field(form, "holder"), instructions=field(form, "instructions"))


async def _refused(request: web.Request, refusal: Refusal, form: Form, which: str) -> web.Response:
    """The page again, the message above it and `which` form filled with what was typed."""
    typed = {name: field(form, name) for name in TERMS_FIELDS}
    return await _page(request, {"errors": [refusal.message], "filled": which, "typed": typed},
                       status=refusal_status(refusal))


async def _page(request: web.Request, context: dict[str, Any], status: int = 200) -> web.Response:
    rows = await peering.listed(request.app[instance_key])
    return await render_with_notice(request, "admin_peers.html", {
        "rows": rows, "errors": [], "filled": "", "typed": {}, **context}, status=status)


def routes() -> list[web.RouteDef]:
    return [web.get("/admin/peers", peers), web.post("/admin/peers", propose),
            web.post("/admin/peers/accept", accept), web.post("/admin/peers/decline", decline),
            web.post("/admin/peers/end", end)]
