"""Settings: budget, also-send-Like, language, linked Mastodon accounts and their boosts, escrow aliases, email.

Each setting is its own small form posting to its own address: a refusal
re-renders the page with the message beside that form and changes nothing;
a change answers 303 back with a notice, so a reload never posts twice.
"""

from typing import Any

from aiohttp import web

from server import aliases, link_settings
from server.appkeys import instance_key
from server.bot import codes, links
from server.bot.replies import how_to_send
from server.i18n.current import gettext as _
from server.i18n.current import ngettext, speaking
from server.i18n.formatting import amount_text
from server.i18n.locales import NAMES, supported
from server.mail import addresses
from server.models import User
from server.refusal import Refusal
from server.storable import path_id
from server.web import languages
from server.web.labels import actor_labels
from server.web.notices import render_with_notice, see_other
from server.web.passwords import verify_password
from server.web.refusals import as_page_error, said
from server.web.rendering import PageError, field, local_target, page, posted_form, signed_in
from server.web.typed_amounts import typed_amount
from settlement import wallets
from settlement.money import format_amount

#: Pages that show the link-code form and may be returned to after it.
CODE_PAGES = ("/settings", "/claim")


@page
async def settings_page(request: web.Request) -> web.StreamResponse:
    user = await signed_in(request)
    return await render_with_notice(request, "settings.html", await settings_context(request, user))


async def settings_context(request: web.Request, user: User, **overrides: Any) -> dict[str, Any]:
    instance = request.app[instance_key]
    currency = instance.settings.instance.currency
    async with instance.sessions() as session:
        budget = await wallets.budget_of(session, user.username, currency)
        linked = await links.of_user(session, user.username)
        labels = await actor_labels(session, instance.urls, [row.actor_uri for row in linked])
        named = await aliases.aliases_of(session, user.username)
    return {"budget_text": format_amount(budget), "links": [(row, labels[row.actor_uri]) for row in linked],
            "aliases_text": "\n".join(named), "bot_handle": link_settings.bot_handle(instance),
            "actor": instance.urls.actor(user.username), "mail_enabled": instance.settings.mail.enabled,
            "email_text": "", "errors": {}, **overrides}


@page
async def save_budget(request: web.Request) -> web.StreamResponse:
    user = await signed_in(request)
    typed = field(await posted_form(request), "amount")
    instance = request.app[instance_key]
    try:
        budget = typed_amount(typed, instance.settings.instance.currency, allow_zero=True)
    except Refusal as refusal:
        return await _refused(request, user, "budget", said(refusal), budget_text=typed)
    async with instance.sessions() as session, session.begin():
        await wallets.set_budget(session, user.username, budget, instance.clock())
    return await see_other(request, "/settings", _("Budget saved: %(budget)s a month.") % {
        "budget": amount_text(budget)})


@page
async def save_like(request: web.Request) -> web.StreamResponse:
    user = await signed_in(request)
    wanted = field(await posted_form(request), "also_send_like") == "on"
    instance = request.app[instance_key]
    async with instance.sessions() as session, session.begin():
        (await session.get_one(User, user.id)).also_send_like = wanted
    notice = _("Saved: your flattrs also send a Like.") if wanted else _("Saved: your flattrs send no Like.")
    return await see_other(request, "/settings", notice)


@page
async def save_language(request: web.Request) -> web.StreamResponse:
    """The account's language: its pages on every browser it logs in from, and its emails."""
    user = await signed_in(request)
    chosen = supported(field(await posted_form(request), "locale"))
    if chosen is None:
        return await _refused(request, user, "language", _("Choose English or French."))
    await languages.save_for_account(request, chosen)
    with speaking(chosen):
        notice = _("Language saved: %(language)s.") % {"language": NAMES[chosen]}
    response = await see_other(request, "/settings", notice)
    languages.remember(request, response, chosen)
    return response


@page
async def new_code(request: web.Request) -> web.StreamResponse:
    user = await signed_in(request)
    back = local_target(field(await posted_form(request), "back"))
    instance = request.app[instance_key]
    async with instance.sessions() as session, session.begin():
        issued = await codes.issue(session, user.username, now=instance.clock(),
                                   minutes=instance.settings.instance.link_code_minutes)
    handle = link_settings.bot_handle(instance)
    issued_text = _("Your link code is %(code)s, valid until %(time)s UTC.") % {
        "code": issued.code, "time": f"{issued.expires_at:%H:%M}"}
    write = _("Write: %(message)s") % {"message": f"{handle} {issued.code}"}
    return await see_other(request, back if back in CODE_PAGES else "/settings",
                           f"{issued_text} {how_to_send(handle)} {write}")


@page
async def unlink(request: web.Request) -> web.StreamResponse:
    user = await signed_in(request)
    await posted_form(request)
    with as_page_error():
        row = await link_settings.unlink(request.app[instance_key], user.username, _link_id(request))
    return await see_other(request, "/settings", _("Unlinked %(account)s; it was told.") % {"account": row.actor_uri})


@page
async def save_boosts(request: web.Request) -> web.StreamResponse:
    user = await signed_in(request)
    enabled = field(await posted_form(request), "auto_flattr_boosts") == "on"
    with as_page_error():
        row = await link_settings.set_auto_flattr_boosts(request.app[instance_key], user.username,
                                                         _link_id(request), enabled)
    notice = _("Boosts of %(account)s are now flattred for you.") if enabled else _(
        "Boosts of %(account)s are no longer flattred.")
    return await see_other(request, "/settings", notice % {"account": row.actor_uri})


@page
async def save_aliases(request: web.Request) -> web.StreamResponse:
    user = await signed_in(request)
    typed = field(await posted_form(request), "aliases")
    instance = request.app[instance_key]
    try:
        wanted = aliases.checked(instance.urls, typed.split())
    except Refusal as refusal:
        return await _refused(request, user, "aliases", said(refusal), aliases_text=typed)
    async with instance.sessions() as session, session.begin():
        await aliases.set_aliases(session, user.username, wanted)
    return await see_other(request, "/settings", ngettext(
        "Aliases saved: %(count)s account.", "Aliases saved: %(count)s accounts.", len(wanted)) % {
        "count": len(wanted)})


@page
async def save_email(request: web.Request) -> web.StreamResponse:
    """A new address is used once confirmed by the link sent to it; the password guards a stolen session."""
    user = await signed_in(request)
    form = await posted_form(request)
    typed, instance = field(form, "email"), request.app[instance_key]
    if not instance.settings.mail.enabled:
        raise PageError(404, _("This instance sends no email."))
    if not await verify_password(user.password_hash, str(form.get("password", ""))):
        return await _refused(request, user, "email", _("Wrong password: your address is unchanged."),
                              email_text=typed)
    async with instance.sessions() as session, session.begin():
        row = await session.get_one(User, user.id)
        if not typed:
            addresses.remove(row)
            return await see_other(request, "/settings", _("Your email address is removed: we send you no email."))
        try:
            address = await addresses.ask_to_confirm(session, instance.settings.mail, row, typed, instance.clock())
        except Refusal as refusal:
            return await _refused(request, user, "email", said(refusal), email_text=typed)
    return await see_other(request, "/settings", _(
        "A link to confirm %(address)s is on its way. Your address changes when you open it.") % {"address": address})


@page
async def save_mail_choices(request: web.Request) -> web.StreamResponse:
    user = await signed_in(request)
    form = await posted_form(request)
    instance = request.app[instance_key]
    async with instance.sessions() as session, session.begin():
        row = await session.get_one(User, user.id)
        row.mail_summaries = field(form, "mail_summaries") == "on"
        row.mail_notices = field(form, "mail_notices") == "on"
    return await see_other(request, "/settings", _("Saved: what we email you."))


async def _refused(request: web.Request, user: User, form: str, message: str, **typed: str) -> web.Response:
    context = await settings_context(request, user, errors={form: message}, **typed)
    return await render_with_notice(request, "settings.html", context, status=400)


def _link_id(request: web.Request) -> int:
    found = path_id(request.match_info["id"])
    if found is None:
        raise PageError(404, _("You have no such linked account."))
    return found


def routes() -> list[web.RouteDef]:
    return [web.get("/settings", settings_page), web.post("/settings/budget", save_budget),
            web.post("/settings/like", save_like), web.post("/settings/language", save_language),
            web.post("/settings/link-code", new_code),
            web.post("/settings/links/{id}/unlink", unlink), web.post("/settings/links/{id}/boosts", save_boosts),
            web.post("/settings/aliases", save_aliases), web.post("/settings/email", save_email),
            web.post("/settings/mail", save_mail_choices)]
