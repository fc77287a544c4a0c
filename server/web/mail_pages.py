"""The pages email links lead to: confirming an address, unsubscribing, and setting a forgotten password.

None of them needs a login: the link's token is the proof. A bad token is a
page saying so, and changes nothing. Asking for a password reset answers
the same whether or not the name or address is known, and is counted like a
failed login, so the form neither tells which accounts exist nor floods
anyone's inbox.
"""

from aiohttp import web

from server.appkeys import instance_key
from server.i18n.current import gettext as _
from server.mail import addresses, kinds, links, resets
from server.refusal import Refusal
from server.web.client_address import client_address
from server.web.login_limits import LoginLimits
from server.web.notices import see_other
from server.web.passwords import PasswordError, check_strength, hash_password
from server.web.refusals import as_page_error, said
from server.web.rendering import PageError, field, page, posted_form, render

reset_limits_key = web.AppKey("reset_limits", LoginLimits)


@page
async def verify(request: web.Request) -> web.StreamResponse:
    instance = request.app[instance_key]
    with as_page_error():
        async with instance.sessions() as session, session.begin():
            user = await addresses.confirm(session, request.match_info["token"], instance.clock())
    return await render(request, "mail_confirmed.html", {"address": user.email, "username": user.username})


@page
async def unsubscribe_form(request: web.Request) -> web.StreamResponse:
    instance = request.app[instance_key]
    async with instance.sessions() as session:
        user = await addresses.subscriber(session, request.match_info["token"])
    if user is None:
        raise PageError(404, _(addresses.UNKNOWN_UNSUBSCRIBE))
    return await render(request, "unsubscribe.html", {"token": request.match_info["token"], "done": False})


@page
async def unsubscribe(request: web.Request) -> web.StreamResponse:
    await posted_form(request)
    instance = request.app[instance_key]
    with as_page_error():
        async with instance.sessions() as session, session.begin():
            await addresses.unsubscribe(session, request.match_info["token"])
    return await render(request, "unsubscribe.html", {"token": request.match_info["token"], "done": True})


@page
async def forgot_form(request: web.Request) -> web.StreamResponse:
    _mail_on(request)
    return await render(request, "password_forgot.html", {"asked": False})


@page
async def forgot(request: web.Request) -> web.StreamResponse:
    _mail_on(request)
    typed = field(await posted_form(request), "account")
    instance, limits = request.app[instance_key], request.app[reset_limits_key]
    if not limits.admit(typed.lower(), client_address(request), instance.clock()):
        return await render(request, "password_forgot.html", {"asked": False, "error": _(
            "Too many requests. Wait a quarter of an hour, then try again.")}, status=429)
    async with instance.sessions() as session, session.begin():
        await resets.ask(session, instance.settings.mail, typed, instance.clock())
    return await render(request, "password_forgot.html", {"asked": True})


@page
async def reset_form(request: web.Request) -> web.StreamResponse:
    instance = request.app[instance_key]
    async with instance.sessions() as session:
        found = await links.valid(session, kinds.RESET, request.match_info["token"], instance.clock())
    if found is None:
        raise PageError(404, _(resets.UNKNOWN_LINK))
    return await render(request, "password_reset.html", {"token": request.match_info["token"], "errors": []})


@page
async def reset(request: web.Request) -> web.StreamResponse:
    form = await posted_form(request)
    token, password = request.match_info["token"], str(form.get("password", ""))
    try:
        check_strength(password)
    except PasswordError as error:
        return await _reset_refused(request, token, str(error))
    if password != str(form.get("confirm", "")):
        return await _reset_refused(request, token, _("The two passwords differ."))
    instance = request.app[instance_key]
    password_hash = await hash_password(password)
    try:
        async with instance.sessions() as session, session.begin():
            await resets.set_password(session, token, password_hash, instance.clock())
    except Refusal as refusal:
        raise PageError(404, said(refusal)) from refusal
    return await see_other(request, "/login", _("Your new password is set. Log in with it."))


async def _reset_refused(request: web.Request, token: str, message: str) -> web.Response:
    return await render(request, "password_reset.html", {"token": token, "errors": [message]}, status=400)


def _mail_on(request: web.Request) -> None:
    if not request.app[instance_key].settings.mail.enabled:
        raise PageError(404, _("This instance sends no email; ask its operator to set a new password for you."))


def setup(app: web.Application) -> None:
    app[reset_limits_key] = LoginLimits()
    app.router.add_routes([
        web.get("/mail/verify/{token}", verify), web.get("/mail/unsubscribe/{token}", unsubscribe_form),
        web.post("/mail/unsubscribe/{token}", unsubscribe), web.get("/password/forgot", forgot_form),
        web.post("/password/forgot", forgot), web.get("/password/reset/{token}", reset_form),
        web.post("/password/reset/{token}", reset)])
