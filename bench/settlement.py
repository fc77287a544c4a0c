"""Target 3: closing a period of 1,000,000 flattrs against reading them and bulk-writing their shares.

A fresh database, migrated, is filled in bulk: 100,000 donors flattring 10
things each, funded by one ledger transaction and given a budget. The things
belong to 10,000 creators: half of them here, four in ten on 20 other Mecene
instances (one Payout each), one in ten on servers without Mecene (escrow).
Every donor's things are spread over the creators, so a batch of donors
credits thousands of accounts: the hard case for the ledger. Flattrs and
creators follow MECENE_BENCH_SCALE; the instances do not. The budgets and
flattrs go in by COPY on PostgreSQL and by the sqlite3 module on SQLite, as
SQLAlchemy would store them but without its per-row work.

The close is `PeriodCloser` with the configured batch size and a classifier
that knows every host beforehand, as `server.settling.closing` arranges. It runs in a
process of its own, so that process's peak RSS is the close's. The baseline
runs in another process, on a copy of the database taken before the close: it
reads the period's flattrs and writes one `stl_shares` row for each with Core
executemany through the same engine, the least any close has to do. A close
of a period ten times smaller shows whether memory grows with the period.

On SQLite, then on PostgreSQL when MECENE_BENCH_POSTGRES_URL (by default the
local server's `postgres` database; empty skips it) answers: the case creates
its scratch databases there and drops them.
"""

import asyncio
import os
import shutil
import sqlite3
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Callable, Coroutine, Iterable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from multiprocessing import get_context
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

import asyncpg
from sqlalchemy import Column, Table, func, insert, select, text
from sqlalchemy.engine import Dialect, make_url

from bench.postgres import plain_dsn
from bench.report import Figure
from bench.scale import scaled
from config.settings import load
from server import db
from settlement import ledger
from settlement.closing import CloseReport, CloseSettings, PeriodCloser
from settlement.destinations import ESCROW, LOCAL, PAYOUT, Destination
from settlement.ledger import AccountKey
from settlement.models import Budget, Flattr, Share
from settlement.periods import parse_period

FLATTRS = 1_000_000
THINGS_EACH = 10
CREATORS = 10_000
THINGS_PER_CREATOR = 10
PEERS = 20
PLAIN_HOSTS = 5
SMALLER = 10
STRIDE = 7919  # a prime: flattr i gets thing i × STRIDE mod things, every thing in turn, spread over the creators
LOCAL_HOST = "bench.local"
CURRENCY = "EUR"
WALLET, BUDGET = 1500, 1003
PERIOD = parse_period("2026-10")
FILLED_AT = datetime(2026, 10, 15, tzinfo=UTC)
CLOSED_AT = datetime(2026, 11, 2, tzinfo=UTC)
BASELINE_CHUNK = 10_000
MEMORY_LIMIT_MB = 300
POSTGRES_VARIABLE = "MECENE_BENCH_POSTGRES_URL"
POSTGRES_DEFAULT = "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"

T = TypeVar("T")
Load = tuple[Table, Sequence[str], Iterable[tuple[Any, ...]]]


@dataclass(frozen=True)
class Size:
    flattrs: int
    creators: int

    @property
    def donors(self) -> int:
        return self.flattrs // THINGS_EACH


@dataclass(frozen=True)
class Run:
    """What a child process did: its work's result, the seconds it took and the process's peak RSS."""

    result: Any
    seconds: float
    peak_mb: float


@dataclass(frozen=True)
class Within(Figure):
    """A figure whose ratio must also stay at or under `ceiling`: memory that grows with the period fails it."""

    ceiling: float = 1.0

    @property
    def passed(self) -> bool:
        return self.target <= self.ratio <= self.ceiling


def author(creator: int) -> str:
    """Creators 0–4 of every ten are here, 5–8 on the peers, 9 on servers without Mecene."""
    if creator % 10 < 5:
        host = LOCAL_HOST
    elif creator % 10 < 9:
        host = f"peer{creator // 10 % PEERS}.bench"
    else:
        host = f"plain{creator // 10 % PLAIN_HOSTS}.bench"
    return f"http://{host}/users/creator{creator}"


PEER_HOSTS = frozenset(f"peer{n}.bench" for n in range(PEERS))


def classify(author_uri: str) -> Destination:
    """What `server.settling.closing.classifier` answers once it has asked every host for its NodeInfo."""
    host = urlsplit(author_uri).netloc
    if host == LOCAL_HOST:
        return Destination(LOCAL, host, author_uri.rsplit("/", 1)[1])
    if host in PEER_HOSTS:
        return Destination(PAYOUT, host, host)
    return Destination(ESCROW, host, author_uri)


def donor(number: int) -> str:
    return f"donor{number:07d}"


def stored(column: Column[Any], value: Any, dialect: Dialect) -> Any:
    """`value` as SQLAlchemy binds it to `column`, for rows written without it (UTCDateTime: naive, text on SQLite)."""
    process = column.type.dialect_impl(dialect).bind_processor(dialect)
    return value if process is None else process(value)


def budget_rows(donors: list[str], dialect: Dialect) -> Load:
    """A budget for every donor, so that the close spends it."""
    table = Budget.__table__
    updated_at = stored(table.c.updated_at, FILLED_AT, dialect)
    return table, ("username", "amount", "currency", "updated_at"), (
        (name, BUDGET, CURRENCY, updated_at) for name in donors)


def flattr_rows(size: Size, dialect: Dialect) -> Load:
    """The flattrs in id order, with the empty title that Flattr's default gives; no id, so the table numbers them."""
    table = Flattr.__table__
    columns = ("donor", "thing_uri", "author_uri", "title", "period", "activity_id", "created_at")
    return table, columns, flattrs(size, stored(table.c.created_at, FILLED_AT, dialect))


def flattrs(size: Size, created_at: Any) -> Iterator[tuple[Any, ...]]:
    things = size.creators * THINGS_PER_CREATOR
    for i in range(size.flattrs):
        creator, thing = divmod(i * STRIDE % things, THINGS_PER_CREATOR)
        by = author(creator)
        yield (donor(i // THINGS_EACH), f"{by}/statuses/{thing}", by, "", PERIOD.label,
               f"http://{LOCAL_HOST}/flattrs/{i}", created_at)


async def copy_rows(url: str, loads: Iterable[Load]) -> None:
    """PostgreSQL's binary COPY, which has no statement per row to bind and run."""
    connection = await asyncpg.connect(plain_dsn(url))
    try:
        for table, columns, rows in loads:
            await connection.copy_records_to_table(table.name, records=rows, columns=list(columns))
    finally:
        await connection.close()


def insert_rows(path: Path, loads: Iterable[Load]) -> None:
    """The sqlite3 module's executemany of tuples in one transaction, which spares SQLAlchemy's work on every row."""
    connection = sqlite3.connect(path)
    try:
        with connection:
            for table, columns, rows in loads:
                connection.executemany(
                    f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})", rows)
    finally:
        connection.close()


async def fill(url: str, size: Size) -> None:
    """Migrate and fill the database: every donor funded in one ledger transaction, then the budgets and flattrs.

    PostgreSQL then gathers statistics, as its autovacuum does soon after such a load; test servers often run
    without it, and the planner would then take million-row tables for empty ones.
    """
    engine = db.create_engine(url)
    try:
        await db.upgrade(engine)
        sessions = db.sessionmaker(engine)
        donors = [donor(number) for number in range(size.donors)]
        async with sessions() as session, session.begin():
            lines = [(AccountKey("wallet", name, CURRENCY), WALLET) for name in donors]
            lines.append((AccountKey("payin", "manual", CURRENCY), -WALLET * len(donors)))
            await ledger.post(session, kind="topup", idempotency_key="topup:bench", lines=lines, now=FILLED_AT)
        loads = [budget_rows(donors, engine.dialect), flattr_rows(size, engine.dialect)]
        if engine.dialect.name == "postgresql":
            await copy_rows(url, loads)
            async with engine.begin() as connection:
                await connection.execute(text("ANALYZE"))
        else:
            await asyncio.to_thread(insert_rows, _path(url), loads)
    finally:
        await engine.dispose()


async def close(url: str) -> CloseReport:
    """The close as a server runs it, with the default settings' batch size and fee."""
    options = load(None, {}).settlement
    engine = db.create_engine(url)
    try:
        settings = CloseSettings(CURRENCY, options.fee_basis_points, options.close_batch_donors)
        closer = PeriodCloser(db.sessionmaker(engine), settings, lambda: CLOSED_AT, "bench",
                              lambda label, host: f"http://{LOCAL_HOST}/payouts/{label}/{host}")
        return await closer.close(PERIOD, classify)
    finally:
        await engine.dispose()


async def baseline(url: str) -> int:
    """Read the period's flattrs in id order and write a share row for each, a transaction per chunk."""
    flattrs, shares = Flattr.__table__, Share.__table__
    engine = db.create_engine(url)
    written, after = 0, 0
    try:
        while True:
            async with engine.begin() as connection:
                rows = (await connection.execute(
                    select(flattrs.c.id, flattrs.c.donor, flattrs.c.thing_uri, flattrs.c.author_uri)
                    .where(flattrs.c.period == PERIOD.label, flattrs.c.id > after)
                    .order_by(flattrs.c.id).limit(BASELINE_CHUNK))).all()
                if not rows:
                    return written
                await connection.execute(insert(shares), [
                    {"period": PERIOD.label, "donor": row.donor, "thing_uri": row.thing_uri,
                     "author_uri": row.author_uri, "host": row.author_uri.split("/")[2], "recipient": row.author_uri,
                     "amount": BUDGET // THINGS_EACH, "currency": CURRENCY, "destination": ESCROW, "settled_at": None}
                    for row in rows])
            written += len(rows)
            after = rows[-1].id
    finally:
        await engine.dispose()


def measure(work: Callable[[str], Coroutine[Any, Any, T]], url: str) -> Run:
    """In the child process: run `work`, then read the process's peak RSS."""
    start = time.perf_counter()
    result = asyncio.run(work(url))
    seconds = time.perf_counter() - start
    return Run(result, seconds, peak_rss_mb())


def peak_rss_mb() -> float:
    """VmHWM, the high-water mark of this process image alone.

    `ru_maxrss` would also count the parent's pages the child held between fork and exec: Linux keeps it across exec.
    """
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc/self/status: the settlement case measures memory on Linux only")


def in_child(work: Callable[[str], Coroutine[Any, Any, T]], url: str) -> Run:
    """A fresh process per run, so that its peak RSS is that run's alone."""
    with ProcessPoolExecutor(1, mp_context=get_context("spawn")) as pool:
        return pool.submit(measure, work, url).result()


async def count_shares(url: str) -> int:
    engine = db.create_engine(url)
    try:
        async with engine.connect() as connection:
            return int(await connection.scalar(select(func.count()).select_from(Share.__table__)) or 0)
    finally:
        await engine.dispose()


class SQLite:
    name = "SQLite"

    def __init__(self, folder: Path) -> None:
        self._folder = folder

    @asynccontextmanager
    async def database(self, name: str) -> AsyncIterator[str]:
        url = f"sqlite+aiosqlite:///{self._folder / name}.db"
        try:
            yield url
        finally:
            await self.drop(url)

    async def copy(self, url: str, name: str) -> str:
        """A copy of the file; the engine that filled it is disposed, so no WAL is left beside it."""
        target = self._folder / f"{name}.db"
        shutil.copyfile(_path(url), target)
        return f"sqlite+aiosqlite:///{target}"

    async def drop(self, url: str) -> None:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{_path(url)}{suffix}").unlink(missing_ok=True)


def _path(url: str) -> Path:
    return Path(make_url(url).database or "")


class PostgreSQL:
    name = "PostgreSQL"

    def __init__(self, url: str) -> None:
        self._url = make_url(url)
        self._prefix = f"mecene_bench_{uuid.uuid4().hex[:8]}"

    async def reachable(self) -> bool:
        try:
            connection = await asyncpg.connect(self._admin(), timeout=5)
        except (OSError, TimeoutError, asyncpg.PostgresError) as error:
            print(f"  settlement: no PostgreSQL at {self._url.render_as_string()}: {error}", flush=True)
            return False
        await connection.close()
        return True

    @asynccontextmanager
    async def database(self, name: str) -> AsyncIterator[str]:
        database = f"{self._prefix}_{name}"
        await self._admin_command(f'CREATE DATABASE "{database}"')
        try:
            yield self._url.set(database=database).render_as_string(hide_password=False)
        finally:
            await self._admin_command(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')

    async def copy(self, url: str, name: str) -> str:
        """A database made from the filled one as its template."""
        database = f"{self._prefix}_{name}"
        await self._admin_command(f'CREATE DATABASE "{database}" TEMPLATE "{make_url(url).database}"')
        return self._url.set(database=database).render_as_string(hide_password=False)

    async def drop(self, url: str) -> None:
        await self._admin_command(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)')

    def _admin(self) -> str:
        return self._url.set(drivername="postgresql").render_as_string(hide_password=False)

    async def _admin_command(self, sql: str) -> None:
        connection = await asyncpg.connect(self._admin())
        try:
            await connection.execute(sql)
        finally:
            await connection.close()


Backend = SQLite | PostgreSQL


async def filled(backend: Backend, url: str, size: Size) -> None:
    start = time.perf_counter()
    await fill(url, size)
    print(f"  settlement ({backend.name}): filled {size.flattrs:,} flattrs of {size.donors:,} donors "
          f"in {time.perf_counter() - start:.0f} s (not timed)", flush=True)


def peers_flattred(size: Size) -> int:
    """The Payouts a close must write: one per peer host among the things flattred (all 20 once flattrs ≥ things)."""
    things = size.creators * THINGS_PER_CREATOR
    hosts = {urlsplit(author(i * STRIDE % things // THINGS_PER_CREATOR)).netloc
             for i in range(min(size.flattrs, things))}
    return len(hosts & PEER_HOSTS)


def check(report: CloseReport, size: Size, shares: int) -> None:
    """Every donor closed and spent, a share per flattr, one Payout per peer flattred."""
    expected = ("closed", size.donors, size.donors * min(WALLET, BUDGET), size.flattrs, peers_flattred(size))
    got = (report.state, report.donors, report.spent, shares, report.payouts)
    if got != expected:
        raise AssertionError(f"close of {size.flattrs:,} flattrs: expected {expected}, got {got}")


async def small_close(backend: Backend, size: Size) -> Run:
    async with backend.database("small") as url:
        await filled(backend, url, size)
        run = await asyncio.to_thread(in_child, close, url)
        check(run.result, size, await count_shares(url))
        return run


async def large_close(backend: Backend, size: Size) -> tuple[Run, Run]:
    """The baseline on a copy taken before the close, then the close; both on the same filled database."""
    async with backend.database("large") as url:
        await filled(backend, url, size)
        copy = await backend.copy(url, "baseline")
        try:
            base = await asyncio.to_thread(in_child, baseline, copy)
        finally:
            await backend.drop(copy)
        if base.result != size.flattrs:
            raise AssertionError(f"the baseline wrote {base.result} shares for {size.flattrs} flattrs")
        run = await asyncio.to_thread(in_child, close, url)
        check(run.result, size, await count_shares(url))
        return base, run


async def figures(backend: Backend, large: Size, small: Size) -> list[Figure]:
    little = await small_close(backend, small)
    base, closed = await large_close(backend, large)
    where = f" ({backend.name})"
    print(f"  settlement{where}: close {closed.seconds:.1f} s, baseline {base.seconds:.1f} s, close/baseline "
          f"{closed.seconds / base.seconds:.2f} (target ≤ 2); {closed.result.payouts} payouts", flush=True)
    print(f"  settlement{where}: peak RSS of the close {closed.peak_mb:.0f} MB at {large.flattrs:,} flattrs, "
          f"{little.peak_mb:.0f} MB at {small.flattrs:,}; baseline {base.peak_mb:.0f} MB", flush=True)
    return [
        Figure(f"period close vs read+write{where}", large.flattrs / closed.seconds,
               large.flattrs / base.seconds, "flattrs/s", "read flattrs, executemany shares", 0.5),
        Figure(f"300 MB / period close peak RSS{where}", MEMORY_LIMIT_MB, closed.peak_mb, "MB",
               f"peak RSS of the close at {large.flattrs:,} flattrs", 1.0),
        Within(f"period close RSS at 10× flattrs{where}", closed.peak_mb, little.peak_mb, "MB, ratio 0.8–1.2",
               f"peak RSS of the close at {small.flattrs:,} flattrs", 0.8, ceiling=1.2),
    ]


async def run_async() -> list[Figure]:
    large = Size(round(scaled(FLATTRS, 10 * THINGS_EACH * SMALLER)), round(scaled(CREATORS, 10 * PEERS)))
    small = Size(large.flattrs // SMALLER, large.creators)
    with tempfile.TemporaryDirectory(prefix="mecene-bench-") as folder:
        results = await figures(SQLite(Path(folder)), large, small)
    url = os.environ.get(POSTGRES_VARIABLE, POSTGRES_DEFAULT)
    if url and await (postgres := PostgreSQL(url)).reachable():
        results += await figures(postgres, large, small)
    return results


def run() -> list[Figure]:
    return asyncio.run(run_async())
