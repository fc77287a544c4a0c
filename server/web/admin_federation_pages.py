"""Operator pages for federation: the delivery queue with its dead letters, and domain blocks."""

from aiohttp import web

from federation import delivery_queue, domain_blocks
from federation.domain_blocks import InvalidBlock
from server.appkeys import instance_key
from server.i18n.current import gettext as _
from server.storable import path_id
from server.web.admin_pages import operator
from server.web.rendering import PageError, field, page, posted_form, render

SHOWN = 200


@page
async def deliveries(request: web.Request) -> web.StreamResponse:
    await operator(request)
    instance = request.app[instance_key]
    async with instance.sessions() as session:
        counts = await delivery_queue.counts(session)
        dead = await delivery_queue.undelivered(session, state=delivery_queue.DEAD, limit=SHOWN)
        pending = await delivery_queue.undelivered(session, state=delivery_queue.QUEUED, limit=SHOWN)
    return await render(request, "admin_deliveries.html", {
        "counts": counts, "dead": dead, "pending": pending, "retried": request.query.get("retried", "")})


@page
async def retry(request: web.Request) -> web.StreamResponse:
    await operator(request)
    await posted_form(request)
    instance = request.app[instance_key]
    raw = request.match_info["delivery_id"]
    delivery_id = path_id(raw)
    async with instance.sessions() as session, session.begin():
        found = delivery_id is not None and await delivery_queue.retry_dead(session, delivery_id, instance.clock())
    if not found:
        raise PageError(404, _("There is no dead letter %(id)s: it may have been retried already.") % {"id": raw})
    instance.delivery.wakeup.set()
    raise web.HTTPSeeOther(f"/admin/deliveries?retried={delivery_id}")


@page
async def blocks(request: web.Request) -> web.StreamResponse:
    await operator(request)
    return await _blocks_page(request, {})


@page
async def add_block(request: web.Request) -> web.StreamResponse:
    await operator(request)
    form = await posted_form(request)
    instance = request.app[instance_key]
    try:
        async with instance.sessions() as session, session.begin():
            await domain_blocks.block(session, field(form, "domain"), field(form, "reason"), instance.clock())
    except InvalidBlock as error:
        return await _blocks_page(request, {"errors": [str(error)], "domain": field(form, "domain"),
                                            "reason": field(form, "reason")}, status=400)
    instance.blocks.forget()
    raise web.HTTPSeeOther("/admin/blocks")


@page
async def remove_block(request: web.Request) -> web.StreamResponse:
    await operator(request)
    form = await posted_form(request)
    instance = request.app[instance_key]
    try:
        async with instance.sessions() as session, session.begin():
            removed = await domain_blocks.unblock(session, field(form, "domain"))
    except InvalidBlock:
        removed = False
    if not removed:
        raise PageError(404, _("That domain is not blocked."))
    instance.blocks.forget()
    raise web.HTTPSeeOther("/admin/blocks")


async def _blocks_page(request: web.Request, context: dict[str, object], status: int = 200) -> web.StreamResponse:
    instance = request.app[instance_key]
    async with instance.sessions() as session:
        listed = await domain_blocks.listed(session)
    return await render(request, "admin_blocks.html", {"blocks": listed, "errors": [], "domain": "", "reason": "",
                                                        **context}, status=status)


def routes() -> list[web.RouteDef]:
    return [web.get("/admin/deliveries", deliveries), web.post("/admin/deliveries/{delivery_id}/retry", retry),
            web.get("/admin/blocks", blocks), web.post("/admin/blocks", add_block),
            web.post("/admin/blocks/remove", remove_block)]
