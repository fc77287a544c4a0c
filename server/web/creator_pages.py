"""A creator's page: public for everyone (their things, each with a Flattr button), earnings for them alone.

It answers at the actor's own URL for a browser asking for HTML, so the
address a fediverse profile links to is also the page a person reads.
"""

from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from aiohttp import web
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from federation.urls import InstanceUrls
from server.appkeys import instance_key
from server.creator_things import ShownThing, live_things
from server.i18n.current import gettext as _
from server.i18n.formatting import figure
from server.instance import Instance
from server.models import Thing, User
from server.storable import is_storable, path_id
from server.web.charts import BarChart, bar_chart
from server.web.rendering import PageError, page, render, viewer
from settlement import earnings

CHART_PERIODS = 12


@dataclass(frozen=True)
class Snippets:
    """What a creator pastes into their own site to show a Flattr button for one thing."""

    link: str
    script: str


def creator_flattr_url(urls: InstanceUrls, username: str) -> str:
    """The section of the creator's page where their things can be flattred: their payment link."""
    return f"{urls.actor(username)}#flattr"


def button_url(base_url: str, target: str) -> str:
    return f"{base_url}/flattr-button?url={quote(target, safe='')}"


def snippets(base_url: str, target: str) -> Snippets:
    href = button_url(base_url, target).replace("&", "&amp;")
    image = f'<img src="{base_url}/static/flattr-button.svg" alt="Flattr this" width="96" height="28">'
    return Snippets(f'<a href="{href}">{image}</a>',
                    f'<a class="mecene-flattr" href="{href}">Flattr this</a>\n'
                    f'<script async src="{base_url}/static/button.js"></script>')


def bookmarklet(base_url: str) -> str:
    """Flattrs the page being read from the account of whoever installed it, on their own instance."""
    return f"javascript:void(location.href='{base_url}/flattr?url='+encodeURIComponent(location.href))"


@page
async def creator_page(request: web.Request) -> web.StreamResponse:
    instance = request.app[instance_key]
    username = request.match_info["username"]
    period = instance.current_period().label
    async with instance.sessions() as session:
        creator = None if not is_storable(username) else await session.scalar(
            select(User).where(User.username == username))
        if creator is None:
            raise PageError(404, _("No creator called %(username)s here.") % {"username": username})
        shown = await live_things(session, username, period, before=older_than(request))
    looking = (await viewer(request)).user
    context: dict[str, Any] = {
        "creator": creator, "handle": f"{username}@{instance.urls.host}", "period": period,
        "things": [_public_thing(instance, item) for item in shown.things], "older": shown.older,
        "own": looking is not None and looking.username == username,
    }
    if context["own"]:
        context.update(await _earnings_context(instance, username))
    return await render(request, "creator.html", context)


def older_than(request: web.Request) -> int | None:
    """The `before` of a link to older things; any other value is a page nobody linked to."""
    raw = request.query.get("before")
    if raw is None:
        return None
    found = path_id(raw)
    if found is None:
        raise PageError(400, _("There is no such page of things. Follow the link to older things instead."))
    return found


def _public_thing(instance: Instance, item: ShownThing) -> dict[str, Any]:
    object_id = instance.urls.thing(item.thing.token)
    base = instance.settings.base_url
    return {"thing": item.thing, "object_id": object_id, "flattrs": item.flattrs,
            "button": button_url(base, object_id), "snippets": snippets(base, object_id)}


async def _earnings_context(instance: Instance, username: str) -> dict[str, Any]:
    currency = instance.settings.instance.currency
    async with instance.sessions() as session:
        found = await earnings.of_creator(session, username, currency)
        titles = await _titles(session, instance.urls, [thing.thing_uri for period in found.periods
                                                        for thing in period.things])
    recent = list(reversed(found.periods[:CHART_PERIODS]))
    chart = _chart([(period.period, period.amount) for period in recent], currency)
    latest = found.periods[0] if found.periods else None
    by_thing = _chart([(titles.get(thing.thing_uri, thing.thing_uri), thing.amount)
                       for thing in latest.things], currency) if latest else None
    return {"earnings": found, "titles": titles, "chart": chart, "thing_chart": by_thing, "latest": latest,
            "bookmarklet": bookmarklet(instance.settings.base_url)}


def _chart(values: list[tuple[str, int]], currency: str) -> BarChart:
    return bar_chart([(label, amount, figure(amount, currency)) for label, amount in values])


async def _titles(session: AsyncSession, urls: InstanceUrls, uris: list[str]) -> dict[str, str]:
    """A thing's title (or the start of its note) for each earning that names one of ours."""
    tokens = {token: uri for uri in uris if (token := urls.thing_token_of(uri)) is not None}
    if not tokens:
        return {}
    rows = await session.execute(select(Thing.token, Thing.title, Thing.summary).where(Thing.token.in_(tokens)))
    return {tokens[token]: title or summary[:60] for token, title, summary in rows}
