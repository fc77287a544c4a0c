"""Agreements only in currencies both instances accept, between real instances on loopback.

A settles in euros; B settles in francs and also accepts euros, so its
creators may be paid in euros by euro instances. Each says what it accepts in
its NodeInfo (`metadata.mecene.acceptedCurrencies`); our operator can only
agree in a currency our configuration accepts and the peer's NodeInfo lists,
and an Offer in any other is rejected `currency_not_accepted` before anything
is kept.
"""

import json
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from alembic import command
from alembic.config import Config
from sqlalchemy import column, insert, select, table
from sqlalchemy.engine import Connection
from test_agreements import agreements_of, answer_to, cli_env, crafted, peers, resend, sent
from test_payouts_between_peers import balances, close_on, flattr, funded_donor, rows, thing_of
from test_protocol_doc import examples

from agreement_helper import agree
from api_client import account
from federation.models import KnownInstance
from federation_harness import Databases, Federation, Node, eventually, free_port
from server import db, peering
from server.peering import Typed
from server.refusal import Kind, Refusal
from settlement.models import Agreement, Payout, ReceivedPayout
from settlement.sent_payouts import SETTLED

EUROS = Typed("EUR", "500.00", instructions="Pay A by hand")


@pytest.fixture
async def pair(federation: Federation) -> tuple[Node, Node]:
    """A in euros, accepting dollars too; B in francs, accepting euros too."""
    a = await federation.start("a", MECENE_INSTANCE_ACCEPTED_CURRENCIES="EUR,USD")
    b = await federation.start("b", MECENE_INSTANCE_CURRENCY="CHF", MECENE_INSTANCE_ACCEPTED_CURRENCIES="EUR,CHF")
    return a, b


async def nodeinfo(node: Node) -> dict[str, Any]:
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{node.base_url}/.well-known/nodeinfo") as links:
            href = (await links.json())["links"][0]["href"]
        async with http.get(href) as document:
            found: dict[str, Any] = (await document.json(content_type=None))["metadata"]["mecene"]
            return found


async def test_nodeinfo_lists_every_accepted_currency_and_a_peer_reads_it(pair: tuple[Node, Node],
                                                                        federation: Federation) -> None:
    a, b = pair
    advertised = await nodeinfo(b)
    assert (advertised["currency"], advertised["acceptedCurrencies"]) == ("CHF", ["EUR", "CHF"])
    info = await a.live.directory.info(b.host)
    assert (info.currency, info.accepted_currencies) == ("CHF", ("EUR", "CHF"))
    assert info.accepts("EUR") and not info.accepts("USD")
    plain = await federation.start("c")
    assert (await nodeinfo(plain))["acceptedCurrencies"] == ["EUR"], "by default, our own currency alone"


async def test_the_documented_nodeinfo_metadata_is_what_an_instance_serves(pair: tuple[Node, Node]) -> None:
    _, b = pair
    documented = json.dumps(examples()["nodeinfo_mecene"])
    assert await nodeinfo(b) == json.loads(documented.replace("https://b.example", b.base_url)
                                           .replace("b.example", b.host))


async def test_a_euro_instance_agrees_in_euros_with_a_franc_instance_that_accepts_them(
        pair: tuple[Node, Node]) -> None:
    a, b = pair
    await agree(a, b, "EUR")
    for node, peer in ((a, b), (b, a)):
        assert [(row.peer_host, row.currency, row.state) for row in await agreements_of(node)] == [
            (peer.host, "EUR", "in_force")]


async def test_a_currency_either_side_does_not_accept_is_refused_before_anything_is_sent(
        pair: tuple[Node, Node], tmp_path: Path) -> None:
    a, b = pair
    with pytest.raises(Refusal) as theirs:
        await peering.propose(a.live, b.host, Typed("USD", "500.00", instructions="Pay A by hand"))
    assert (theirs.value.kind, theirs.value.code) == (Kind.UNPROCESSABLE, "peer_does_not_accept")
    assert f"{b.host} accepts EUR, CHF only, not USD" in str(theirs.value)
    with pytest.raises(Refusal) as ours:
        await peering.propose(a.live, b.host, Typed("CHF", "500.00", instructions="Pay A by hand"))
    assert (ours.value.kind, ours.value.code) == (Kind.INVALID, "currency_not_accepted")
    assert "accepts EUR, USD only, not CHF" in str(ours.value) and "instance.accepted_currencies" in str(ours.value)
    with pytest.raises(Refusal, match="accepts EUR, CHF only, not USD") as answering:
        await peering.accept(b.live, a.host, Typed("USD", "300.00", instructions="Pay B by hand"))
    assert answering.value.code == "currency_not_accepted"
    refused = await peers(cli_env(a, tmp_path), "propose", b.host, "--currency", "JPY", "--credit-limit", "500",
                          "--instructions", "Pay A by hand")
    assert refused.returncode == 1 and "accepts EUR only, not JPY" in refused.stderr, refused.stderr
    for node in (a, b):
        assert await agreements_of(node) == [] and await sent(node) == 0


async def test_an_offer_in_a_currency_not_accepted_is_rejected_and_stores_nothing(pair: tuple[Node, Node]) -> None:
    a, b = pair
    offer = crafted(a, b, currency="USD")
    await resend(a, b, offer)
    answer = await answer_to(b, offer["id"])
    assert (answer["type"], answer["reason"]) == ("Reject", "currency_not_accepted")
    assert await agreements_of(b) == []
    euros = crafted(a, b, currency="EUR")
    await resend(a, b, euros)
    await eventually(lambda: _offered(b, euros["object"]["id"]), what="the Offer in euros kept by b")


async def _offered(node: Node, uri: str) -> bool:
    async with node.live.sessions() as session:
        return await session.scalar(select(Agreement.state).where(Agreement.uri == uri)) == "offered"


async def test_a_franc_instance_receives_euros_under_an_agreement_in_euros(pair: tuple[Node, Node]) -> None:
    a, b = pair
    await agree(a, b, "EUR")
    alice = await funded_donor(a, "alice", "10.00", "5.00")
    label = await flattr(alice, await thing_of(await account(b, "bob"), "A note by bob"))
    await close_on(a, label, b)

    async def credited() -> bool:
        return [(row.currency, row.credited) for row in await rows(b, ReceivedPayout)] == [("EUR", 500)]

    await eventually(credited, what="b credits the payout in euros")
    assert await balances(b) == {"pending:bob": 500, f"due_from:{a.host}": -500}
    await eventually(lambda: _settled(a), what="a hears the payout accepted")


async def _settled(node: Node) -> bool:
    return [(row.currency, row.state) for row in await rows(node, Payout)] == [("EUR", SETTLED)]


class MeceneLike:
    """A server whose NodeInfo says Mecene, with whatever `acceptedCurrencies` a test gives: hostile, or none."""

    def __init__(self) -> None:
        self.port = free_port()
        self.accepted: object = None
        self.runner: web.AppRunner | None = None

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/.well-known/nodeinfo", self._links)
        app.router.add_get("/nodeinfo/2.1", self._nodeinfo)
        self.runner = web.AppRunner(app, access_log=None)
        await self.runner.setup()
        await web.TCPSite(self.runner, "127.0.0.1", self.port).start()

    async def _links(self, _request: web.Request) -> web.Response:
        rel = "http://nodeinfo.diaspora.software/ns/schema/2.1"
        return web.json_response({"links": [{"rel": rel, "href": f"http://{self.host}/nodeinfo/2.1"}]})

    async def _nodeinfo(self, _request: web.Request) -> web.Response:
        mecene = {"protocol": 1, "currency": "SEK", "instanceActor": f"http://{self.host}/users/instance"}
        if self.accepted is not None:
            mecene["acceptedCurrencies"] = self.accepted
        return web.json_response({"version": "2.1", "software": {"name": "mecene", "version": "9"},
                                  "metadata": {"mecene": mecene}})


@pytest.fixture
async def mecene_like() -> AsyncIterator[MeceneLike]:
    server = MeceneLike()
    await server.start()
    try:
        yield server
    finally:
        assert server.runner is not None
        await server.runner.cleanup()


@pytest.mark.parametrize(("listed", "read"), [
    (None, ("SEK",)),
    ([], ("SEK",)),
    (["SEK", "EUR", "EUR"], ("SEK", "EUR")),
    (["eur", "EURO", "E", 978, None, {"code": "EUR"}, ["EUR"], "NOK"], ("NOK",)),
    ("SEK,EUR", ("SEK",)),
    ({"EUR": True}, ("SEK",)),
    ([f"{chr(65 + n // 26)}{chr(65 + n % 26)}X" for n in range(33)], ("SEK",)),
])
async def test_a_peers_accepted_currencies_are_read_defensively_and_remembered(
        federation: Federation, mecene_like: MeceneLike, listed: object, read: tuple[str, ...]) -> None:
    a = await federation.start("a")
    mecene_like.accepted = listed
    info = await a.live.directory.info(mecene_like.host)
    assert (info.mecene, info.accepted_currencies) == (True, read)
    async with a.live.sessions() as session:
        remembered = await a.live.directory.known(session, mecene_like.host)
    assert remembered == info


async def test_instances_learned_before_the_migration_accept_their_own_currency(tmp_path: Path) -> None:
    databases = Databases(tmp_path)
    engine = db.create_engine(await databases.new("before_accepted_currencies"))
    try:
        async with engine.begin() as conn:
            await conn.run_sync(_upgrade_to, "0018")
            await conn.execute(insert(OLDER_INSTANCES).values(_older_rows()))
        await db.upgrade(engine)
        async with engine.connect() as conn:
            found = await conn.execute(select(KnownInstance.host, KnownInstance.accepted_currencies)
                                       .order_by(KnownInstance.host))
            assert [tuple(row) for row in found] == [("chf.example", ["CHF"]), ("eur.example", ["EUR"]),
                                                     ("mastodon.example", [])]
    finally:
        await engine.dispose()
        await databases.drop_all()


#: fed_instances as it was at revision 0018: the model's own table would insert its newer columns too.
OLDER_INSTANCES = table("fed_instances", *(column(name) for name in (
    "host", "software", "mecene", "currency", "instance_actor", "checked_at")))


def _upgrade_to(conn: Connection, revision: str) -> None:
    config = Config()
    config.set_main_option("script_location", str(db.MIGRATIONS))
    config.attributes["connection"] = conn
    command.upgrade(config, revision)


def _older_rows() -> list[dict[str, object]]:
    checked = datetime(2026, 11, 1)  # naive UTC, as UTCDateTime stores it
    return [{"host": host, "software": software, "mecene": currency is not None, "currency": currency,
             "instance_actor": None if currency is None else f"https://{host}/users/instance", "checked_at": checked}
            for host, software, currency in (("eur.example", "mecene", "EUR"), ("chf.example", "mecene", "CHF"),
                                             ("mastodon.example", "mastodon", None))]
