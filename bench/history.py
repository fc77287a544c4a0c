"""Target 2: history does not slow pages — ten years of an account against one year and a fresh one, on PostgreSQL.

One instance runs in this process (`server.wiring` and `server.app`, as the
tests' federation harness starts one) on a scratch database of
MECENE_BENCH_POSTGRES_URL, without its background workers, so nothing but the
measured requests touches the database. It is filled in bulk, untimed, with
three accounts of the same monthly habits:

- the veteran, ten years in: 120 closed periods of 50 flattrs each (with
  their titles, the donor's close row and one share per flattr, every close
  posted to the ledger), 1,000 things of their own, 5,000 earnings lines over
  those periods from donors here (posted to the ledger too) and the flattrs
  their things received;
- the one-year account: the same for 12 periods (100 things, 500 earnings
  lines), as much history as any page or first API page shows;
- the fresh account, opened today;
- ten other creators of 1,000 things each, whom the three flattr: the
  veteran's things are not most of the instance's.

All three flattr the same 10 things in the current period and hold the same
wallet and budget. Then GET / (the dashboard), GET /users/{name} (the creator
page, as its owner), GET /api/v1/earnings, GET /api/v1/flattrs and GET
/api/v1/received (the issue's four, and the creator's other list) are each asked
`REQUESTS` times (MECENE_BENCH_SCALE) as each account in turn, sequentially
over loopback, after a warm-up; a page cookie and an API token sign them in.
Taking turns puts a burst of other work on the machine on all three alike.

A figure is the veteran's rate (requests per second at the median time) over
another account's: at or above 1/1.5 ≈ 0.67 the veteran's median answer takes
at most 1.5 times the other's. The target is against the one-year account:
both fill every page, so what is left between them is what the nine older
years cost. Against the fresh account the figure is printed without a target:
a page of six past periods cannot cost what an empty one does, however the
past is stored. The p99 is printed beside each median, without a target: 1 %
of a few hundred requests on a shared machine is a handful of unlucky ones.

The filled database is vacuumed and analysed, as autovacuum keeps a database
that has lived ten years: its statistics current and its old pages marked
all-visible, which index-only scans count on.

Every statement those requests ran is captured (`before_cursor_execute` on the
instance's engine) and EXPLAINed on PostgreSQL with its own parameters and
`enable_seqscan` off, so the planner takes any index that can serve it: a
Seq Scan left on a history table means no index could, and an index scan
whose condition leaves the index's first column free reads the whole index.
The plan figure counts the statements free of both; each offender is printed
with its plan, and the figure misses its target.
"""

import asyncio
import json
import re
import statistics
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import asyncpg
from aiohttp import web
from sqlalchemy import event, insert, select, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncSession

from bench.loopback import HOST, free_port
from bench.postgres import plain_dsn, scratch_database, server_url, shown, unreachable
from bench.report import Figure
from bench.scale import scaled
from config.settings import load
from server.accounts import create_user
from server.app import create_app
from server.instance import Instance
from server.models import ReceivedFlattr, Thing
from server.tokens import create_token
from server.web.sessions import COOKIE, open_session
from server.wiring import build_instance
from settlement import ledger
from settlement.accounts import CREATOR, FEE, PAYIN, WALLET
from settlement.closing import CLOSED
from settlement.destinations import LOCAL
from settlement.ledger import AccountKey
from settlement.models import Budget, DonorClose, Earning, Flattr, PeriodClose, Share
from settlement.periods import Period

VETERAN, YEAR, FRESH, PATRON = "veteran", "year", "fresh", "patron"
#: Closed periods each account has behind it.
HISTORY = {VETERAN: 120, YEAR: 12, FRESH: 0}
MAKERS = 10
FLATTRS_EACH = 50
THINGS_EACH = 25  # things offered per 3 periods: 1,000 in ten years
EARNINGS_EACH = 125  # earnings lines per 3 periods: 5,000 in ten years
CURRENT_FLATTRS = 10
CURRENCY = "EUR"
SHARE, FEE_EACH = 20, 2
WALLET_AMOUNT, BUDGET = 1_000_000, 500
REQUESTS = 200
WARM_UP = 10
TARGET = 1 / 1.5
#: Tables that grow with an instance's history: a query on them must be served by an index.
HISTORY_TABLES = frozenset({
    "stl_flattrs", "stl_shares", "stl_earnings", "stl_entries", "stl_transactions", "stl_donor_closes",
    "stl_period_closes", "stl_accounts", "stl_pending_credits", "stl_payouts", "stl_received_payouts",
    "things", "received_flattrs", "web_sessions", "api_tokens", "fed_deliveries", "fed_inbox_items",
    "fed_outbox_items", "fed_remote_actors", "fed_followers", "mail_outbox"})
ROUTES = ("/", "/users/{name}", "/api/v1/earnings", "/api/v1/flattrs", "/api/v1/received")


@dataclass(frozen=True)
class Account:
    name: str
    cookie: str
    token: str

    def headers(self, path: str) -> dict[str, str]:
        if path.startswith("/api/"):
            return {"Authorization": f"Bearer {self.token}", "Accept": "application/json"}
        return {"Cookie": f"{COOKIE}={self.cookie}", "Accept": "text/html"}


@dataclass(frozen=True)
class Timings:
    route: str
    seconds: dict[str, list[float]]


def _p99(seconds: list[float]) -> float:
    return statistics.quantiles(seconds, n=100, method="inclusive")[98]


def _periods(current: Period, count: int) -> list[Period]:
    """`count` closed periods, oldest first, ending with the one before `current`."""
    found, period = [], current
    for _ in range(count):
        period = period.previous()
        found.append(period)
    return found[::-1]


def _maker_thing(instance: Instance, n: int) -> tuple[str, str]:
    return instance.urls.thing(f"m{n}"), instance.urls.actor(f"maker{n % MAKERS}")


def _things_of(name: str) -> list[str]:
    """An account's things; each of the makers has offered as many as the veteran, ten years' worth."""
    return [f"{name}{n:04d}" for n in range(HISTORY.get(name, max(HISTORY.values())) * THINGS_EACH // 3)]


def _earnings_of(index: int, things: list[str]) -> Iterator[tuple[str, int, int]]:
    """The earnings lines of an account's `index`th period: (thing token, amount, flattrs)."""
    for line in range(index * EARNINGS_EACH // 3, (index + 1) * EARNINGS_EACH // 3):
        yield things[line % len(things)], 10 + line % 7, 1 + line % 3


async def _accounts(session: AsyncSession, instance: Instance, now: datetime) -> dict[str, Account]:
    bot = instance.settings.instance.bot_username
    found = {}
    for name in (*HISTORY, PATRON, *(f"maker{n}" for n in range(MAKERS))):
        user = await create_user(session, name, bot_username=bot, now=now)
        if name in HISTORY:
            found[name] = Account(name, await open_session(session, name, now),
                                  await create_token(session, user, "bench", now))
    return found


async def _money(session: AsyncSession, name: str, periods: list[Period], now: datetime) -> None:
    """A wallet, a budget and every close of the account's past, posted as balanced ledger transactions."""
    payin = AccountKey(PAYIN, "manual", CURRENCY)
    for owner in (name, f"{PATRON}-{name}"):
        await ledger.post(session, kind="topup", idempotency_key=f"topup:{owner}", now=now,
                          lines=[(AccountKey(WALLET, owner, CURRENCY), WALLET_AMOUNT), (payin, -WALLET_AMOUNT)])
    await session.execute(insert(Budget.__table__), [
        {"username": name, "amount": BUDGET, "currency": CURRENCY, "updated_at": now}])
    things = _things_of(name)
    for index, period in enumerate(periods):
        makers = [(AccountKey(CREATOR, f"maker{n}", CURRENCY), SHARE * FLATTRS_EACH // MAKERS) for n in range(MAKERS)]
        await ledger.post(session, kind="close", idempotency_key=f"close:{period.label}:{name}", now=period.end,
                          lines=[(AccountKey(WALLET, name, CURRENCY), -FLATTRS_EACH * (SHARE + FEE_EACH)),
                                 (AccountKey(FEE, "", CURRENCY), FLATTRS_EACH * FEE_EACH), *makers])
        earned = sum(amount for _, amount, _ in _earnings_of(index, things))
        await ledger.post(session, kind="close", idempotency_key=f"close:{period.label}:{PATRON}-{name}",
                          now=period.end, lines=[(AccountKey(WALLET, f"{PATRON}-{name}", CURRENCY), -earned),
                                                 (AccountKey(CREATOR, name, CURRENCY), earned)])


async def _fill(instance: Instance) -> dict[str, Account]:
    now = instance.clock()
    current = instance.current_period()
    async with instance.sessions() as session, session.begin():
        accounts = await _accounts(session, instance, now)
        for name, count in HISTORY.items():
            await _money(session, name, _periods(current, count), now)
        for name in (*HISTORY, *(f"maker{n}" for n in range(MAKERS))):
            tokens = _things_of(name)
            if tokens:
                await session.execute(insert(Thing), [
                    {"token": token, "creator": name, "kind": "Note", "url": None, "title": f"Essay {n}",
                     "summary": f"Essay number {n}.", "created_at": now - timedelta(days=len(tokens) - n)}
                    for n, token in enumerate(tokens)])
    async with instance.engine.begin() as connection:
        await connection.execute(insert(PeriodClose.__table__), [{
            "period": period.label, "state": CLOSED, "donors_total": 3, "donors_done": 3, "started_at": period.end,
            "finished_at": period.end} for period in _periods(current, max(HISTORY.values()))])
    for name, count in HISTORY.items():
        await _history(instance, name, _periods(current, count))
    await _current(instance, current, now)
    async with instance.engine.connect() as connection:
        await (await connection.execution_options(isolation_level="AUTOCOMMIT")).execute(text("VACUUM ANALYZE"))
    return accounts


async def _history(instance: Instance, name: str, periods: list[Period]) -> None:
    """The rows each past close left for the account, a period per transaction."""
    actor = instance.urls.actor(name)
    async with instance.sessions() as session:
        rows = await session.execute(select(Thing.token, Thing.id).where(Thing.creator == name))
        thing_ids = {token: thing_id for token, thing_id in rows}
    things = _things_of(name)
    for index, period in enumerate(periods):
        flattred = [_maker_thing(instance, (index * FLATTRS_EACH + n) % 400) for n in range(FLATTRS_EACH)]
        lines = list(_earnings_of(index, things))
        async with instance.engine.begin() as connection:
            await connection.execute(insert(Flattr.__table__), [{
                "donor": name, "thing_uri": thing, "author_uri": author, "title": f"A thing by {author}",
                "period": period.label, "activity_id": f"{actor}/flattrs/{period.label}/{n}",
                "created_at": period.start} for n, (thing, author) in enumerate(flattred)])
            await connection.execute(insert(DonorClose.__table__), [{
                "period": period.label, "donor": name, "spend": FLATTRS_EACH * (SHARE + FEE_EACH),
                "fee": FLATTRS_EACH * FEE_EACH, "transaction_id": None}])
            await connection.execute(insert(Share.__table__), [{
                "period": period.label, "donor": name, "thing_uri": thing, "author_uri": author,
                "host": instance.urls.host, "recipient": author.rsplit("/", 1)[1], "amount": SHARE,
                "currency": CURRENCY, "destination": LOCAL, "settled_at": period.end} for thing, author in flattred])
            await connection.execute(insert(Earning.__table__), [{
                "creator": name, "period": period.label, "thing_uri": instance.urls.thing(token), "source": "",
                "amount": amount, "currency": CURRENCY, "flattrs": count} for token, amount, count in lines])
            await connection.execute(insert(ReceivedFlattr), [{
                "activity_id": f"https://remote.example/flattrs/{name}/{period.label}/{n}",
                "thing_id": thing_ids[token], "donor_uri": f"https://remote.example/users/donor{n % 37}",
                "period": period.label, "received_at": period.start} for n, (token, _, _) in enumerate(lines)])


async def _current(instance: Instance, current: Period, now: datetime) -> None:
    """The same 10 flattrs this period for every account: the live part of every page, alike."""
    async with instance.engine.begin() as connection:
        await connection.execute(insert(Flattr.__table__), [{
            "donor": name, "thing_uri": thing, "author_uri": author, "title": f"Today's thing {n}",
            "period": current.label, "activity_id": f"{instance.urls.actor(name)}/flattrs/{current.label}/{n}",
            "created_at": now} for name in HISTORY
            for n, (thing, author) in enumerate(_maker_thing(instance, 900 + k) for k in range(CURRENT_FLATTRS))])


class Statements:
    """Every statement the instance's engine sends while listening, once per text and parameters."""

    def __init__(self, instance: Instance) -> None:
        self.seen: dict[tuple[str, str], tuple[str, tuple[Any, ...]]] = {}
        self.listening = False
        event.listen(instance.engine.sync_engine, "before_cursor_execute", self._record)

    def _record(self, connection: Connection, cursor: Any, statement: str, parameters: Any, context: Any,
                executemany: bool) -> None:
        if self.listening and not executemany:
            values = tuple(parameters or ())
            self.seen.setdefault((statement, repr(values)), (statement, values))


async def _plans(url: str, statements: list[tuple[str, tuple[Any, ...]]]) -> tuple[int, list[str]]:
    """How many statements were explained, and the offenders each with its plan."""
    connection = await asyncpg.connect(plain_dsn(url), timeout=10)
    offenders, explained = [], 0
    try:
        leading = {row[0]: (row[1], row[2]) for row in await connection.fetch(LEADING_COLUMNS)}
        await connection.execute("SET enable_seqscan = off")
        for statement, values in statements:
            if not statement.lstrip().upper().startswith(("SELECT", "UPDATE", "DELETE", "WITH")):
                continue
            [plan] = json.loads(await connection.fetchval(f"EXPLAIN (FORMAT JSON) {statement}", *values))
            explained += 1
            bad = list(_full_scans(plan["Plan"], leading, limited=False))
            if bad:
                readable = await connection.fetch(f"EXPLAIN {statement}", *values)
                offenders.append(f"{', '.join(bad)}\n  {statement}\n  {values}\n    "
                                 + "\n    ".join(row[0] for row in readable))
    finally:
        await connection.close()
    return explained, offenders


#: Each index's table and first column: an index condition that leaves that column free reads the whole index.
LEADING_COLUMNS = """
    SELECT index.relname, indexed.relname, attribute.attname FROM pg_index
    JOIN pg_class index ON index.oid = pg_index.indexrelid
    JOIN pg_class indexed ON indexed.oid = pg_index.indrelid
    JOIN pg_attribute attribute ON attribute.attrelid = pg_index.indrelid AND attribute.attnum = pg_index.indkey[0]
"""
INDEX_SCANS = ("Index Scan", "Index Only Scan", "Bitmap Index Scan")


def _full_scans(node: dict[str, Any], leading: dict[str, tuple[str, str]], *, limited: bool) -> Iterator[str]:
    """What reads a history table whole: a Seq Scan, or an index scan whose condition leaves its first column free.

    An index read in order under a LIMIT stops early, so it may go without any condition, but not with a
    filter or a condition on its later columns: either makes it read on, perhaps to the end, for rows that match.
    """
    kind, index = node["Node Type"], node.get("Index Name", "")
    table, column = leading.get(index, (node.get("Relation Name", ""), ""))
    if table in HISTORY_TABLES:
        if kind == "Seq Scan":
            yield f"Seq Scan on {table}"
        elif (kind in INDEX_SCANS and not _constrains(node.get("Index Cond", ""), column)
              and not (limited and "Filter" not in node and "Index Cond" not in node)):
            yield f"{kind} using {index} without a condition on its first column, {column}"
    for child in node.get("Plans", []):
        yield from _full_scans(child, leading, limited=limited or kind == "Limit")


def _constrains(condition: str, column: str) -> bool:
    """Whether an index condition names the column: it holds conditions on the index's columns only."""
    return bool(column) and re.search(rf"\b{re.escape(column)}\b", condition) is not None


async def _time(http: aiohttp.ClientSession, base: str, path: str, account: Account) -> float:
    start = time.perf_counter()
    async with http.get(base + path.format(name=account.name), headers=account.headers(path),
                        allow_redirects=False) as response:
        await response.read()
        if response.status != 200:
            raise AssertionError(f"GET {path} as {account.name} answered {response.status}")
    return time.perf_counter() - start


async def _measure(base: str, accounts: dict[str, Account], statements: Statements, count: int) -> list[Timings]:
    found = []
    async with aiohttp.ClientSession() as http:
        for route in ROUTES:
            for _ in range(WARM_UP):
                for account in accounts.values():
                    await _time(http, base, route, account)
            statements.listening = True
            for account in accounts.values():
                await _time(http, base, route, account)
            statements.listening = False
            seconds: dict[str, list[float]] = {name: [] for name in accounts}
            for _ in range(count):
                for name, account in accounts.items():
                    seconds[name].append(await _time(http, base, route, account))
            found.append(Timings(route, seconds))
    return found


def _figures(timings: list[Timings]) -> list[Figure]:
    figures = []
    for t in timings:
        median = {name: statistics.median(seconds) for name, seconds in t.seconds.items()}
        p99 = {name: _p99(seconds) for name, seconds in t.seconds.items()}
        print(f"  history: GET {t.route:16} " + "; ".join(
            f"{name} median {median[name] * 1000:.1f} ms, p99 {p99[name] * 1000:.1f} ms" for name in t.seconds)
            + f" ({len(t.seconds[VETERAN])} requests each)")
        for other, label, target, baseline in ((YEAR, "1 year", TARGET, "an account with a year of history"),
                                               (FRESH, "fresh", 0.0, "an account opened today")):
            figures += [
                Figure(f"GET {t.route}, 10 years vs {label}, median", 1 / median[VETERAN], 1 / median[other],
                       "requests/s at the median", baseline, target),
                Figure(f"GET {t.route}, 10 years vs {label}, p99", 1 / p99[VETERAN], 1 / p99[other],
                       "requests/s at the p99", baseline, 0.0)]
    return figures


async def run_async() -> list[Figure]:
    server = server_url()
    reason = await unreachable(server)
    if reason is not None:
        print(f"  history: skipped, PostgreSQL at {shown(server)} is unreachable ({reason})")
        return []
    count = round(scaled(REQUESTS, minimum=20))
    async with scratch_database(server, "history") as url:
        port = free_port()
        settings = load(None, {"MECENE_INSTANCE_DOMAIN": f"{HOST}:{port}", "MECENE_DATABASE_URL": url,
                               "MECENE_DEV_INSECURE": "true"})
        instance = build_instance(settings, lambda: datetime.now(UTC))
        runner = web.AppRunner(create_app(instance, run_workers=False), access_log=None)
        await runner.setup()
        try:
            await web.TCPSite(runner, HOST, port).start()
            start = time.perf_counter()
            accounts = await _fill(instance)
            print(f"  history: filled in {time.perf_counter() - start:.0f} s", flush=True)
            statements = Statements(instance)
            timings = await _measure(f"http://{HOST}:{port}", accounts, statements, count)
            explained, offenders = await _plans(url, list(statements.seen.values()))
        finally:
            await runner.cleanup()
    for offender in offenders:
        print(f"  history: a query reads a history table whole: {offender}")
    return [*_figures(timings), Figure("statements of those requests served by an index (PostgreSQL)",
                                       explained - len(offenders), explained, "statements",
                                       "every statement they ran", 1.0)]


def run() -> list[Figure]:
    return asyncio.run(run_async())
