"""Target 5: inbox throughput of two `mecene serve` processes on one PostgreSQL database against one.

One instance (`mecene init` once, on a scratch database of MECENE_BENCH_POSTGRES_URL)
is served in turn by one process and by two processes on two ports, as behind a load
balancer: every request carries the instance's own Host header, whichever port it
reaches. Both processes are started and warmed up once; a window of one process
freezes the other (SIGSTOP), so that it takes no CPU, as if it were not there. The
load is the inbox case's (`bench/inbox.py`): the same sender and its 50 actors,
pre-signed Likes held by one kept generator process, 64 keep-alive connections,
here spread over the serving ports. A window is 5 s × MECENE_BENCH_SCALE; one and
two processes take turns for three rounds and each rate is the median of its
windows. `fed_inbox_items` is emptied before each window, so every window sends
the same Likes.

After each window, while the processes still run, 200 activities are each sent to
every serving port at once (a retrying peer whose two attempts land on two
processes). Then the rows are counted: one per 2xx of the window and of the race
(nothing lost) and one per distinct activity, each raced one included (nothing
stored twice). The CPU time of the servers, of PostgreSQL and of the generator is
printed with each window, since two cores are shared by all of them, and a
second figure tells the most the machine allows: all its cores busy at what one
process's windows cost per answer, everything included (`_ceiling`).

On two cores, two processes flat out mostly wait for each other's core, so
their ratio to one says more about the machine than about Mecene. The target
is therefore read per core: the same rounds again, each count offered the same
rate (`PACED_SHARE` of one process's flat-out rate, which both keep up with),
and the 2xx each answers per CPU-second of its server processes compared
(`_per_core`). At 1.0 a second process costs nothing per request, so N
processes on N free cores answer N times one; `docs/performance.md` says what
the figures predict for 4 and 8.

That comparison also halves the load of each process, and a process answers
fewer requests per CPU-second the less loaded it is, whatever else runs
(smaller group commits, an event-loop turn per request, cold caches). A last
figure tells the two apart: one process offered half the paced rate, the
load each of the two carries, against the two; there, what a second process
costs is all that differs.
"""

import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import asyncpg
from sqlalchemy.engine import make_url

from bench.cpu import Meter, Usage
from bench.inbox import ACTORS, CONCURRENCY, authors, environment, start_sender, warm_up
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
from bench.postgres import plain_dsn, scratch_database, server_url, shown, unreachable
from bench.report import Figure
from bench.scale import scaled

DURATION = 5.0
ROUNDS = 3
SIGNED_PER_SECOND = 14000
RACED = 200
COUNTS = (1, 2)
#: The paced windows offer this share of what one process answered flat out: below what either count saturates.
PACED_SHARE = 0.5


@dataclass(frozen=True)
class Served:
    """The served instance: its database, data folder and ports; the first port is its public address."""

    database_url: str
    folder: Path
    ports: tuple[int, ...]

    @property
    def inbox(self) -> str:
        return f"http://{HOST}:{self.ports[0]}/inbox"

    def environment(self) -> dict[str, str]:
        return environment(self.folder, self.ports[0], self.database_url)


@dataclass(frozen=True)
class Window:
    processes: int
    load: Load
    rows: int
    cpu: Usage
    offered: float | None = None

    @property
    def per_server_cpu_second(self) -> float:
        """2xx answered per CPU-second of the serving processes: what one core of server buys."""
        return self.load.ok / (sum(self.cpu.servers) or 1.0) * (self.cpu.seconds / self.load.seconds
                                                                if self.load.seconds else 1.0)


def _init(served: Served) -> None:
    served.folder.mkdir()
    subprocess.run([sys.executable, "-m", "server.cli", "init", "--domain", f"{HOST}:{served.ports[0]}"],
                   cwd=ROOT, env=child_environment(served.environment()), check=True, capture_output=True,
                   timeout=120)


async def _sql(served: Served, query: str) -> list[asyncpg.Record]:
    connection = await asyncpg.connect(plain_dsn(served.database_url), timeout=10)
    try:
        return await connection.fetch(query)
    finally:
        await connection.close()


async def _count(served: Served) -> tuple[int, int, int]:
    """Rows, distinct activity ids, and rows of the raced activities."""
    [row] = await _sql(served, "SELECT count(*), count(DISTINCT activity_id), "
                               "count(*) FILTER (WHERE activity_id LIKE '%/likes/raced-%') FROM fed_inbox_items")
    return int(row[0]), int(row[1]), int(row[2])


async def _race(ports: tuple[int, ...], raced: list[Signed]) -> None:
    """Each activity to every port at the same moment; every copy must be answered 2xx."""
    async with aiohttp.ClientSession() as http:

        async def send(port: int, body: bytes, headers: dict[str, str]) -> int:
            async with http.post(f"http://{HOST}:{port}/inbox", data=body, headers=headers) as response:
                return response.status

        async with asyncio.timeout(60):
            statuses = await asyncio.gather(*(send(port, body, headers) for body, headers in raced for port in ports))
    refused = [status for status in statuses if status != 202]
    if refused:
        raise AssertionError(f"raced copies answered {sorted(set(refused))}, not 202")


@dataclass(frozen=True)
class Process:
    """One `mecene serve` of the served instance, frozen (SIGSTOP) while a window does not use it."""

    port: int
    process: subprocess.Popen[bytes]


@asynccontextmanager
async def _serving(served: Served, warm: dict[int, list[Signed]]) -> AsyncIterator[list[Process]]:
    """Every process started and warmed up, for the whole run; thawed and stopped at its end."""
    processes = [Process(port, start_module("server.cli", ["serve", "--port", str(port)], served.environment(),
                                            served.folder / f"serve-{port}.log")) for port in served.ports]
    try:
        for process in processes:
            await wait_until_serving(f"http://{HOST}:{process.port}/health", process.process)
            await warm_up(f"http://{HOST}:{process.port}/inbox", warm[process.port])
        yield processes
    except Exception:
        _print_logs(served, served.ports)
        raise
    finally:
        for process in processes:
            thaw(process.process)
            stop(process.process)


def _print_logs(served: Served, ports: tuple[int, ...]) -> None:
    for port in ports:
        log = served.folder / f"serve-{port}.log"
        if log.exists():
            print(log.read_text()[-3000:], file=sys.stderr)


async def _measure(served: Served, processes: list[Process], count: int, generator: Generator,
                   raced: list[Signed], duration: float, rate: float | None = None) -> Window:
    """A window of the first `count` processes, the others frozen, on an emptied `fed_inbox_items`.

    Every process runs while the table is emptied, so that none holds a transaction the TRUNCATE would wait for.
    """
    for process in processes:
        thaw(process.process)
    await _sql(served, "TRUNCATE fed_inbox_items")
    serving = processes[:count]
    for process in processes[count:]:
        freeze(process.process)
    ports = tuple(process.port for process in serving)
    meter = Meter([process.process.pid for process in serving], make_url(served.database_url).database or "")
    try:
        load = await asyncio.to_thread(generator.window, Order(0, CONCURRENCY, duration, ports, rate))
    finally:
        meter.stop()
    await _race(ports, raced)
    rows, distinct, raced_rows = await _count(served)
    answered = load.ok + len(raced)
    if rows != answered or distinct != rows or raced_rows != len(raced):
        raise AssertionError(f"{count} process(es): {answered} distinct activities answered 2xx, but {rows} rows, "
                             f"{distinct} distinct ids, {raced_rows} rows for {len(raced)} raced activities")
    return Window(count, load, rows, meter.between(load.started, load.started + load.seconds), rate)


def _print(window: Window) -> None:
    load, cpu = window.load, window.cpu
    others = {s: n for s, n in load.statuses.items() if not 200 <= s < 300}
    split = " + ".join(f"{n:,}" for _, n in sorted(load.ok_by_port.items()))
    span = cpu.seconds or 1.0
    cores = " + ".join(f"{s / span:.2f}" for s in cpu.servers)
    offered = f" offered {window.offered:,.0f}/s," if window.offered else " flat out,"
    print(f"  scaleout: {window.processes} process(es){offered} {load.rate:7,.0f} 2xx/s over {load.seconds:.1f} s, "
          f"p50 {load.p50_ms:.1f} ms, p99 {load.p99_ms:.1f} ms, {load.ok:,} 2xx ({split}), {window.rows:,} rows; "
          f"{window.per_server_cpu_second:,.0f} 2xx per server CPU-second; "
          f"cores busy: servers {cores}, postgres {cpu.database / span:.2f} "
          f"(+{cpu.other_postgres / span:.2f} other), generator {load.cpu_seconds / load.seconds:.2f}, "
          f"machine {cpu.machine / span:.2f} of {os.cpu_count()}; load average {os.getloadavg()[0]:.1f}"
          f"{', other answers ' + str(others) if others else ''}{', pool ran out' if load.exhausted else ''}")


def _signed(signers: list[Author], url: str, prefix: str, count: int) -> list[Signed]:
    """`count` activities named `prefix-n`, spread over the authors."""
    return [sign_likes(signers[n % len(signers)], url, [f"{prefix}-{n}"])[0] for n in range(count)]


@dataclass(frozen=True)
class Rounds:
    """Each count's windows flat out, then at one offered rate both counts keep up with.

    `halved`: one process offered half that rate, the load each of the two
    processes carries in the paced windows.
    """

    flat_out: dict[int, list[Window]]
    paced: dict[int, list[Window]]
    halved: list[Window]


async def _windows(served: Served, signers: list[Author], duration: float) -> Rounds:
    warm = {port: _signed(signers, served.inbox, f"warm-up-{port}", ACTORS) for port in served.ports}
    raced = _signed(signers, served.inbox, "raced", RACED)
    pool = await asyncio.to_thread(presign, signers, served.inbox, round(SIGNED_PER_SECOND * duration))
    generator = Generator(served.inbox)
    try:
        await asyncio.to_thread(generator.add, pool)
        async with _serving(served, warm) as processes:
            flat_out = await _rounds(served, processes, generator, raced, duration, None)
            offered = PACED_SHARE * statistics.median(w.load.rate for w in flat_out[1])
            paced = await _rounds(served, processes, generator, raced, duration, offered)
            halved = await _rounds(served, processes, generator, raced, duration, offered / 2, counts=(1,))
    finally:
        generator.close()
    return Rounds(flat_out, paced, halved[1])


async def _rounds(served: Served, processes: list[Process], generator: Generator, raced: list[Signed],
                  duration: float, rate: float | None, counts: tuple[int, ...] = COUNTS) -> dict[int, list[Window]]:
    """One and two processes in turn, `ROUNDS` times, so a drift of the machine falls on both alike."""
    windows: dict[int, list[Window]] = {count: [] for count in counts}
    for _ in range(ROUNDS):
        for count in counts:
            window = await _measure(served, processes, count, generator, raced, duration, rate)
            _print(window)
            windows[count].append(window)
    return windows


def _per_core(paced: dict[int, list[Window]]) -> tuple[float, float]:
    """2xx per server CPU-second with one process and with two, each the median of its paced windows.

    At one offered rate below saturation, both counts answer the same requests;
    what differs is what each answer costs the servers. A ratio of 1 means a
    second process costs nothing per request: more processes, on more cores,
    answer proportionally more. Their waiting for each other's cores, which the
    flat-out windows on two cores measure, is left out.
    """
    one, two = (_cost(paced[count]) for count in COUNTS)
    return one, two


def _cost(windows: list[Window]) -> float:
    """The median of the windows' 2xx per server CPU-second."""
    return statistics.median(w.per_server_cpu_second for w in windows)


def _ceiling(one: list[Window]) -> float:
    """The most any number of processes could answer here: every core busy at one process's cost per 2xx.

    That cost is the whole machine's (servers, PostgreSQL, the generator, the
    kernel) during the one-process windows, so the ceiling assumes that a
    second process adds no overhead of its own: its ratio to one process is the
    most the scale-out figure can show on this machine.
    """
    return statistics.median((os.cpu_count() or 1) * w.load.rate * w.cpu.seconds / (w.cpu.machine or 1.0) for w in one)


async def run_async() -> list[Figure]:
    server = server_url()
    reason = await unreachable(server)
    if reason is not None:
        print(f"  scaleout: skipped, PostgreSQL at {shown(server)} is unreachable ({reason})")
        return []
    duration = scaled(DURATION, minimum=1.0)
    with tempfile.TemporaryDirectory(prefix="mecene-bench-") as folder:
        sender, runner = await start_sender(Path(folder) / "sender", free_port())
        try:
            async with scratch_database(server, "scaleout") as url:
                served = Served(url, Path(folder) / "instance", (free_port(), free_port()))
                await asyncio.to_thread(_init, served)
                rounds = await _windows(served, await authors(sender), duration)
        finally:
            await runner.cleanup()
    one, two = (statistics.median(w.load.rate for w in rounds.flat_out[count]) for count in COUNTS)
    cost_one, cost_two = _per_core(rounds.paced)
    return [Figure("inbox on PostgreSQL, 2 processes vs 1, per core", cost_two, cost_one, "2xx per server CPU-s",
                   "one `mecene serve`, same offered rate", 0.9),
            Figure("inbox on PostgreSQL, 2 processes vs 1, per core, same load each", cost_two, _cost(rounds.halved),
                   "2xx per server CPU-s", "one `mecene serve` offered half that rate, as each of the two is", 0.0),
            Figure("inbox on PostgreSQL, 2 processes vs 1, flat out", two, one, "2xx/s",
                   "one `mecene serve`, same database", 0.0),
            Figure("ceiling here: every core at 1 process's cost per 2xx", _ceiling(rounds.flat_out[1]), one,
                   "2xx/s", "one `mecene serve`; the most 2 processes can show here", 0.0)]


def run() -> list[Figure]:
    return asyncio.run(run_async())
