"""Flattring from the web: the "Flattr a URL" form (where bookmarklets and remote buttons land) and undo.

The form only ever flattrs on a POST, so a link to `/flattr?url=…` from any
site merely fills the field for the signed-in person to confirm.
"""

from aiohttp import web

from server.appkeys import instance_key
from server.donations import donor_view
from server.flattring import Target, flattr_target, resolve_target, undo_flattr
from server.http_errors import refusal_status
from server.i18n.current import N_
from server.i18n.current import gettext as _
from server.models import User
from server.refusal import Kind, Refusal
from server.storable import path_id
from server.web.flattr_confirmation import confirmation
from server.web.labels import actor_labels
from server.web.notices import see_other
from server.web.refusals import as_page_error, said
from server.web.rendering import PageError, field, page, posted_form, render, signed_in

MAX_URL = 2048


@page
async def flattr_form(request: web.Request) -> web.StreamResponse:
    """An address given (a button, a bookmarklet) is shown resolved, to confirm; none, the form to paste one."""
    user, url = await signed_in(request), request.query.get("url", "")[:MAX_URL]
    if not url.strip():
        return await render(request, "flattr.html", {"url": url, "error": None})
    try:
        confirm = await confirmation(request.app[instance_key], user, url)
    except Refusal as refusal:
        return await _refused(request, url, said(refusal), refusal_status(refusal))
    return await render(request, "flattr.html", {"url": url, "error": None, "confirm": confirm})


@page
async def flattr(request: web.Request) -> web.StreamResponse:
    user = await signed_in(request)
    url = field(await posted_form(request), "url")
    try:
        await _check_can_give(request, user)
        if len(url) > MAX_URL:
            raise Refusal(Kind.INVALID, "invalid_url", N_("That address is longer than %(most)s characters."),
                          {"most": MAX_URL})
        target = await resolve_target(request.app[instance_key], url)
        record, created = await flattr_target(request.app[instance_key], user, target)
    except Refusal as refusal:
        return await _refused(request, url, said(refusal), refusal_status(refusal))
    described = await _described(request, target)
    if not created:
        return await _refused(request, url, _("You already flattred “%(title)s” by %(author)s this period.")
                              % described, 409)
    return await see_other(request, "/", _("You flattred “%(title)s” by %(author)s.") % described)


@page
async def undo(request: web.Request) -> web.StreamResponse:
    user = await signed_in(request)
    await posted_form(request)
    flattr_id = path_id(request.match_info["id"])
    if flattr_id is None:
        raise PageError(404, _("There is no such flattr."))
    with as_page_error():
        record = await undo_flattr(request.app[instance_key], user, flattr_id)
    return await see_other(request, "/", _("Flattr of %(thing)s undone; its author is told.")
                           % {"thing": record.thing_uri})


async def _check_can_give(request: web.Request, user: User) -> None:
    """A flattr from someone with no budget or an empty wallet would carry nothing: say so before it is made."""
    instance = request.app[instance_key]
    async with instance.sessions() as session:
        view = await donor_view(session, instance, user, instance.current_period())
    if view.budget.amount == 0:
        raise Refusal(Kind.CONFLICT, "no_budget", N_("Set a monthly budget in Settings first: your flattrs share it."))
    if view.wallet.amount <= 0:
        raise Refusal(Kind.CONFLICT, "empty_wallet",
                      N_("Your wallet is empty: add money to it on your Wallet page (/wallet) first."))


async def _described(request: web.Request, target: Target) -> dict[str, str]:
    """What names the thing in a sentence: its title (its address when it has none) and its author's handle."""
    instance = request.app[instance_key]
    async with instance.sessions() as session:
        author = (await actor_labels(session, instance.urls, [target.author]))[target.author]
    return {"title": target.title or target.object_id, "author": author}


async def _refused(request: web.Request, url: str, message: str, status: int) -> web.Response:
    return await render(request, "flattr.html", {"url": url, "error": message}, status=status)


def routes() -> list[web.RouteDef]:
    return [web.get("/flattr", flattr_form), web.post("/flattr", flattr),
            web.post("/flattrs/{id}/undo", undo)]
