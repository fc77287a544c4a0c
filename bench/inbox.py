"""Target 2: the inbox under load, against the same checks without a store and with one commit per request.

A sender instance in this process serves 50 actors; the receiver fetches each
actor's key once during a warm-up, then a load generator in a process of its
own sends distinct, validly signed Likes from those actors to the receiver's
shared inbox, 64 at a time, for 5 s × MECENE_BENCH_SCALE. The receiver is
each in turn, a fresh SQLite database each time, on the same port (so one pool
of signatures serves them all), for three rounds; a rate is the median of its
three windows, so that a burst of other work on the machine spoils a window
rather than a figure:

- Mecene: `mecene serve` after `mecene init`, its inbox processor running;
- verify-only, one-commit-per-request and Mecene's store alone (its group
  commit without the inbox processor): `bench/inbox_servers.py`.

Every 2xx must be a stored row: the rows are counted after each window.
"""

import asyncio
import sqlite3
import statistics
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import aiohttp
from aiohttp import web
from sqlalchemy import select

from bench.loadgen import Author, Load, Signed, generate, presign, sign_likes
from bench.loopback import HOST, ROOT, child_environment, free_port, start_module, stop, wait_until_serving
from bench.report import Figure
from bench.scale import scaled
from config.settings import load
from federation.models import LocalActor
from server.accounts import create_user
from server.app import create_app
from server.instance import Instance

ACTORS = 50
CONCURRENCY = 64
DURATION = 5.0
ROUNDS = 3
SIGNED_PER_SECOND = 10000
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
class Result:
    target: Target
    load: Load
    rows: int | None


def _environment(folder: Path, port: int) -> dict[str, str]:
    return {"MECENE_DATA_DIR": str(folder), "MECENE_INSTANCE_DOMAIN": f"{HOST}:{port}",
            "MECENE_DATABASE_URL": f"sqlite+aiosqlite:///{folder / 'mecene.db'}", "MECENE_DEV_INSECURE": "true"}


async def _start_sender(folder: Path, port: int) -> tuple[Instance, web.AppRunner]:
    """The peer whose actors sign the load; served here, as it only answers key fetches during warm-up."""
    instance = Instance.build(load(None, _environment(folder, port)))
    runner = web.AppRunner(create_app(instance, run_workers=False), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, HOST, port).start()
    async with instance.sessions() as session, session.begin():
        for n in range(ACTORS):
            await create_user(session, f"actor{n}", bot_username=instance.settings.instance.bot_username,
                              now=instance.now())
    return instance, runner


async def _authors(sender: Instance) -> list[Author]:
    async with sender.sessions() as session:
        rows = await session.execute(select(LocalActor.username, LocalActor.private_key_pem)
                                     .where(LocalActor.kind == "Person").order_by(LocalActor.id))
    return [Author(sender.urls.actor(name), sender.urls.key_id(name), pem) for name, pem in rows.tuples()]


async def _warm_up(url: str, requests: list[Signed]) -> None:
    """One request per actor, so the receiver fetches and caches every key before the timed window."""
    slots = asyncio.Semaphore(WARM_UP_CONCURRENCY)
    async with aiohttp.ClientSession() as http:

        async def send(body: bytes, headers: dict[str, str]) -> None:
            async with slots, http.post(url, data=body, headers=headers) as response:
                if response.status != 202:
                    raise RuntimeError(f"warm-up answered {response.status}: {await response.text()}")

        async with asyncio.timeout(60):
            await asyncio.gather(*(send(body, headers) for body, headers in requests))


def _count_rows(database: Path) -> int:
    with sqlite3.connect(database) as db:
        return int(db.execute("SELECT count(*) FROM fed_inbox_items").fetchone()[0])


def _start(target: Target, folder: Path, port: int) -> subprocess.Popen[bytes]:
    environment = _environment(folder, port)
    folder.mkdir()
    if target.module == "server.cli":
        subprocess.run([sys.executable, "-m", "server.cli", "init", "--domain", f"{HOST}:{port}"], cwd=ROOT,
                       env=child_environment(environment), check=True, capture_output=True, timeout=120)
    return start_module(target.module, [*target.args, "--port", str(port)], environment, folder / "server.log")


async def _measure(target: Target, folder: Path, port: int, warm: list[Signed], pool: list[Signed],
                   duration: float) -> Result:
    url = f"http://{HOST}:{port}/inbox"
    process = _start(target, folder, port)
    try:
        await wait_until_serving(f"http://{HOST}:{port}/health", process)
        await _warm_up(url, warm)
        result = await asyncio.to_thread(generate, url, pool, CONCURRENCY, duration)
    except Exception:
        print((folder / "server.log").read_text()[-3000:], file=sys.stderr)
        raise
    finally:
        stop(process)
    rows = _count_rows(folder / "mecene.db") if target.stores else None
    if rows is not None and rows != result.ok + len(warm):
        raise AssertionError(f"{target.name}: {result.ok + len(warm)} answered 2xx but {rows} rows stored")
    return Result(target, result, rows)


def _print(result: Result) -> None:
    load, others = result.load, {s: n for s, n in result.load.statuses.items() if not 200 <= s < 300}
    rows = "" if result.rows is None else f", {result.rows:,} rows (incl. {ACTORS} warm-up)"
    print(f"  inbox: {result.target.name:23} {load.rate:7,.0f} 2xx/s over {load.seconds:.1f} s, "
          f"p50 {load.p50_ms:.1f} ms, p99 {load.p99_ms:.1f} ms, {load.ok:,} 2xx{rows}"
          f"{', other answers ' + str(others) if others else ''}{', pool ran out' if load.exhausted else ''}")


async def run_async() -> list[Figure]:
    duration = scaled(DURATION, minimum=1.0)
    with tempfile.TemporaryDirectory(prefix="mecene-bench-") as folder:
        sender_port, port = free_port(), free_port()
        sender, runner = await _start_sender(Path(folder) / "sender", sender_port)
        try:
            authors = await _authors(sender)
            url = f"http://{HOST}:{port}/inbox"
            warm = [sign_likes(author, url, ["warm-up"])[0] for author in authors]
            pool = await asyncio.to_thread(presign, authors, url, round(SIGNED_PER_SECOND * duration))
            rates: dict[Target, list[float]] = {target: [] for target in TARGETS}
            for round_ in range(ROUNDS):
                for target in TARGETS:
                    result = await _measure(target, Path(folder) / f"{target.name.lower()}-{round_}", port, warm,
                                            pool, duration)
                    _print(result)
                    rates[target].append(result.load.rate)
        finally:
            await runner.cleanup()
    ours, verify, commit, alone = (statistics.median(rates[target]) for target in TARGETS)
    return [
        Figure("inbox stored vs verify-only", ours, verify, "2xx/s", "same checks, nothing stored", 0.8),
        Figure("inbox stored vs one-commit-per-request", ours, commit, "2xx/s",
               "same checks, one commit per request", 4.0),
        Figure("inbox store alone vs verify-only", alone, verify, "2xx/s",
               "same checks, nothing stored; ours without the inbox processor", 0.0),
    ]


def run() -> list[Figure]:
    return asyncio.run(run_async())
