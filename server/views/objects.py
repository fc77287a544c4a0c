"""Things as ActivityPub objects at their own ids; a deleted thing answers 410 with its Tombstone.

A browser asking for HTML at the same address gets the thing's page
(`server/web/thing_pages.py`), or a 410 page once it is deleted.
"""

from aiohttp import web

from server import things
from server.appkeys import instance_key
from server.refusal import Kind, Refusal
from server.views.negotiation import activitypub_response, wants_activitypub
from server.web.thing_pages import thing_page


async def thing_object(request: web.Request) -> web.StreamResponse:
    """The thing a token names; a token no database can store names nothing, like any unknown one."""
    if not wants_activitypub(request):
        page = await thing_page(request)
        page.headers["Vary"] = "Accept"
        return page
    instance = request.app[instance_key]
    async with instance.sessions() as session:
        thing = await things.by_token(session, request.match_info["token"])
    if thing is None:
        raise Refusal(Kind.NOT_FOUND, "not_found", "No such thing here.")
    response = activitypub_response(request, things.document(instance.urls, thing))
    if thing.deleted_at is not None:
        response.set_status(410)
    return response


def routes() -> list[web.RouteDef]:
    return [web.get("/things/{token}", thing_object)]
