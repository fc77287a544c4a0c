"""Three `mecene serve` processes settle a period while they are killed with SIGKILL at the worst moments.

Each instance sits behind a gateway of the test's, as nginx sits in front of a
real one: the gateway is the instance's public address, outlives the process
(502 while it is down) and kills the process at the exact request that defines
a moment, so no moment depends on a sleep:

1. A closes the period and pays B and C. C is killed once it has stored A's
   Payout and answered 202, before A hears the answer (a receiver killed while
   a payout is delivered to it); A is killed when the first answer, B's Accept,
   reaches it (a sender killed after sending, before the answers arrive).
2. A and then C are restarted, and C closes. B, which has never fetched C's
   NodeInfo, gets C's Payout and is the one asking C's NodeInfo when C is
   killed (the receiver's first lookup of the sender, with the sender down).
   B is then killed with that Payout waiting for its next try.
3. C and B are restarted, and B closes.

Before that, the three agree with each other by `mecene peers`, as their
operators would, while they serve with the close held back (A and B while
each is killed once, see `_all_agree`); then they stop,
and B's directory forgets what it learnt of C meanwhile, as after a day.

The settings are short: deliveries and inbox items are tried again within
a fraction of a second, an unanswered Payout is sent again after 3 s, and a
delivery is given up after three tries, so the answers B and A sent while
their payers were down are lost, as at the defaults after two days; only the
Payouts sent again can bring the answers back. Then every payout settles
within seconds, the statements of every pair agree, every ledger transaction
balances and every cent topped up is in a wallet, with a creator or in fees.

4. A's operator pays what A owes B by bank and records it; B dies having
   stored the notice, comes back and confirms; A dies as B's confirmation
   reaches it, and B gives that answer up. A, restarted, sends its notice
   again and hears the answer again: each side books the clearing once.

The processes run on the real clock, so the flattrs are recorded in an ended
period, in each donor's database, as test_period_close_processes does.
"""

import asyncio
import itertools
import json
import os
import signal
import subprocess
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from multidict import CIMultiDict, CIMultiDictProxy
from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from cli_process import MECENE, ROOT
from config.settings import Settings, load
from federation.delivery_queue import DEAD
from federation.models import Delivery, InboxItem, KnownInstance
from federation_harness import Databases, eventually, free_port
from server import clearing, db
from server.accounts import create_user
from server.cli.shared import opened
from server.instance import Instance
from server.things import ThingInput, create_thing
from server.tokens import create_token
from server.topups import top_up
from settlement import agreements, clearings, flattrs, ledger, wallets
from settlement.allocation import allocate, share_seed
from settlement.closing import CLOSED
from settlement.models import Agreement, Clearing, Payout, PeriodClose, ReceivedPayout, Transaction
from settlement.money import Money, format_amount, parse_amount
from settlement.periods import Period, period_of
from settlement.sent_payouts import SETTLED

#: Each site's donor and creator, and the donor's wallet and budget (C's wallet is below its budget).
PEOPLE = {"a": ("ada", "alba"), "b": ("bert", "bo"), "c": ("cleo", "cyd")}
FUNDS = {"a": ("10.00", "3.33"), "b": ("5.00", "2.71"), "c": ("1.99", "5.00")}
FEE_BASIS_POINTS = 250
THINGS_EACH = 2
#: A close delay no ended period reaches within the test: the instance does not close until restarted without it.
HELD = str(62 * 24 * 60)
#: Retries within a fraction of a second, a Payout sent again after 3 s, a delivery given up after three tries.
QUICK = {
    "MECENE_DEV_INSECURE": "true",
    "MECENE_SETTLEMENT_FEE_BASIS_POINTS": str(FEE_BASIS_POINTS),
    "MECENE_SETTLEMENT_TICK_SECONDS": "0.2",
    "MECENE_SETTLEMENT_PAYOUT_RESEND_MINUTES": "0.05",
    "MECENE_DELIVERY_RETRY_BASE_SECONDS": "0.05",
    "MECENE_DELIVERY_POLL_SECONDS": "0.1",
    "MECENE_DELIVERY_BREAKER_COOLDOWN_SECONDS": "0.5",
    "MECENE_FEDERATION_INBOX_RETRY_BASE_SECONDS": "0.05",
    "MECENE_DELIVERY_MAX_ATTEMPTS": "3",
    "MECENE_FEDERATION_REQUEST_TIMEOUT": "5",
}
#: Headers of one connection, not of the request a gateway passes on.
HOP_BY_HOP = frozenset({"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade",
                        "proxy-connection", "content-length"})


@dataclass(frozen=True)
class Seen:
    """A request as a gateway saw it: what a trap matches."""

    method: str
    path: str
    user_agent: str
    activity: str | None


@dataclass
class Trap:
    """Kill the instance behind a gateway at the first request `matches` accepts.

    `answered`: the instance answers the request first, so it has acted on it,
    and its client gets a 502 instead of that answer; otherwise the instance dies
    before the request reaches it. `after`: a moment that must come first.
    """

    matches: Callable[[Seen], bool]
    answered: bool = False
    after: asyncio.Event | None = None
    sprung: asyncio.Event = field(default_factory=asyncio.Event)


@dataclass
class Site:
    """One instance: its gateway's port is its public address, `mecene serve` listens behind it."""

    name: str
    database_url: str
    log: Path
    port: int = field(default_factory=free_port)
    inner_port: int = field(default_factory=free_port)
    process: asyncio.subprocess.Process | None = None
    traps: list[Trap] = field(default_factory=list)

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def base_url(self) -> str:
        return f"http://{self.host}"

    def environment(self, closes: bool) -> dict[str, str]:
        """`closes`: the scheduler closes the ended period at once; otherwise it leaves it for a later start."""
        return {**QUICK, "MECENE_INSTANCE_DOMAIN": self.host, "MECENE_DATABASE_URL": self.database_url,
                "MECENE_SETTLEMENT_CLOSE_DELAY_MINUTES": "0" if closes else HELD}

    def settings(self) -> Settings:
        """As the test opens the database itself, before any process runs."""
        return load(None, self.environment(closes=False))

    async def start(self, *, closes: bool) -> None:
        environ = {k: v for k, v in os.environ.items() if not k.startswith("MECENE_")}
        environ.update(self.environment(closes), PYTHONPATH=str(ROOT))
        with self.log.open("a") as log:
            self.process = await asyncio.create_subprocess_exec(
                *MECENE, "serve", "--port", str(self.inner_port), env=environ, cwd=ROOT, stdout=log,
                stderr=asyncio.subprocess.STDOUT)

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.returncode is None

    async def kill(self, sig: int = signal.SIGKILL) -> None:
        assert self.process is not None and self.running, f"{self.name} is not running"
        self.process.send_signal(sig)
        await self.process.wait()

    def logged(self) -> str:
        """What its processes logged, without the scheduler's line for every tick."""
        lines = self.log.read_text().splitlines() if self.log.exists() else []
        return "\n".join(line for line in lines if "apscheduler" not in line)

    async def ready(self, http: aiohttp.ClientSession) -> None:
        """Wait until the process answers its health check; it must not die meanwhile."""
        async def answers() -> bool:
            assert self.running, f"{self.name} died at start"
            try:
                async with http.get(f"http://127.0.0.1:{self.inner_port}/health") as response:
                    return response.status == 200
            except aiohttp.ClientConnectionError:
                return False
        await eventually(answers, timeout=30, what=f"{self.name} to start")


class Gateway:
    """The reverse proxy in front of a site: passes every request on unchanged and springs the site's traps."""

    def __init__(self, site: Site) -> None:
        self._site = site
        self._client = aiohttp.ClientSession(connector=aiohttp.TCPConnector(force_close=True), auto_decompress=False,
                                             timeout=aiohttp.ClientTimeout(total=30))
        self._runner = web.ServerRunner(web.Server(self._handle), access_log=None)

    async def start(self) -> None:
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self._site.port, reuse_address=True).start()

    async def close(self) -> None:
        await self._runner.cleanup()
        await self._client.close()

    async def _handle(self, request: web.BaseRequest) -> web.StreamResponse:
        body = await request.read()
        trap = self._take_trap(_seen(request, body))
        if trap is not None and not trap.answered:
            await self._spring(trap)
        response = await self._forward(request, body)
        if trap is not None and trap.answered:
            await self._spring(trap)
            return web.Response(status=502, text="bad gateway")
        return response

    def _take_trap(self, seen: Seen) -> Trap | None:
        """Taken before any await, so two requests at once never spring one trap twice."""
        trap = next((trap for trap in self._site.traps if trap.matches(seen)), None)
        if trap is not None:
            self._site.traps.remove(trap)
        return trap

    async def _spring(self, trap: Trap) -> None:
        """Once the moment that must come first has come; from then on the gateway answers 502."""
        if trap.after is not None:
            await trap.after.wait()
        await self._site.kill()
        trap.sprung.set()

    async def _forward(self, request: web.BaseRequest, body: bytes) -> web.Response:
        """The instance's own answer, or 502 while nothing listens behind the gateway."""
        url = f"http://127.0.0.1:{self._site.inner_port}{request.path_qs}"
        try:
            async with self._client.request(request.method, url, headers=_passed_on(request.headers), data=body,
                                            allow_redirects=False) as upstream:
                return web.Response(status=upstream.status, body=await upstream.read(),
                                    headers=_passed_on(upstream.headers))
        except aiohttp.ClientConnectionError:
            return web.Response(status=502, text="bad gateway")


def _passed_on(headers: CIMultiDictProxy[str]) -> CIMultiDict[str]:
    """Every end-to-end header as it came, Host included: the signatures cover it."""
    return CIMultiDict((name, value) for name, value in headers.items() if name.lower() not in HOP_BY_HOP)


def _seen(request: web.BaseRequest, body: bytes) -> Seen:
    try:
        document = json.loads(body) if body else None
    except ValueError:
        document = None
    activity = document.get("type") if isinstance(document, dict) else None
    return Seen(request.method, request.path, request.headers.get("User-Agent", ""),
                activity if isinstance(activity, str) else None)


def posting(*types: str) -> Callable[[Seen], bool]:
    """An activity of one of `types` delivered to any inbox of the site."""
    return lambda seen: seen.method == "POST" and seen.activity in types


def nodeinfo_asked_by(site: Site) -> Callable[[Seen], bool]:
    """The discovery document, asked by `site`'s own client (its User-Agent names its address)."""
    return lambda seen: seen.path == "/.well-known/nodeinfo" and f"+{site.base_url}/" in seen.user_agent


@dataclass
class Processes:
    """The three sites, what the test reads their databases with, and what it needs to check the money."""

    sites: dict[str, Site]
    engines: dict[str, AsyncEngine]
    tokens: dict[str, str]
    things: dict[str, list[str]]
    period: Period
    http: aiohttp.ClientSession

    async def scalar(self, name: str, query: Any) -> Any:
        async with db.sessionmaker(self.engines[name])() as session:
            return await session.scalar(query)

    async def holds(self, name: str, query: Any) -> bool:
        """Whether `query` finds any row in `name`'s database."""
        return bool(await self.scalar(name, select(func.count()).select_from(query.subquery())))


@pytest.fixture
async def processes(tmp_path: Path) -> AsyncIterator[Processes]:
    databases = Databases(tmp_path)
    sites = {name: Site(name, await databases.migrated(name), tmp_path / f"{name}.log") for name in PEOPLE}
    gateways = [Gateway(site) for site in sites.values()]
    engines = {name: db.create_engine(site.database_url) for name, site in sites.items()}
    try:
        for gateway in gateways:
            await gateway.start()
        period = period_of(datetime.now(UTC)).previous()
        tokens, things = await populate(sites, period)
        async with aiohttp.ClientSession() as http:
            yield Processes(sites, engines, tokens, things, period, http)
    finally:
        await asyncio.gather(*(site.kill(signal.SIGTERM) for site in sites.values() if site.running))
        for site in sites.values():
            print(f"--- {site.name} ({site.base_url}) ---\n{site.logged()}")
        for gateway in gateways:
            await gateway.close()
        for engine in engines.values():
            await engine.dispose()
        await databases.drop_all()


async def populate(sites: dict[str, Site], period: Period) -> tuple[dict[str, str], dict[str, list[str]]]:
    """Accounts and things everywhere, then each donor funded and flattring every thing on the two other sites."""
    async with (opened(sites["a"].settings()) as a, opened(sites["b"].settings()) as b,
                opened(sites["c"].settings()) as c):
        instances = {"a": a, "b": b, "c": c}
        made = {name: await _accounts(instance, name) for name, instance in instances.items()}
        things = {name: things for name, (_, things) in made.items()}
        for name, instance in instances.items():
            elsewhere = [(sites[other].base_url, PEOPLE[other][1], thing)
                         for other in sites if other != name for thing in things[other]]
            await _fund_and_flattr(instance, name, elsewhere, period)
    return {name: token for name, (token, _) in made.items()}, things


async def _accounts(instance: Instance, name: str) -> tuple[str, list[str]]:
    """The operator's API token, and the creator's things."""
    donor, creator = PEOPLE[name]
    now, bot = instance.clock(), instance.settings.instance.bot_username
    async with instance.sessions() as session, session.begin():
        operator = await create_user(session, "op", bot_username=bot, now=now)
        operator.is_admin = True
        token = await create_token(session, operator, "statements", now)
        await create_user(session, donor, bot_username=bot, now=now)
        author = await create_user(session, creator, bot_username=bot, now=now)
        made = [await create_thing(session, instance.urls, author, ThingInput(None, "", f"{creator}'s note {n}"), now)
                for n in range(THINGS_EACH)]
        return token, [instance.urls.thing(thing.token) for thing in made]


async def _fund_and_flattr(instance: Instance, name: str, things: list[tuple[str, str, str]], period: Period) -> None:
    """The donor's wallet and budget, and a flattr of each (site, creator, thing) in the ended period."""
    donor = PEOPLE[name][0]
    wallet, budget = FUNDS[name]
    now, flattred = instance.clock(), period.start + timedelta(days=3)
    async with instance.sessions() as session, session.begin():
        await top_up(session, donor, parse_amount(wallet, "EUR"), "bank transfer 1", now)
        await wallets.set_budget(session, donor, parse_amount(budget, "EUR"), now)
        for n, (base_url, creator, thing) in enumerate(things):
            await flattrs.record(session, donor=donor, thing_uri=thing, author_uri=f"{base_url}/users/{creator}",
                                 period=period.label, activity_id=instance.urls.activity(f"flattr-{n}"), now=flattred)


async def test_payouts_survive_kills_and_settle_with_every_cent(processes: Processes) -> None:
    await _all_agree(processes)
    await _a_pays_and_both_ends_die(processes)
    await _c_pays_and_dies_when_b_first_asks_who_it_is(processes)
    await _c_and_b_come_back_and_b_closes(processes)
    await eventually(lambda: _all_settled(processes), timeout=60, what="every payout settled")

    statements = {name: await _statement(processes, name) for name in PEOPLE}
    _assert_pairs_agree(processes, statements)
    for name in PEOPLE:
        async with db.sessionmaker(processes.engines[name])() as session:
            assert await ledger.check(session) == [], name
    _assert_every_cent(processes, statements)
    await _a_clearing_survives_both_ends_dying(processes)


async def _a_clearing_survives_both_ends_dying(processes: Processes) -> None:
    """A's operator pays what A owes B; B dies having stored the notice, A when B's confirmation comes.

    B's delivery of its Accept is given up while A is down, so only A sending
    its notice again (same id) brings the answer back. Both books move once.
    """
    a, b = processes.sites["a"], processes.sites["b"]
    async with opened(a.settings()) as instance:
        [standing] = [one for one in await clearing.standings(instance) if one.host == b.host]
        assert standing.to_pay > 0
        b_stored = Trap(posting("Clearing"), answered=True)
        b.traps.append(b_stored)
        await clearing.record_paid(instance, b.host, format_amount(Money(standing.to_pay, "EUR")), "EUR",
                                   standing.reference)
    await asyncio.wait_for(b_stored.sprung.wait(), 60)
    await b.start(closes=True)
    await b.ready(processes.http)
    waiting = select(Clearing).where(Clearing.state == clearings.NOTIFIED)
    await eventually(lambda: processes.holds("b", waiting), timeout=30, what="B to keep A's notice")
    a_answered = Trap(posting("Accept"))
    a.traps.append(a_answered)
    dead_to_a = select(func.count(Delivery.id)).where(Delivery.host == a.host, Delivery.state == DEAD)
    given_up = await processes.scalar("b", dead_to_a)
    async with opened(b.settings()) as instance:
        await clearing.confirm(instance, a.host, "EUR")
    await asyncio.wait_for(a_answered.sprung.wait(), 60)

    async def answer_lost() -> bool:
        return bool(await processes.scalar("b", dead_to_a) > given_up)

    await eventually(answer_lost, what="B to give its Accept up")
    await a.start(closes=True)
    await a.ready(processes.http)
    confirmed = select(Clearing).where(Clearing.state == clearings.CONFIRMED)
    await eventually(lambda: processes.holds("a", confirmed), timeout=30, what="A to hear B's answer again")
    await _assert_cleared(processes, standing.to_pay)


async def _assert_cleared(processes: Processes, paid: int) -> None:
    """Each side booked the clearing once, pending money was released, and every book still balances."""
    a, b = processes.sites["a"], processes.sites["b"]
    on_a, on_b = await _statement(processes, "a"), await _statement(processes, "b")
    assert _units(on_a["conservation"]["cleared_out"]) == _units(on_b["conservation"]["cleared_in"]) == paid
    ours = {p["host"]: p for p in on_a["instances"]}[b.host]
    theirs = {p["host"]: p for p in on_b["instances"]}[a.host]
    assert _units(ours["owed_to_them"]) == _units(theirs["owed_by_them"])
    assert _units(ours["owed_by_them"]) == _units(theirs["owed_to_them"])
    assert _units(ours["net"]) == -_units(theirs["net"]) == 0
    for name in PEOPLE:
        async with db.sessionmaker(processes.engines[name])() as session:
            assert await ledger.check(session) == [], name
        assert (await _statement(processes, name))["conservation"]["holds"], name
    bookings = select(Transaction).where(Transaction.kind == "clearing")
    for name in ("a", "b"):
        assert await processes.scalar(name, select(func.count()).select_from(bookings.subquery())) == 1, name


async def _all_agree(processes: Processes) -> None:
    """Every pair agrees by `mecene peers` while the three serve and hold their close; then all three stop.

    A and B agree while they are killed: B once it has stored A's Offer, A as
    B's Accept reaches it (B then gives that Accept up), so only A sending its
    Offer again brings the answer back.
    """
    sites = processes.sites
    await asyncio.gather(*(site.start(closes=False) for site in sites.values()))
    await asyncio.gather(*(site.ready(processes.http) for site in sites.values()))
    await _agree_while_killed(processes)
    for first, second in itertools.combinations(sites, 2):
        if (first, second) != ("a", "b"):
            await _agree(processes, first, second)
    await asyncio.gather(*(site.kill(signal.SIGTERM) for site in sites.values()))
    async with db.sessionmaker(processes.engines["b"])() as session, session.begin():
        await session.execute(delete(KnownInstance).where(KnownInstance.host == sites["c"].host))


async def _agree_while_killed(processes: Processes) -> None:
    a, b = processes.sites["a"], processes.sites["b"]
    b_stored = Trap(posting("Offer"), answered=True)
    b.traps.append(b_stored)
    await _peers(a, "propose", b.host)
    await asyncio.wait_for(b_stored.sprung.wait(), 60)
    await b.start(closes=False)
    await b.ready(processes.http)
    await eventually(lambda: _agreement_is(processes, "b", a.host, agreements.OFFERED), timeout=30,
                     what="b to keep a's Offer")
    a_answered = Trap(posting("Accept"))
    a.traps.append(a_answered)
    await _peers(b, "accept", a.host)
    await asyncio.wait_for(a_answered.sprung.wait(), 60)
    given_up = select(Delivery).where(Delivery.host == a.host, Delivery.state == DEAD)
    await eventually(lambda: processes.holds("b", given_up), what="b to give its Accept up")
    await a.start(closes=False)
    await a.ready(processes.http)
    await eventually(lambda: _agreement_is(processes, "a", b.host, agreements.IN_FORCE), timeout=30,
                     what="a to send its Offer again and hear b's Accept again")
    for name, peer in (("a", b.host), ("b", a.host)):
        assert await processes.scalar(name, select(func.count(Agreement.id)).where(Agreement.peer_host == peer)) == 1


async def _agree(processes: Processes, first: str, second: str) -> None:
    sites = processes.sites
    await _peers(sites[first], "propose", sites[second].host)
    await eventually(lambda: _agreement_is(processes, second, sites[first].host, agreements.OFFERED),
                     timeout=30, what=f"{second} offered by {first}")
    await _peers(sites[second], "accept", sites[first].host)
    await eventually(lambda: _agreement_is(processes, first, sites[second].host, agreements.IN_FORCE),
                     timeout=30, what=f"{first} agreed with {second}")


async def _peers(site: Site, verb: str, host: str) -> None:
    """`mecene peers VERB HOST` as `site`'s operator runs it, against its database, while it serves."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith("MECENE_")}
    environ.update(site.environment(closes=False), PYTHONPATH=str(ROOT),
                   MECENE_DATA_DIR=str(site.log.parent / f"cli-{site.name}"))
    done = await asyncio.to_thread(subprocess.run, [
        *MECENE, "peers", verb, host, "--currency", "EUR", "--credit-limit", "100.00",
        "--instructions", f"Pay {site.name} by hand"], env=environ, capture_output=True, text=True, cwd=ROOT,
        timeout=60)
    assert done.returncode == 0, done.stderr


async def _agreement_is(processes: Processes, name: str, host: str, state: str) -> bool:
    return await processes.scalar(name, select(Agreement.state).where(Agreement.peer_host == host)) == state


async def _a_pays_and_both_ends_die(processes: Processes) -> None:
    """A pays B and C; C dies having stored A's Payout, A when B's answer comes; B's answer is then lost."""
    a, b, c = (processes.sites[name] for name in PEOPLE)
    c_stored = Trap(posting("Payout"), answered=True)
    a_answered = Trap(posting("Accept", "Reject"), after=c_stored.sprung)
    c.traps.append(c_stored)
    a.traps.append(a_answered)
    await asyncio.gather(b.start(closes=False), c.start(closes=False))
    await asyncio.gather(b.ready(processes.http), c.ready(processes.http))
    await a.start(closes=True)
    await asyncio.wait_for(asyncio.gather(c_stored.sprung.wait(), a_answered.sprung.wait()), 60)
    assert await processes.scalar("a", select(func.count(Payout.id)).where(Payout.state != SETTLED)) == 2
    assert await processes.holds("c", select(InboxItem).where(InboxItem.activity_id.like(f"{a.base_url}/payouts/%")))
    answer_lost = select(Delivery).where(Delivery.host == a.host, Delivery.state == DEAD)
    await eventually(lambda: processes.holds("b", answer_lost), what="B to give its answer up")


async def _c_pays_and_dies_when_b_first_asks_who_it_is(processes: Processes) -> None:
    """A comes back, then C, which closes; C dies when B, holding C's Payout, first asks C's NodeInfo."""
    a, b, c = (processes.sites[name] for name in PEOPLE)
    b_asks = Trap(nodeinfo_asked_by(b))
    c.traps.append(b_asks)
    await a.start(closes=True)
    await a.ready(processes.http)
    await c.start(closes=True)
    await asyncio.wait_for(b_asks.sprung.wait(), 60)
    payout = InboxItem.activity_id.like(f"{c.base_url}/payouts/%")
    failed = select(InboxItem).where(payout, InboxItem.attempts >= 1, InboxItem.error.is_not(None))
    await eventually(lambda: processes.holds("b", failed), what="B to find C away")
    assert not await processes.holds("b", select(KnownInstance).where(KnownInstance.host == c.host))


async def _c_and_b_come_back_and_b_closes(processes: Processes) -> None:
    """B is killed with C's Payout waiting for its next try; C comes back, then B, which closes."""
    b, c = processes.sites["b"], processes.sites["c"]
    await b.kill()
    await c.start(closes=True)
    await c.ready(processes.http)
    await b.start(closes=True)
    await b.ready(processes.http)


async def _all_settled(processes: Processes) -> bool:
    """Every site closed, its two payouts settled and the two payouts to it received."""
    for name in PEOPLE:
        if await processes.scalar(name, select(PeriodClose.state)) != CLOSED:
            return False
        settled = await processes.scalar(name, select(func.count(Payout.id)).where(Payout.state == SETTLED))
        received = await processes.scalar(name, select(func.count(ReceivedPayout.id)))
        if (settled, received) != (2, 2):
            return False
    return True


async def _statement(processes: Processes, name: str) -> dict[str, Any]:
    """What the operator of `name` reads at GET /api/v1/admin/statements."""
    site = processes.sites[name]
    async with processes.http.get(f"http://127.0.0.1:{site.inner_port}/api/v1/admin/statements",
                                   headers={"Authorization": f"Bearer {processes.tokens[name]}"}) as response:
        assert response.status == 200, await response.text()
        return dict(await response.json())


def _units(cash: dict[str, Any] | None) -> int:
    return 0 if cash is None else int(cash["minor_units"])


def _assert_pairs_agree(processes: Processes, statements: dict[str, dict[str, Any]]) -> None:
    """What X says it owes Y is what Y says X owes it, in total and for the period; nothing is left in flight."""
    for name, statement in statements.items():
        positions = {position["host"]: position for position in statement["instances"]}
        assert set(positions) == {processes.sites[other].host for other in PEOPLE if other != name}
        for other in PEOPLE:
            if other == name:
                continue
            ours = positions[processes.sites[other].host]
            theirs = {p["host"]: p for p in statements[other]["instances"]}[processes.sites[name].host]
            assert _units(ours["owed_to_them"]) == _units(theirs["owed_by_them"]) > 0, (name, other)
            assert _units(ours["in_flight"]) == 0
            [line] = ours["periods"]
            [their_line] = theirs["periods"]
            assert line["period"] == their_line["period"] == processes.period.label
            assert line["state"] == SETTLED and _units(line["refused"]) == 0
            assert _units(line["sent"]) == _units(line["accepted"]) == _units(their_line["received"])


def _assert_every_cent(processes: Processes, statements: dict[str, dict[str, Any]]) -> None:
    """Funded = wallets + creators (available or pending) + fees across the three, each amount the documented rule's."""
    parts = {name: {key: _units(value) for key, value in statement["conservation"].items() if key != "holds"}
             for name, statement in statements.items()}
    assert all(statement["conservation"]["holds"] for statement in statements.values())
    total = {key: sum(part[key] for part in parts.values()) for key in parts["a"]}
    assert total["owed_to_instances"] == total["owed_by_instances"]
    assert total["escrow"] == total["in_flight"] == 0
    assert total["funded"] == total["wallets"] + total["creators"] + total["pending"] + total["fees"] == 1699
    earned = {name: 0 for name in PEOPLE}
    for name in PEOPLE:
        donor = PEOPLE[name][0]
        wallet, budget = (parse_amount(value, "EUR").amount for value in FUNDS[name])
        things = [thing for other in PEOPLE if other != name for thing in processes.things[other]]
        share = allocate(budget=budget, wallet=wallet, things=things, fee_basis_points=FEE_BASIS_POINTS,
                         seed=share_seed(processes.period.label, donor))
        assert (parts[name]["wallets"], parts[name]["fees"]) == (wallet - share.spend, share.fee), name
        for other in PEOPLE:
            earned[other] += sum(share.shares.get(thing, 0) for thing in processes.things[other])
    assert {name: part["creators"] + part["pending"] for name, part in parts.items()} == earned
