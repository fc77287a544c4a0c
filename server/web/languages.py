"""Each page in its reader's language: chosen once with the language form, else asked by the browser.

The choice lives in a cookie rather than behind the session, so that it is
known before any database is read, holds for a visitor without an account
(the sign-up page is the first a newcomer reads), and costs the API and the
inboxes nothing. A logged-in reader's choice is also their account's
(`users.language`), which logging in brings back to the cookie of any
browser. The answer says which language it is in and that it depends on both
(`Content-Language`, `Vary`), so no cache hands a French page to an English
reader.
"""

from aiohttp import hdrs, web

from server.appkeys import instance_key
from server.i18n import current
from server.i18n.current import gettext as _
from server.i18n.locales import negotiate, supported
from server.models import User
from server.web.rendering import Handler, PageError, field, local_target, page, posted_form, set_cookie, viewer

COOKIE = "mecene_lang"
ONE_YEAR = 365 * 24 * 3600


@web.middleware
async def speak_their_language(request: web.Request, handler: Handler) -> web.StreamResponse:
    """The cookies are parsed only when there are some: a peer's inbox delivery and most API calls carry none."""
    headers = request.headers
    cookie = request.cookies.get(COOKIE) if hdrs.COOKIE in headers else None
    chosen = negotiate(headers.get(hdrs.ACCEPT_LANGUAGE), cookie)
    current.use(chosen)
    response = await handler(request)
    if response.content_type == "text/html":
        response.headers["Content-Language"] = chosen
        vary = response.headers.get("Vary")
        response.headers["Vary"] = f"{vary}, Accept-Language, Cookie" if vary else "Accept-Language, Cookie"
    return response


@page
async def choose_language(request: web.Request) -> web.StreamResponse:
    """The language form, on every page: a language we do not speak is refused rather than stored."""
    form = await posted_form(request)
    chosen = supported(field(form, "locale"))
    if chosen is None:
        raise PageError(400, _("Choose English or French."))
    await save_for_account(request, chosen)
    response = web.Response(status=303, headers={"Location": local_target(field(form, "next"))})
    remember(request, response, chosen)
    return response


def remember(request: web.Request, response: web.StreamResponse, chosen: str) -> None:
    """This browser reads `chosen` from now on."""
    set_cookie(request, response, COOKIE, chosen, max_age=ONE_YEAR)


async def save_for_account(request: web.Request, chosen: str) -> None:
    """A logged-in reader's choice becomes their account's: their other browsers and their emails follow it."""
    user = (await viewer(request)).user
    if user is None:
        return
    instance = request.app[instance_key]
    async with instance.sessions() as session, session.begin():
        (await session.get_one(User, user.id)).language = chosen


def setup(app: web.Application) -> None:
    app.middlewares.append(speak_their_language)
    app.router.add_post("/language", choose_language)
