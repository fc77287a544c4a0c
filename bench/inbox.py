"""Target 2: the inbox under load, against the same checks without a store and with one commit per request.

A sender instance in this process serves 50 actors; the receiver fetches each
actor's key once during a warm-up, then a load generator in a process of its
own sends distinct, validly signed Likes from those actors to the receiver's
shared inbox, 64 at a time, for 5 s × MECENE_BENCH_SCALE. The receiver is
each in turn, on the same port (so one pool of signatures serves them all),
for three rounds; a rate is the median of its three windows, so that a burst
of other work on the machine spoils a window rather than a figure:

- Mecene: `mecene serve` after `mecene init`, its inbox processor running;
- verify-only, one-commit-per-request and Mecene's store alone (its group
  commit without the inbox processor): `bench/inbox_servers.py`.

This runs on SQLite, then again on PostgreSQL when MECENE_BENCH_POSTGRES_URL
(`bench/postgres.py`) answers, its figures suffixed " (PostgreSQL)". Each
window's receiver gets a database of its own, as on SQLite a new file: on
PostgreSQL a scratch database created before the window and dropped after it,
rather than a TRUNCATE of one shared database, so that every receiver starts
from the same empty schema and fetches the actors' keys itself, whichever ran
before it.

Every 2xx must be a stored row: the rows are counted after each window.
"""

import asyncio
import statistics
import subprocess
import sys
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import aiohttp
from aiohttp import web
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from bench.loadgen import Author, Load, Signed, generate, presign, sign_likes
from bench.loopback import HOST, ROOT, child_environment, free_port, start_module, stop, wait_until_serving
from bench.postgres import scratch_database, server_url, shown, unreachable
from bench.report import Figure
from bench.scale import scaled
from config.settings import load
from federation.models import InboxItem, LocalActor
from server.accounts import create_user
from server.app import create_app
from server.instance import Instance
from server.wiring import build_instance

ACTORS = 50
CONCURRENCY = 64
DURATION = 5.0
ROUNDS = 3
SIGNED_PER_SECOND = 14000
WARM_UP_CONCURRENCY = 8


@dataclass(frozen=True)
class Target:
    name: str
    module: str
    args: tuple[str, ...]
    stores: bool


TARGETS = (
    Target("Mecene", "server.cli", ("serve",), stores=True),
    Target("verify-only", "bench.inbox_servers", ("verify",), stores=False),
    Target("one-commit-per-request", "bench.inbox_servers", ("commit",), stores=True),
    Target("store alone", "bench.inbox_servers", ("store",), stores=True),
)


@dataclass(frozen=True)
class Backend:
    """Where the receivers keep their data: a file in their folder, or scratch databases on a PostgreSQL server."""

    name: str
    server: str | None = None

    @property
    def suffix(self) -> str:
        return "" if self.server is None else f" ({self.name})"

    @asynccontextmanager
    async def database(self, folder: Path) -> AsyncIterator[str]:
        """The URL of an empty database for one window, dropped after it on PostgreSQL."""
        if self.server is None:
            yield sqlite_url(folder)
            return
        async with scratch_database(self.server, "inbox") as url:
            yield url


SQLITE = Backend("SQLite")


@dataclass(frozen=True)
class Result:
    target: Target
    backend: Backend
    load: Load
    rows: int | None


def sqlite_url(folder: Path) -> str:
    return f"sqlite+aiosqlite:///{folder / 'mecene.db'}"


def environment(folder: Path, port: int, database_url: str | None = None) -> dict[str, str]:
    """An instance's MECENE_* settings; its database is a SQLite file in `folder` unless `database_url` names one."""
    return {"MECENE_DATA_DIR": str(folder), "MECENE_INSTANCE_DOMAIN": f"{HOST}:{port}",
            "MECENE_DATABASE_URL": database_url or sqlite_url(folder), "MECENE_DEV_INSECURE": "true"}


async def start_sender(folder: Path, port: int) -> tuple[Instance, web.AppRunner]:
    """The peer whose actors sign the load; served here, as it only answers key fetches during warm-up."""
    instance = build_instance(load(None, environment(folder, port)))
    runner = web.AppRunner(create_app(instance, run_workers=False), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, HOST, port).start()
    async with instance.sessions() as session, session.begin():
        for n in range(ACTORS):
            await create_user(session, f"actor{n}", bot_username=instance.settings.instance.bot_username,
                              now=instance.clock())
    return instance, runner


async def authors(sender: Instance) -> list[Author]:
    async with sender.sessions() as session:
        rows = await session.execute(select(LocalActor.username, LocalActor.private_key_pem)
                                     .where(LocalActor.kind == "Person").order_by(LocalActor.id))
    return [Author(sender.urls.actor(name), sender.urls.key_id(name), pem) for name, pem in rows.tuples()]


async def warm_up(url: str, requests: list[Signed]) -> None:
    """One request per actor, so the receiver fetches and caches every key before the timed window."""
    slots = asyncio.Semaphore(WARM_UP_CONCURRENCY)
    async with aiohttp.ClientSession() as http:

        async def send(body: bytes, headers: dict[str, str]) -> None:
            async with slots, http.post(url, data=body, headers=headers) as response:
                if response.status != 202:
                    raise RuntimeError(f"warm-up answered {response.status}: {await response.text()}")

        async with asyncio.timeout(60):
            await asyncio.gather(*(send(body, headers) for body, headers in requests))


async def _count_rows(database_url: str) -> int:
    """Read with SQLAlchemy, so that one query serves both backends."""
    engine = create_async_engine(database_url, poolclass=NullPool)
    try:
        async with engine.connect() as connection:
            return int(await connection.scalar(select(func.count()).select_from(InboxItem.__table__)) or 0)
    finally:
        await engine.dispose()


def _start(target: Target, folder: Path, port: int, settings: dict[str, str]) -> subprocess.Popen[bytes]:
    if target.module == "server.cli":
        subprocess.run([sys.executable, "-m", "server.cli", "init", "--domain", f"{HOST}:{port}"], cwd=ROOT,
                       env=child_environment(settings), check=True, capture_output=True, timeout=120)
    return start_module(target.module, [*target.args, "--port", str(port)], settings, folder / "server.log")


async def _window(target: Target, folder: Path, port: int, settings: dict[str, str], warm: list[Signed],
                  pool: list[Signed], duration: float) -> Load:
    url = f"http://{HOST}:{port}/inbox"
    process = _start(target, folder, port, settings)
    try:
        await wait_until_serving(f"http://{HOST}:{port}/health", process)
        await warm_up(url, warm)
        return await asyncio.to_thread(generate, url, pool, CONCURRENCY, duration)
    except Exception:
        print((folder / "server.log").read_text()[-3000:], file=sys.stderr)
        raise
    finally:
        stop(process)


async def _measure(target: Target, backend: Backend, folder: Path, port: int, warm: list[Signed],
                   pool: list[Signed], duration: float) -> Result:
    folder.mkdir()
    async with backend.database(folder) as database_url:
        answers = await _window(target, folder, port, environment(folder, port, database_url), warm, pool, duration)
        rows = await _count_rows(database_url) if target.stores else None
    if rows is not None and rows != answers.ok + len(warm):
        raise AssertionError(f"{target.name}{backend.suffix}: {answers.ok + len(warm)} answered 2xx "
                             f"but {rows} rows stored")
    return Result(target, backend, answers, rows)


def _print(result: Result) -> None:
    load, others = result.load, {s: n for s, n in result.load.statuses.items() if not 200 <= s < 300}
    rows = "" if result.rows is None else f", {result.rows:,} rows (incl. {ACTORS} warm-up)"
    label = f"inbox ({result.backend.name}):"
    print(f"  {label:19} {result.target.name:23} {load.rate:7,.0f} 2xx/s over "
          f"{load.seconds:.1f} s, p50 {load.p50_ms:.1f} ms, p99 {load.p99_ms:.1f} ms, {load.ok:,} 2xx{rows}"
          f"{', other answers ' + str(others) if others else ''}{', pool ran out' if load.exhausted else ''}")


async def _backends() -> list[Backend]:
    """SQLite always; PostgreSQL too when its server answers."""
    server = server_url()
    reason = await unreachable(server)
    if reason is not None:
        print(f"  inbox: SQLite only, PostgreSQL at {shown(server)} is unreachable ({reason})")
        return [SQLITE]
    return [SQLITE, Backend("PostgreSQL", server)]


async def _rounds(backend: Backend, folder: Path, port: int, warm: list[Signed], pool: list[Signed],
                  duration: float) -> dict[Target, list[float]]:
    rates: dict[Target, list[float]] = {target: [] for target in TARGETS}
    for round_ in range(ROUNDS):
        for target in TARGETS:
            window = folder / f"{backend.name.lower()}-{target.name.lower()}-{round_}"
            result = await _measure(target, backend, window, port, warm, pool, duration)
            _print(result)
            rates[target].append(result.load.rate)
    return rates


def _figures(backend: Backend, rates: dict[Target, list[float]]) -> list[Figure]:
    ours, verify, commit, alone = (statistics.median(rates[target]) for target in TARGETS)
    return [
        Figure(f"inbox stored vs verify-only{backend.suffix}", ours, verify, "2xx/s", "same checks, nothing stored",
               0.8),
        Figure(f"inbox stored vs one-commit-per-request{backend.suffix}", ours, commit, "2xx/s",
               "same checks, one commit per request", 4.0),
        Figure(f"inbox store alone vs verify-only{backend.suffix}", alone, verify, "2xx/s",
               "same checks, nothing stored; ours without the inbox processor", 0.0),
    ]


async def run_async() -> list[Figure]:
    duration = scaled(DURATION, minimum=1.0)
    backends = await _backends()
    with tempfile.TemporaryDirectory(prefix="mecene-bench-") as folder:
        sender_port, port = free_port(), free_port()
        sender, runner = await start_sender(Path(folder) / "sender", sender_port)
        try:
            signers = await authors(sender)
            url = f"http://{HOST}:{port}/inbox"
            warm = [sign_likes(author, url, ["warm-up"])[0] for author in signers]
            pool = await asyncio.to_thread(presign, signers, url, round(SIGNED_PER_SECOND * duration))
            rates = {backend: await _rounds(backend, Path(folder), port, warm, pool, duration) for backend in backends}
        finally:
            await runner.cleanup()
    return [figure for backend in backends for figure in _figures(backend, rates[backend])]


def run() -> list[Figure]:
    return asyncio.run(run_async())
