"""The Flattr button's landing page: ask the donor where they live, then send them home to confirm.

The button is served by the creator's instance, the donor's account is
anywhere. The page asks once for their account or instance (remembered in a
cookie), this instance finds that instance's flattr intent through WebFinger
with the federation client (private addresses refused unless dev.insecure),
and answers 303 to it. The lookup is a POST carrying the form's CSRF token,
so a crafted link can fill the form in but never sends anyone elsewhere.
The donor's home instance then shows what they are about to flattr and what
it is worth (`flattr_confirmation.py`).
"""

from typing import Any

from aiohttp import web

from federation.addresses import UnsafeAddress, http_url
from federation.errors import FederationError
from federation.fetch_errors import FetchError
from federation.intents import HomeAddress, IntentError, discover_flattr_intent, fill, parse_home
from server import things
from server.appkeys import instance_key
from server.i18n.current import gettext as _
from server.web.flattr_confirmation import already_flattred
from server.web.rendering import PageError, field, page, posted_form, render, set_cookie, viewer

HOME_COOKIE = "mecene_home"
REMEMBER_SECONDS = 365 * 24 * 3600
URL_MAX = 2048


@page
async def button_form(request: web.Request) -> web.StreamResponse:
    target = _target(request.query.get("url", ""))
    home = request.query.get("home", "").strip()[:300] or _remembered_home(request)
    return await _form(request, target, home, None)


@page
async def button_submit(request: web.Request) -> web.StreamResponse:
    form = await posted_form(request)
    target, typed = _target(field(form, "url")), field(form, "home")
    instance = request.app[instance_key]
    try:
        home = parse_home(typed)
        template = await discover_flattr_intent(instance.client, home, scheme=instance.settings.scheme)
    except FederationError as error:
        status, message = _refusal(error, typed)
        return await _form(request, target, typed, message, status)
    response = web.Response(status=303, headers={"Location": fill(template, target)})
    set_cookie(request, response, HOME_COOKIE, typed, max_age=REMEMBER_SECONDS)
    return response


def _target(url: str) -> str:
    if http_url(url.strip()) is None or len(url) > URL_MAX:
        raise PageError(400, _("This Flattr button names no web address to flattr; the page that shows it may be "
                               "broken."))
    return url.strip()


def _remembered_home(request: web.Request) -> str:
    """The cookie's address if it could be one: its non-UTF-8 bytes would arrive as lone surrogates."""
    remembered = request.cookies.get(HOME_COOKIE, "")
    return remembered if remembered.isprintable() else ""


def _refusal(error: FederationError, typed: str) -> tuple[int, str]:
    """Status and sentence for a failed lookup, in the reader's language; the peer's own words are never echoed."""
    host = _host_of(typed)
    if isinstance(error, IntentError) and error.code == "bad_address":
        return 400, _("Type your account like alice@example.org, or your instance's address.")
    if isinstance(error, IntentError):
        return 400, _("%(host)s does not offer flattring: it is not a Mecene instance.") % {"host": host}
    if isinstance(error, UnsafeAddress):
        return 400, _("%(host)s is not a public address, so it cannot be reached from here.") % {"host": host}
    if isinstance(error, FetchError) and error.transient:
        return 502, _("%(host)s did not answer. Try again in a moment.") % {"host": host}
    if isinstance(error, FetchError) and error.code == "not_found" and _is_account(typed):
        return 404, _("%(host)s knows no account %(account)s. Check the spelling.") % {
            "host": host, "account": typed.strip()}
    return 400, _("%(host)s did not answer as a Mecene instance, so it cannot take the flattr.") % {"host": host}


def _host_of(typed: str) -> str:
    try:
        return parse_home(typed).host
    except IntentError:
        return _("That instance")


def _is_account(typed: str) -> bool:
    try:
        home: HomeAddress = parse_home(typed)
    except IntentError:
        return False
    return home.name != home.host.split(":")[0]


async def _form(request: web.Request, target: str, home: str, error: str | None,
                status: int = 200) -> web.Response:
    """Someone signed in here who already flattred the thing this period is told so, and offered no second flattr."""
    instance, looking = request.app[instance_key], (await viewer(request)).user
    async with instance.sessions() as session:
        thing = await things.by_object_id(session, instance.urls, target)
        already = bool(looking and thing and await already_flattred(session, instance, looking.username,
                                                                    instance.urls.thing(thing.token)))
    context: dict[str, Any] = {"target": target, "home": home, "error": error, "thing": thing,
                               "signed_in_here": looking is not None, "already": already}
    return await render(request, "flattr_button.html", context, status=status)


def routes() -> list[web.RouteDef]:
    return [web.get("/flattr-button", button_form), web.post("/flattr-button", button_submit)]
