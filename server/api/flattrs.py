"""Flattring by URL, the donor's flattrs with their live value, and undo."""

from aiohttp import web

from server import flattr_deliveries
from server.api import representations as rep
from server.api.auth import current_user
from server.api.bodies import int_path, json_object, text_field
from server.appkeys import instance_key
from server.donations import donor_view
from server.flattring import flattr_url, undo_flattr
from server.instance import Instance
from server.refusal import Kind, Refusal
from settlement import flattrs
from settlement.periods import Period, parse_period


def period_param(request: web.Request, instance: Instance) -> Period:
    label = request.query.get("period")
    if label is None:
        return instance.current_period()
    return parse_period(label, instance.settings.settlement.period)


async def post_flattr(request: web.Request) -> web.Response:
    """201 with the new flattr; 200 with the existing one when this thing was flattred this period."""
    instance = request.app[instance_key]
    user = await current_user(request)
    record, created = await flattr_url(instance, user, text_field(await json_object(request), "url"))
    return web.json_response(rep.flattr(record, None), status=201 if created else 200)


async def list_flattrs(request: web.Request) -> web.Response:
    instance = request.app[instance_key]
    user = await current_user(request)
    period = period_param(request, instance)
    async with instance.sessions() as session:
        view = await donor_view(session, instance, user, period)
        delivered = await flattr_deliveries.of(session, view.flattrs)
    live = period == instance.current_period()
    return web.json_response({
        "period": rep.period(period), "value_now": rep.value_rule(view) if live else None,
        "flattrs": [rep.flattr(record, view.value_of(record) if live else None, delivered[record.id])
                    for record in view.flattrs],
    })


async def get_flattr(request: web.Request) -> web.Response:
    instance = request.app[instance_key]
    user = await current_user(request)
    flattr_id = int_path(request, "id")
    async with instance.sessions() as session:
        record = await flattrs.get(session, flattr_id)
        if record is None or record.donor != user.username:
            raise Refusal(Kind.NOT_FOUND, "not_found", f"You have no flattr {flattr_id}.")
        view = await donor_view(session, instance, user, instance.current_period())
        delivered = await flattr_deliveries.of(session, [record])
    live = record.period == view.period.label
    return web.json_response(rep.flattr(record, view.value_of(record) if live else None, delivered[record.id]))


async def delete_flattr(request: web.Request) -> web.Response:
    instance = request.app[instance_key]
    user = await current_user(request)
    record = await undo_flattr(instance, user, int_path(request, "id"))
    return web.json_response({**rep.flattr(record, None), "undone": True})


def routes() -> list[web.RouteDef]:
    return [
        web.post("/api/v1/flattrs", post_flattr),
        web.get("/api/v1/flattrs", list_flattrs),
        web.get("/api/v1/flattrs/{id}", get_flattr),
        web.delete("/api/v1/flattrs/{id}", delete_flattr),
    ]
