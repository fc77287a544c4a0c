"""Signing up, logging in and out.

An account is made in the language its sign-up page was shown in, and
logging in brings the account's language to the browser (its cookie), so the
account's choice holds on every device it logs in from.

A failed login says the same thing for an unknown name as for a wrong
password, and costs the same time, so the form tells nobody which names exist.
"""

from aiohttp import web
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from server.accounts import TAKEN, AccountError, create_user
from server.appkeys import instance_key, login_limits_key
from server.i18n import current
from server.i18n.current import gettext as _
from server.mail import addresses
from server.models import User
from server.refusal import Refusal
from server.storable import is_storable
from server.web import languages
from server.web.client_address import client_address
from server.web.notices import render_with_notice
from server.web.passwords import PasswordError, check_strength, hash_password, verify_password
from server.web.refusals import said
from server.web.rendering import PageError, field, local_target, page, posted_form, render, set_cookie, viewer
from server.web.sessions import COOKIE, LIFETIME, close_session, open_session
from server.web.signup_limits import signup_limits_key


@page
async def signup_form(request: web.Request) -> web.StreamResponse:
    _registrations_open(request)
    return await render(request, "signup.html", {"username": "", "email": "", "errors": [],
                                                 "mail_enabled": _mail_enabled(request)})


@page
async def signup(request: web.Request) -> web.StreamResponse:
    _registrations_open(request)
    form = await posted_form(request)
    username, password = field(form, "username").lower(), str(form.get("password", ""))
    email = field(form, "email") if _mail_enabled(request) else ""
    errors = _password_errors(password, str(form.get("confirm", ""))) + _email_errors(email)
    instance, limits, address = request.app[instance_key], request.app[signup_limits_key], client_address(request)
    typed = {"username": username, "email": email, "mail_enabled": _mail_enabled(request)}
    admitted = instance.clock()
    if not errors and not limits.admit(address, admitted):
        return await render(request, "signup.html", {**typed, "errors": [
            _("Too many accounts were made from your address lately. Try again later.")]}, status=429)
    if not errors:
        password_hash = await hash_password(password)
        try:
            async with instance.sessions() as session, session.begin():
                user = await create_user(session, username, bot_username=instance.settings.instance.bot_username,
                                         now=instance.clock(), display_name=field(form, "display_name"))
                user.password_hash = password_hash
                user.language = current.locale()
                if email:
                    await addresses.ask_to_confirm(session, instance.settings.mail, user, email, instance.clock())
                token = await open_session(session, username, instance.clock())
        except AccountError as error:
            limits.forgive(address, admitted)
            errors.append(said(error))
        except IntegrityError:
            limits.forgive(address, admitted)
            errors.append(_(TAKEN) % {"username": username})
    if errors:
        return await render(request, "signup.html", {**typed, "errors": errors}, status=400)
    return _signed_in_redirect(request, token, "/")


@page
async def login_form(request: web.Request) -> web.StreamResponse:
    return await render_with_notice(request, "login.html", {
        "username": "", "next": local_target(request.query.get("next")), "mail_enabled": _mail_enabled(request)})


@page
async def login(request: web.Request) -> web.StreamResponse:
    form = await posted_form(request)
    username, target = field(form, "username").lower(), local_target(field(form, "next"))
    instance, limits, address = request.app[instance_key], request.app[login_limits_key], client_address(request)
    admitted = instance.clock()
    if not limits.admit(username, address, admitted):
        return await _login_refused(request, username, target, _(
            "Too many failed attempts. Wait a quarter of an hour, then try again."), 429)
    if not await verify_password(await _password_hash(request, username), str(form.get("password", ""))):
        return await _login_refused(request, username, target, _("Wrong username or password."), 400)
    limits.succeeded(username, address, admitted)
    async with instance.sessions() as session, session.begin():
        token = await open_session(session, username, instance.clock())
        chosen = await session.scalar(select(User.language).where(User.username == username))
    response = _signed_in_redirect(request, token, target)
    if chosen is not None:
        languages.remember(request, response, chosen)
    return response


@page
async def logout(request: web.Request) -> web.StreamResponse:
    await posted_form(request)
    token = (await viewer(request)).session_token
    if token is not None:
        instance = request.app[instance_key]
        async with instance.sessions() as session, session.begin():
            await close_session(session, token)
    response = _see_other("/")
    response.del_cookie(COOKIE, path="/")
    return response


async def _password_hash(request: web.Request, username: str) -> str | None:
    """The account's hash; None for a name no account has, among them names no database can store."""
    if not is_storable(username):
        return None
    async with request.app[instance_key].sessions() as session:
        return await session.scalar(select(User.password_hash).where(User.username == username))


def _registrations_open(request: web.Request) -> None:
    if not request.app[instance_key].settings.instance.open_registrations:
        raise PageError(403, _("This instance does not take sign-ups; ask its operator for an account."))


async def _login_refused(request: web.Request, username: str, target: str, error: str, status: int) -> web.Response:
    return await render(request, "login.html", {"username": username, "next": target, "error": error,
                                                "mail_enabled": _mail_enabled(request)}, status=status)


def _mail_enabled(request: web.Request) -> bool:
    return request.app[instance_key].settings.mail.enabled


def _email_errors(email: str) -> list[str]:
    """An address is optional; one that was given must look like one (the link sent to it is the real check)."""
    try:
        if email:
            addresses.checked(email)
    except Refusal as refusal:
        return [said(refusal)]
    return []


def _password_errors(password: str, confirm: str) -> list[str]:
    try:
        check_strength(password)
    except PasswordError as error:
        return [str(error)]
    return [] if password == confirm else [_("The two passwords differ.")]


def _signed_in_redirect(request: web.Request, token: str, target: str) -> web.StreamResponse:
    response = _see_other(target)
    set_cookie(request, response, COOKIE, token, max_age=int(LIFETIME.total_seconds()))
    return response


def _see_other(target: str) -> web.Response:
    return web.Response(status=303, headers={"Location": target})


def routes() -> list[web.RouteDef]:
    return [web.get("/signup", signup_form), web.post("/signup", signup), web.get("/login", login_form),
            web.post("/login", login), web.post("/logout", logout)]
