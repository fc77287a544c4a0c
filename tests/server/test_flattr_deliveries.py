"""Each flattr says how it reached its author's server: on the dashboard and in the API, as the queue saw it.

Real servers on loopback: a thing of this instance (nothing to send), a plain
fediverse server that takes the Flattr, one that cannot read it (Fedify's 400
to an unknown type), and one whose inbox always fails (503), with one
delivery attempt allowed so that the test need not wait out the retries.
"""

import re
from collections.abc import AsyncIterator

import pytest
from aiohttp import web
from sqlalchemy import select
from test_web_dashboard import flattr, signed_up, thing_of, token_for, top_up

from api_client import account
from federation.models import Delivery
from federation_harness import Federation, Node, eventually
from plain_peer import PlainPeer


class FailingPeer(PlainPeer):
    """Serves its posts, and its inboxes fail every time."""

    async def _inbox(self, request: web.Request) -> web.Response:
        return web.Response(status=503, text="Service Unavailable")


@pytest.fixture
async def peers() -> AsyncIterator[tuple[PlainPeer, PlainPeer, PlainPeer]]:
    taking, unknowing, refusing = (await PlainPeer.start(), await PlainPeer.start(refuses_unknown_types=True),
                                   await FailingPeer.start())
    try:
        yield taking, unknowing, refusing
    finally:
        for peer in (taking, unknowing, refusing):
            await peer.close()


async def finished(node: Node, count: int) -> bool:
    async with node.live.sessions() as session:
        states = list(await session.scalars(select(Delivery.state)))
    return len(states) >= count and "queued" not in states


async def test_the_dashboard_and_the_api_say_how_each_flattr_reached_its_author(
        federation: Federation, peers: tuple[PlainPeer, PlainPeer, PlainPeer]) -> None:
    a = await federation.start("a", MECENE_DELIVERY_MAX_ATTEMPTS="1")
    browser = await signed_up(a)
    try:
        await top_up(a, "10.00")
        await browser.submit("/settings", "/settings/budget", {"amount": "5.00"})
        local = await thing_of(await account(a, "carla"), "Carla's thing")
        notes = []
        for peer in peers:
            peer.add_account("zoe")
            notes.append(peer.add_note("zoe", "<p>A note</p>").id)
        for url in (local, *notes):
            assert (await flattr(browser, url)).status == 200
        await eventually(lambda: finished(a, 3), what="every delivery finished")

        page = (await browser.get("/")).html
        said = dict(re.findall(r'<td class="delivery-([a-z_]+)">([^<]+)</td>', page))
        assert set(said) == {"here", "delivered", "not_understood", "dead"}
        assert said["dead"].startswith("not delivered: the author&#39;s server refused it or never answered")
        api = await token_for(a, "alice")
        listed = (await api.call("GET", "/api/v1/flattrs")).body["flattrs"]
        assert {row["url"]: row["delivery"] for row in listed} == {
            local: "here", notes[0]: "delivered", notes[1]: "not_understood", notes[2]: "dead"}
        one = await api.call("GET", f"/api/v1/flattrs/{listed[0]['id']}")
        assert one.body["delivery"] == listed[0]["delivery"]
    finally:
        await browser.close()
