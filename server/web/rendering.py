"""Pages rendered from Jinja2 templates, with who is looking and the CSRF token their forms carry.

Every handler of a page goes through `page`, so a refusal (`PageError`) is
an HTML page with the status it deserves rather than the API's JSON, and a
visitor without a session gets the cookie that their first form will need;
a browser sent to an address no route serves gets a page too (`unrouted_pages`).
"""

import hmac
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import aiohttp_jinja2
import jinja2
from aiohttp import web
from multidict import MultiDictProxy

from server.appkeys import instance_key, login_limits_key
from server.i18n.current import gettext as _
from server.i18n.jinja import speak
from server.models import User
from server.storable import is_encodable
from server.web.links import external_link
from server.web.login_limits import LoginLimits
from server.web.sessions import COOKIE, find_session, is_issued_shape
from server.web.signup_limits import SignupLimits, signup_limits_key
from settlement.money import Money, format_amount

ANONYMOUS_COOKIE = "mecene_csrf"
STATIC = Path(__file__).parent / "static"
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class PageError(Exception):
    """A refusal shown to a person: the status and one sentence saying what to do."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message


@dataclass(frozen=True)
class Viewer:
    user: User | None
    csrf: str
    session_token: str | None
    new_anonymous_cookie: bool


VIEWER = web.RequestKey("viewer", Viewer)


def setup(app: web.Application) -> None:
    environment = aiohttp_jinja2.setup(app, loader=jinja2.PackageLoader("server.web", "templates"),
                                       autoescape=jinja2.select_autoescape(default=True),
                                       extensions=["jinja2.ext.i18n"])
    speak(environment)
    environment.filters["money"] = lambda amount, currency: format_amount(Money(int(amount), currency))
    environment.filters["external_link"] = external_link
    app.router.add_static("/static", STATIC)
    app.middlewares.append(unrouted_pages)
    app[login_limits_key] = LoginLimits()
    registrations = app[instance_key].settings.instance
    app[signup_limits_key] = SignupLimits(registrations.signups_per_address,
                                          timedelta(minutes=registrations.signup_window_minutes))


@web.middleware
async def unrouted_pages(request: web.Request, handler: Handler) -> web.StreamResponse:
    """A browser sent to an address no route serves, or with a method it does not take, gets a page.

    The router raises these where no handler of ours runs, so `page` cannot
    catch them; the API's and ActivityPub's clients, which do not ask for HTML,
    still get the API's JSON error.
    """
    try:
        return await handler(request)
    except (web.HTTPNotFound, web.HTTPMethodNotAllowed) as error:
        if error.content_type == "application/json" or not _wants_page(request):
            raise
        message = (_("There is no page at this address.") if error.status == 404
                   else _("This page cannot be opened that way. Follow a link or a button to it instead."))
        return await render(request, "error.html", {"message": message}, status=error.status)


def _wants_page(request: web.Request) -> bool:
    return "text/html" in request.headers.get("Accept", "") and not request.path.startswith("/api/")


def page(handler: Handler) -> Handler:
    async def wrapped(request: web.Request) -> web.StreamResponse:
        try:
            return await handler(request)
        except PageError as error:
            return await render(request, "error.html", {"message": error.message}, status=error.status)

    return wrapped


async def viewer(request: web.Request) -> Viewer:
    """Looked up once per request: the session cookie's user, or an anonymous visitor's CSRF cookie."""
    if VIEWER not in request:
        request[VIEWER] = await _look_up(request)
    return request[VIEWER]


async def _look_up(request: web.Request) -> Viewer:
    token = request.cookies.get(COOKIE)
    if token:
        instance = request.app[instance_key]
        async with instance.sessions() as session:
            found = await find_session(session, token, instance.clock())
        if found is not None:
            return Viewer(found[1], found[0].csrf_token, token, False)
    anonymous = request.cookies.get(ANONYMOUS_COOKIE)
    if anonymous and is_issued_shape(anonymous):
        return Viewer(None, anonymous, None, False)
    return Viewer(None, secrets.token_urlsafe(32), None, True)


async def signed_in(request: web.Request) -> User:
    """The viewer's account; a visitor without one is sent to log in and brought back afterwards."""
    user = (await viewer(request)).user
    if user is None:
        raise web.HTTPSeeOther(f"/login?next={quote(request.path_qs, safe='')}")
    return user


async def posted_form(request: web.Request) -> MultiDictProxy[str | bytes | bytearray | web.FileField]:
    """The form, once its CSRF token matches the viewer's: a cross-site post changes nothing."""
    form = await _read_form(request)
    sent = form.get("csrf")
    expected = (await viewer(request)).csrf
    if not isinstance(sent, str) or not hmac.compare_digest(sent.encode(), expected.encode()):
        raise PageError(403, _("This form has expired or came from another site. Reload the page and try again."))
    return form


async def _read_form(request: web.Request) -> MultiDictProxy[str | bytes | bytearray | web.FileField]:
    """The posted fields, all of them text that can be shown again: a 4xx page for any form that is not.

    aiohttp decodes a form in whatever charset the request names, strictly:
    bytes that are not in it, a charset Python does not know or a multipart
    part without a name raise ValueError or LookupError, and a charset such as
    `unicode_escape` yields lone surrogates, which no page can be encoded with.
    """
    try:
        form = await request.post()
    except web.HTTPRequestEntityTooLarge:
        raise PageError(413, _("This form is larger than this site accepts.")) from None
    except (ValueError, LookupError):
        raise PageError(400, _("This form could not be read. Reload the page and send it again.")) from None
    if not all(is_encodable(value) for value in form.values() if isinstance(value, str)):
        raise PageError(400, _("This form holds text that is not valid Unicode. Reload the page and send it again."))
    return form


def field(form: MultiDictProxy[str | bytes | bytearray | web.FileField], name: str) -> str:
    value = form.get(name, "")
    return value.strip() if isinstance(value, str) else ""


def local_target(path: str | None) -> str:
    """Where to go after logging in: only a path of this site, so a link cannot send anyone elsewhere.

    Browsers drop tabs and newlines from an address and read a backslash as a
    slash, so `/<tab>/evil.example` and `/<backslash>evil.example` both mean
    `//evil.example`, another host: any control character, space or backslash
    is refused outright, and what is left must be a path with no scheme and no
    host.
    """
    if (not path or not path.startswith("/") or path.startswith("//") or "\\" in path
            or any(character <= " " or character == "\x7f" for character in path)):
        return "/"
    parts = urlsplit(path)
    return path if not parts.scheme and not parts.netloc else "/"


async def render(request: web.Request, template: str, context: dict[str, Any], status: int = 200) -> web.Response:
    looking = await viewer(request)
    instance = request.app[instance_key]
    response = aiohttp_jinja2.render_template(template, request, {
        "viewer": looking.user, "csrf": looking.csrf, "instance_name": instance.settings.instance.name,
        "here": request.path_qs,
        "currency": instance.settings.instance.currency, **context}, status=status)
    if looking.new_anonymous_cookie:
        set_cookie(request, response, ANONYMOUS_COOKIE, looking.csrf, samesite="Strict")
    response.headers["Cache-Control"] = "no-store"
    return response


def set_cookie(request: web.Request, response: web.StreamResponse, name: str, value: str, *,
               samesite: str = "Lax", max_age: int | None = None) -> None:
    secure = not request.app[instance_key].settings.dev.insecure
    response.set_cookie(name, value, httponly=True, secure=secure, samesite=samesite, path="/", max_age=max_age)
