"""The flattr confirm page: what the donor is about to flattr, by whom, and what one flattr is worth now.

Flattr buttons, bookmarklets and other instances send donors to
`GET /flattr?url=…`. A bare address asks the donor to trust it blindly, so
the page resolves it first exactly as the flattr will (`flattring.resolve_target`:
the same signed fetch, the same refusals in plain words) and shows its title
and author. The value is settlement's own rule, the dashboard's "one flattr is
worth now", with this thing counted in: an estimate, since every later flattr
of the period shares the same budget until the period closes. A thing already
flattred this period is shown as such, with nothing to press.
"""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from federation.models import RemoteActor
from server.donations import donor_view, value_if_flattred
from server.flattring import Target, resolve_target
from server.i18n.current import N_
from server.instance import Instance
from server.models import User
from server.refusal import Kind, Refusal
from server.web.labels import actor_labels
from settlement import flattrs
from settlement.flattrs import Flattr
from settlement.money import Money

#: The longest author name shown: a remote actor's name is whatever its server says.
NAME_MAX = 100


@dataclass(frozen=True)
class Confirmation:
    """`value` is what this flattr is (already) or would be worth if the period closed now; `count` includes it."""

    target: Target
    author_name: str
    author_handle: str
    already: Flattr | None
    value: Money
    budget: Money
    wallet: Money
    count: int
    period_ends: datetime


async def confirmation(instance: Instance, user: User, url: str) -> Confirmation:
    """What `url` is, or the `Refusal` the flattr itself would meet when it cannot be fetched or flattred."""
    target = await resolve_target(instance, url)
    if target.author == instance.urls.actor(user.username):
        raise Refusal(Kind.INVALID, "own_thing", N_("You cannot flattr your own thing."))
    async with instance.sessions() as session:
        view = await donor_view(session, instance, user, instance.current_period())
        name, handle = await _author(session, instance, target.author)
    already = next((record for record in view.flattrs if record.thing_uri == target.object_id), None)
    value = view.value_of(already) if already else value_if_flattred(instance, user, view, target.object_id)
    count = len(view.flattrs) + (0 if already else 1)
    return Confirmation(target, name, handle, already, value, view.budget, view.wallet, count, view.period.end)


async def already_flattred(session: AsyncSession, instance: Instance, username: str, thing_uri: str) -> bool:
    """Whether `username` flattred `thing_uri` in the current period: once per period is all a thing gets."""
    records = await flattrs.for_period(session, username, instance.current_period().label)
    return any(record.thing_uri == thing_uri for record in records)


async def _author(session: AsyncSession, instance: Instance, uri: str) -> tuple[str, str]:
    """The author's display name (empty when none is known) and handle, as people write it."""
    handle = (await actor_labels(session, instance.urls, [uri]))[uri]
    if instance.urls.is_local(uri):
        username = instance.urls.username_of(uri)
        name = await session.scalar(select(User.display_name).where(User.username == username)) if username else None
    else:
        document = await session.scalar(select(RemoteActor.document).where(RemoteActor.uri == uri))
        name = document.get("name") if isinstance(document, dict) else None
    return (" ".join(name.split())[:NAME_MAX] if isinstance(name, str) else ""), handle
