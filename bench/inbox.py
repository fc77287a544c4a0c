"""Target 2: the inbox under load, against the same checks without a store and with one commit per request.

A sender instance in this process serves 50 actors. Four receivers run side
by side, each on a port and a database of its own, all answering to one
address, as behind a load balancer:

- Mecene: `mecene serve` after `mecene init`, its inbox processor running;
- verify-only, one-commit-per-request and Mecene's store alone (its group
  commit without the inbox processor): `bench/inbox_servers.py`.

Each fetches the actors' keys during a warm-up and is then frozen (SIGSTOP).
A window thaws one receiver while a load generator in a process of its own
sends it distinct, validly signed Likes from those actors, 64 at a time, for
2.5 s × MECENE_BENCH_SCALE, and freezes it again. Five rounds take the
receivers in turn, each round starting one further along, so that a drift of
the machine falls on all of them alike; a rate is the median of its five
windows. Frozen, an idle receiver's timers and workers stay off the cores
while another is measured, and a backlog it left is worked off in its own
next window. Kept running rather than started for each window, the receivers
are measured warm, as they serve, and the run spares a start and a
`mecene init` per window.

A receiver keeps its database for the whole run, so no activity reaches it
twice: its windows take the pre-signed Likes in order, each from where its
last one stopped (`Pool`); the receivers share them, their databases being
apart. Every 2xx must be a stored row: the rows are counted after each window.

This runs on SQLite, then again on PostgreSQL when MECENE_BENCH_POSTGRES_URL
(`bench/postgres.py`) answers, its figures suffixed " (PostgreSQL)", each
receiver on a scratch database created for the run and dropped after it.
"""

import asyncio
import statistics
import subprocess
import sys
import tempfile
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import aiohttp
from aiohttp import web
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from bench.loadgen import Author, Generator, Load, Order, Signed, presign, sign_likes
from bench.loopback import (
    HOST,
    ROOT,
    child_environment,
    free_port,
    freeze,
    start_module,
    stop,
    thaw,
    wait_until_serving,
)
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
WINDOW = 2.5
ROUNDS = 5
#: What a first window may take, per second, before any receiver's rate is known.
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
        """The URL of an empty database for one receiver, dropped after the run on PostgreSQL."""
        if self.server is None:
            yield sqlite_url(folder)
            return
        async with scratch_database(self.server, "inbox") as url:
            yield url


SQLITE = Backend("SQLite")


@dataclass
class Receiver:
    """A receiver of one backend: its process, frozen outside its windows, and what it was sent and stored."""

    target: Target
    backend: Backend
    port: int
    database_url: str
    log: Path
    process: subprocess.Popen[bytes]
    taken: int = 0
    rows: int = 0

    @property
    def inbox(self) -> str:
        return f"http://{HOST}:{self.port}/inbox"

    @property
    def label(self) -> str:
        return f"{self.target.name}{self.backend.suffix}"


@dataclass(frozen=True)
class Result:
    receiver: Receiver
    load: Load
    rows: int | None


class Pool:
    """The pre-signed Likes, signed for the receivers' common address and held by a kept generator process.

    A window takes them from where its receiver's last one stopped. More are
    signed between windows, while every receiver is frozen, whenever the next
    window could outrun them: a window may take twice the fastest rate seen so
    far for its duration (`SIGNED_PER_SECOND` before any is known).
    """

    def __init__(self, signers: list[Author], url: str, duration: float, generator: Generator) -> None:
        self._signers, self._url, self._duration = signers, url, duration
        self.generator = generator
        self._fastest = 0.0

    async def enough_after(self, taken: int) -> None:
        per_second = 2 * self._fastest if self._fastest else SIGNED_PER_SECOND
        missing = taken + round(per_second * self._duration) - self.generator.size
        if missing > 0:
            await asyncio.to_thread(self._sign, missing)

    def saw(self, load: Load) -> None:
        self._fastest = max(self._fastest, load.rate)

    def _sign(self, count: int) -> None:
        self.generator.add(presign(self._signers, self._url, count, f"load{self.generator.size}"))


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


async def post_all(url: str, requests: list[Signed], *, concurrency: int, seconds: float, what: str) -> None:
    """Every request posted, `concurrency` at a time, and answered 202, all within `seconds`."""
    slots = asyncio.Semaphore(concurrency)
    async with aiohttp.ClientSession() as http:

        async def send(body: bytes, headers: dict[str, str]) -> None:
            async with slots, http.post(url, data=body, headers=headers) as response:
                if response.status != 202:
                    raise RuntimeError(f"{what} answered {response.status}: {await response.text()}")

        async with asyncio.timeout(seconds):
            await asyncio.gather(*(send(body, headers) for body, headers in requests))


async def warm_up(url: str, requests: list[Signed], seconds: float = 60) -> None:
    """One request per actor, so the receiver fetches and caches every key before the timed window."""
    await post_all(url, requests, concurrency=WARM_UP_CONCURRENCY, seconds=seconds, what="warm-up")


async def count_rows(database_url: str) -> int:
    """Read with SQLAlchemy, so that one query serves both backends."""
    engine = create_async_engine(database_url, poolclass=NullPool)
    try:
        async with engine.connect() as connection:
            return int(await connection.scalar(select(func.count()).select_from(InboxItem.__table__)) or 0)
    finally:
        await engine.dispose()


def start_target(target: Target, port: int, settings: dict[str, str], log: Path,
                 under: tuple[str, ...] = ()) -> subprocess.Popen[bytes]:
    """The receiver's process; Mecene's database is made by `mecene init` first, as an operator's would be."""
    if target.module == "server.cli":
        subprocess.run([sys.executable, "-m", "server.cli", "init", "--domain", settings["MECENE_INSTANCE_DOMAIN"]],
                       cwd=ROOT, env=child_environment(settings), check=True, capture_output=True, timeout=120)
    return start_module(target.module, [*target.args, "--port", str(port)], settings, log, under)


@asynccontextmanager
async def _receiver(target: Target, backend: Backend, folder: Path, address: int,
                    warm: list[Signed]) -> AsyncIterator[Receiver]:
    """A receiver started, warmed up and frozen; thawed and stopped when the run ends."""
    folder.mkdir()
    async with backend.database(folder) as database_url:
        port, log = free_port(), folder / "server.log"
        settings = environment(folder, address, database_url)
        process = await asyncio.to_thread(start_target, target, port, settings, log)
        receiver = Receiver(target, backend, port, database_url, log, process)
        try:
            await wait_until_serving(f"http://{HOST}:{port}/health", process)
            await warm_up(receiver.inbox, warm)
            receiver.rows = len(warm) if target.stores else 0
            freeze(receiver.process)
            yield receiver
        except Exception:
            print(f"{receiver.label}:\n{log.read_text()[-3000:]}", file=sys.stderr)
            raise
        finally:
            thaw(receiver.process)
            stop(process)


async def _window(receiver: Receiver, pool: Pool, duration: float) -> Result:
    """The receiver thawed for one window of load; every 2xx must be a row it stored."""
    await pool.enough_after(receiver.taken)
    order = Order(receiver.taken, CONCURRENCY, duration, (receiver.port,))
    thaw(receiver.process)
    try:
        answers = await asyncio.to_thread(pool.generator.window, order)
    finally:
        freeze(receiver.process)
    if answers.exhausted:
        raise RuntimeError(f"{receiver.label}: the window ran out of signed Likes")
    receiver.taken += answers.consumed
    pool.saw(answers)
    if not receiver.target.stores:
        return Result(receiver, answers, None)
    rows = await count_rows(receiver.database_url)
    if rows - receiver.rows != answers.ok:
        raise AssertionError(f"{receiver.label}: {answers.ok} answered 2xx but {rows - receiver.rows} rows stored")
    receiver.rows = rows
    return Result(receiver, answers, rows)


def _print(result: Result) -> None:
    load, others = result.load, {s: n for s, n in result.load.statuses.items() if not 200 <= s < 300}
    rows = "" if result.rows is None else f", {result.rows:,} rows in all"
    label = f"inbox ({result.receiver.backend.name}):"
    print(f"  {label:19} {result.receiver.target.name:23} {load.rate:7,.0f} 2xx/s over "
          f"{load.seconds:.1f} s, p50 {load.p50_ms:.1f} ms, p99 {load.p99_ms:.1f} ms, {load.ok:,} 2xx{rows}"
          f"{', other answers ' + str(others) if others else ''}", flush=True)


async def _backends() -> list[Backend]:
    """SQLite always; PostgreSQL too when its server answers."""
    server = server_url()
    reason = await unreachable(server)
    if reason is not None:
        print(f"  inbox: SQLite only, PostgreSQL at {shown(server)} is unreachable ({reason})")
        return [SQLITE]
    return [SQLITE, Backend("PostgreSQL", server)]


async def _rounds(backend: Backend, folder: Path, address: int, warm: list[Signed], pool: Pool,
                  duration: float) -> dict[Target, list[float]]:
    """Every receiver of the backend once per round, each round starting one receiver further along."""
    async with AsyncExitStack() as stack:
        receivers = [await stack.enter_async_context(
            _receiver(target, backend, folder / f"{backend.name.lower()}-{target.name.lower()}", address, warm))
            for target in TARGETS]
        rates: dict[Target, list[float]] = {target: [] for target in TARGETS}
        for round_ in range(ROUNDS):
            first = round_ % len(receivers)
            for receiver in receivers[first:] + receivers[:first]:
                result = await _window(receiver, pool, duration)
                _print(result)
                rates[receiver.target].append(result.load.rate)
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
    duration = scaled(WINDOW, minimum=0.5)
    backends = await _backends()
    with tempfile.TemporaryDirectory(prefix="mecene-bench-") as folder:
        sender_port, address = free_port(), free_port()
        sender, runner = await start_sender(Path(folder) / "sender", sender_port)
        try:
            signers = await authors(sender)
            url = f"http://{HOST}:{address}/inbox"
            warm = [sign_likes(author, url, ["warm-up"])[0] for author in signers]
            generator = Generator(url)
            try:
                pool = Pool(signers, url, duration, generator)
                rates = {backend: await _rounds(backend, Path(folder), address, warm, pool, duration)
                         for backend in backends}
            finally:
                generator.close()
        finally:
            await runner.cleanup()
    return [figure for backend in backends for figure in _figures(backend, rates[backend])]


def run() -> list[Figure]:
    return asyncio.run(run_async())
