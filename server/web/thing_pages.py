"""A thing's page for browsers, and the forms with which its creator offers, edits and deletes things.

The page answers at the thing's own id (`/things/{token}`) for a browser
asking for HTML, as a creator's page does at their actor's id, so the address
that federates is also the one people share; fediverse servers asking there
still get the object (`server/views/objects.py` decides on `Accept`). The
forms call the services the API calls (`server.things`) and show what they
refuse on the form again, with the words typed kept and nothing changed.
"""

from typing import Any

from aiohttp import web
from multidict import MultiDictProxy
from sqlalchemy import select

from server import things
from server.appkeys import instance_key
from server.creator_things import donors_of, live_things
from server.http_errors import refusal_status
from server.i18n.current import gettext as _
from server.models import Thing, User
from server.refusal import Refusal
from server.web.creator_pages import button_url, older_than, snippets
from server.web.labels import actor_labels
from server.web.notices import render_with_notice, see_other
from server.web.refusals import as_page_error, said
from server.web.rendering import PageError, field, page, posted_form, render, signed_in, viewer

Form = MultiDictProxy[str | bytes | bytearray | web.FileField]


@page
async def thing_page(request: web.Request) -> web.StreamResponse:
    """Title, words, author, the Flattr button and who flattred it this period; 410 once its creator deleted it."""
    instance = request.app[instance_key]
    period = instance.current_period().label
    async with instance.sessions() as session:
        thing = await things.by_token(session, request.match_info["token"])
        if thing is None:
            raise PageError(404, _("There is no such thing here."))
        creator = await session.scalar(select(User).where(User.username == thing.creator))
        author = {"username": thing.creator, "name": creator.display_name if creator else "",
                  "handle": f"@{thing.creator}@{instance.urls.host}"}
        if thing.deleted_at is not None:
            return await render(request, "thing_gone.html", {"author": author, "thing": thing}, status=410)
        donors = await donors_of(session, thing.id, period)
        labels = await actor_labels(session, instance.urls, donors)
    looking = (await viewer(request)).user
    object_id = instance.urls.thing(thing.token)
    base = instance.settings.base_url
    return await render_with_notice(request, "thing.html", {
        "thing": thing, "author": author, "period": period, "donors": [(uri, labels[uri]) for uri in donors],
        "own": looking is not None and looking.username == thing.creator,
        "button": button_url(base, object_id), "snippets": snippets(base, object_id)})


@page
async def my_things(request: web.Request) -> web.StreamResponse:
    user = await signed_in(request)
    instance = request.app[instance_key]
    period = instance.current_period().label
    async with instance.sessions() as session:
        shown = await live_things(session, user.username, period, before=older_than(request))
    return await render_with_notice(request, "things.html", {"things": shown.things, "older": shown.older,
                                                             "period": period})


@page
async def new_thing_form(request: web.Request) -> web.StreamResponse:
    await signed_in(request)
    return await _form(request, None, things.ThingInput(None, "", ""))


@page
async def add_thing(request: web.Request) -> web.StreamResponse:
    user = await signed_in(request)
    wanted = _typed(await posted_form(request))
    instance = request.app[instance_key]
    try:
        async with instance.sessions() as session, session.begin():
            thing = await things.create_thing(session, instance.urls, user, wanted, instance.clock())
    except Refusal as refused:
        return await _form(request, None, wanted, refused)
    instance.delivery.wakeup.set()
    return await see_other(request, f"/things/{thing.token}", _(
        "You offered “%(label)s”. Share this page's address: anyone can flattr it here.") % {"label": _label(thing)})


@page
async def edit_form(request: web.Request) -> web.StreamResponse:
    thing = await _own(request, await signed_in(request))
    return await _form(request, thing, things.ThingInput(thing.url, thing.title, thing.summary))


@page
async def edit_thing(request: web.Request) -> web.StreamResponse:
    user = await signed_in(request)
    wanted = _typed(await posted_form(request))
    thing = await _own(request, user)
    instance = request.app[instance_key]
    try:
        async with instance.sessions() as session, session.begin():
            thing = await things.update_thing(session, instance.urls, user, thing.id, wanted, instance.clock())
    except Refusal as refused:
        return await _form(request, thing, wanted, refused)
    instance.delivery.wakeup.set()
    return await see_other(request, f"/things/{thing.token}", _(
        "Saved “%(label)s”. Servers that follow you are told of the change.") % {"label": _label(thing)})


@page
async def delete_form(request: web.Request) -> web.StreamResponse:
    thing = await _own(request, await signed_in(request))
    return await render(request, "thing_delete.html", {"thing": thing, "label": _label(thing)})


@page
async def delete_thing(request: web.Request) -> web.StreamResponse:
    user = await signed_in(request)
    await posted_form(request)
    thing = await _own(request, user)
    instance = request.app[instance_key]
    with as_page_error():
        async with instance.sessions() as session, session.begin():
            await things.delete_thing(session, instance.urls, user, thing.id, instance.clock())
    instance.delivery.wakeup.set()
    return await see_other(request, "/things", _(
        "You deleted “%(label)s”. Its address now says so; the flattrs it received this period still count.")
        % {"label": _label(thing)})


async def _own(request: web.Request, user: User) -> Thing:
    """The live thing the path names, if it is the user's (`things.find_own` decides): else a 404 or 410 page."""
    instance = request.app[instance_key]
    async with instance.sessions() as session:
        found = await things.by_token(session, request.match_info["token"])
        if found is None:
            raise PageError(404, _("There is no such thing here."))
        try:
            thing = await things.find_own(session, user, found.id)
        except Refusal as refused:
            raise PageError(refusal_status(refused),
                            _("This thing is not yours: only its creator can change or delete it.")) from refused
    if thing.deleted_at is not None:
        raise PageError(410, _("You deleted this thing: it can no longer be changed."))
    return thing


def _typed(form: Form) -> things.ThingInput:
    return things.ThingInput(field(form, "url") or None, field(form, "title"), field(form, "text"))


def _label(thing: Thing) -> str:
    return thing.title or thing.summary[:60]


async def _form(request: web.Request, thing: Thing | None, typed: things.ThingInput,
                refused: Refusal | None = None) -> web.Response:
    """The add form (no thing yet) or the edit form, with what was typed and why it was refused, if it was."""
    context: dict[str, Any] = {
        "thing": thing, "typed": typed, "errors": [said(refused)] if refused else [],
        "label": _label(thing) if thing else "", "with_url": thing is None or thing.kind == "Page",
        "action": f"/things/{thing.token}/edit" if thing else "/things/new"}
    return await render(request, "thing_form.html", context, status=refusal_status(refused) if refused else 200)


def routes() -> list[web.RouteDef]:
    """`/things/{token}` itself is routed by `server/views/objects.py`, which sends browsers to `thing_page`."""
    return [web.get("/things", my_things),
            web.get("/things/new", new_thing_form), web.post("/things/new", add_thing),
            web.get("/things/{token}/edit", edit_form), web.post("/things/{token}/edit", edit_thing),
            web.get("/things/{token}/delete", delete_form), web.post("/things/{token}/delete", delete_thing)]
