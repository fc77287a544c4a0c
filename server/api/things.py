"""A creator's things, and the flattrs they received: both lists come a page at a time."""

from urllib.parse import urlencode

from aiohttp import web
from sqlalchemy import select

from server import things
from server.api import representations as rep
from server.api.auth import current_user
from server.api.bodies import int_path, int_query, json_object, text_field
from server.api.flattrs import period_param
from server.appkeys import instance_key
from server.models import ReceivedFlattr, Thing
from server.storable import MAX_ID

#: Things in one page of the API's list, by default and at the most.
THINGS_PAGE = 100
THINGS_MOST = 500
#: Received flattrs in one page of the API's list, by default and at the most.
RECEIVED_PAGE = 100
RECEIVED_MOST = 500


async def post_thing(request: web.Request) -> web.Response:
    instance = request.app[instance_key]
    user = await current_user(request)
    body = await json_object(request)
    wanted = things.ThingInput(text_field(body, "url", required=False) or None,
                               text_field(body, "title", required=False), text_field(body, "text", required=False))
    async with instance.sessions() as session, session.begin():
        thing = await things.create_thing(session, instance.urls, user, wanted, instance.clock())
    instance.delivery.wakeup.set()
    return web.json_response(rep.thing(instance.urls, thing), status=201)


async def list_things(request: web.Request) -> web.Response:
    """The caller's things oldest first, deleted ones included, `?limit=` of them (100 by default, at most 500).

    `?after=` a thing's id starts the page after it; `next` is the address of
    the following page, null on the last one. The page is read on the
    (creator, id) index, so a creator with thousands of things waits for one
    page, not for all of them.
    """
    instance = request.app[instance_key]
    user = await current_user(request)
    limit = int_query(request, "limit", default=THINGS_PAGE, least=1, most=THINGS_MOST)
    after = int_query(request, "after", default=0, least=0, most=MAX_ID)
    async with instance.sessions() as session:
        rows = list(await session.scalars(select(Thing).where(Thing.creator == user.username, Thing.id > after)
                                          .order_by(Thing.id).limit(limit + 1)))
    shown = rows[:limit]
    following = f"/api/v1/things?{urlencode({'after': shown[-1].id, 'limit': limit})}" if len(rows) > limit else None
    return web.json_response({"things": [rep.thing(instance.urls, row) for row in shown], "next": following})



async def delete_thing(request: web.Request) -> web.Response:
    instance = request.app[instance_key]
    user = await current_user(request)
    async with instance.sessions() as session, session.begin():
        thing = await things.delete_thing(session, instance.urls, user, int_path(request, "id"), instance.clock())
    instance.delivery.wakeup.set()
    return web.json_response(rep.thing(instance.urls, thing))


async def list_received(request: web.Request) -> web.Response:
    """Who flattred which of my things in a period (the current one by default), oldest first, a page at a time.

    `?limit=` and `?after=` page it as the things are paged: a creator
    flattred by thousands in a month reads them a page at a time, in the order
    of the received flattrs' ids, which `after` names. The creator's things
    are found on the (creator, id) index and their flattrs on the (period,
    thing) one; each shown flattr then takes its thing's token by primary key.
    Joined to the things instead, PostgreSQL would rather walk the things'
    primary key through every other creator's things (`make bench`, history).
    """
    instance = request.app[instance_key]
    user = await current_user(request)
    period = period_param(request, instance)
    limit = int_query(request, "limit", default=RECEIVED_PAGE, least=1, most=RECEIVED_MOST)
    after = int_query(request, "after", default=0, least=0, most=MAX_ID)
    mine = select(Thing.id).where(Thing.creator == user.username)
    token = select(Thing.token).where(Thing.id == ReceivedFlattr.thing_id).scalar_subquery()
    async with instance.sessions() as session:
        rows = (await session.execute(
            select(ReceivedFlattr, token)
            .where(ReceivedFlattr.thing_id.in_(mine), ReceivedFlattr.period == period.label, ReceivedFlattr.id > after)
            .order_by(ReceivedFlattr.id).limit(limit + 1))).all()
    shown = rows[:limit]
    following = None
    if len(rows) > limit:
        query = {"period": period.label, "after": shown[-1][0].id, "limit": limit}
        following = f"/api/v1/received?{urlencode(query)}"
    return web.json_response({"period": period.label, "flattrs": [rep.received(row, instance.urls, token)
                                                                   for row, token in shown], "next": following})


def routes() -> list[web.RouteDef]:
    return [
        web.post("/api/v1/things", post_thing),
        web.get("/api/v1/things", list_things),
        web.delete("/api/v1/things/{id}", delete_thing),
        web.get("/api/v1/received", list_received),
    ]
