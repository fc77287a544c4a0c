"""Real Mecene instances for tests: each an aiohttp server on its own 127.0.0.1 port and database.

Instances talk to each other over loopback with real signatures; only the
clock is under the test's control.
"""

import asyncio
import itertools
import os
import random
import socket
import uuid
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
from aiohttp import web
from sqlalchemy.engine import make_url

import migrated_databases
from config.settings import Settings, load
from server.app import create_app
from server.instance import Instance
from server.wiring import build_instance

PG_URL_VARIABLE = "MECENE_TEST_DATABASE_URL"
#: How many ports each test process has to itself; a run starts far fewer servers at once.
PORT_BAND_SIZE = 1000


def worker() -> str | None:
    """The pytest-xdist worker this process is ("gw0", "gw1"…), or None when the whole suite runs in one process."""
    return os.environ.get("PYTEST_XDIST_WORKER")


def _port_band() -> range | None:
    """This process's own ports: a band just below the kernel's ephemeral range, one band per xdist worker.

    Below the ephemeral range no outgoing connection and no listener bound to port 0 (aiohttp's
    TestServer, the plain peer) is ever given one of these ports; one band per worker means a
    port handed out here, to an instance started at once, reserved for a peer that comes up late
    or left free between a stop and a restart, is never another worker's. A serial run has a band
    of its own too. None where the ephemeral range starts too low to leave room.
    """
    try:
        ephemeral_low = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        ephemeral_low = 32768
    name = worker() or ""
    index = int(name[2:]) + 1 if name.startswith("gw") and name[2:].isdigit() else 0
    top = ephemeral_low - index * PORT_BAND_SIZE
    return range(top - PORT_BAND_SIZE, top) if top - PORT_BAND_SIZE >= 1024 else None


def _band_ports() -> Iterator[int] | None:
    """The band round and round, from a random start: two test runs side by side seldom walk in step."""
    band = _port_band()
    if band is None:
        return None
    start = random.randrange(len(band))
    return itertools.cycle([*band[start:], *band[:start]])


_PORTS = _band_ports()


def free_port() -> int:
    """A port on 127.0.0.1 that no socket holds, from this process's band (see `_port_band`).

    Each candidate is bound once without SO_REUSEADDR, so a port still listened on, or still
    in TIME_WAIT from an earlier test, is passed over. Without a band the kernel picks a port.
    """
    if _PORTS is not None:
        for _ in range(PORT_BAND_SIZE):
            port = next(_PORTS)
            with socket.socket() as probe:
                try:
                    probe.bind(("127.0.0.1", port))
                except OSError:
                    continue
            return port
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class TestClock:
    """Real time plus an offset the test can move forward."""

    def __init__(self) -> None:
        self.offset = timedelta()

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.offset

    def advance(self, **kwargs: float) -> None:
        self.offset += timedelta(**kwargs)


class Databases:
    """A database of its own per instance: a SQLite file, or a PostgreSQL database.

    On PostgreSQL the URL in MECENE_TEST_DATABASE_URL only serves to connect as an administrator:
    every instance gets a database of its own, so no test sees another's rows, whichever xdist
    worker runs it. `new` creates an empty one, dropped when its test ends; `migrated` lends one
    already at the newest schema (see `migrated_databases`). A database's name carries the
    worker's id, which tells whose a database left behind by an interrupted run was.
    """

    def __init__(self, tmp_path: Path) -> None:
        self._tmp = tmp_path
        self._pg = os.environ.get(PG_URL_VARIABLE)
        self._created: list[str] = []
        self._borrowed: list[str] = []

    @property
    def backend(self) -> str:
        return "postgresql" if self._pg else "sqlite"

    async def new(self, name: str) -> str:
        """An empty database, as `mecene init` or a migration test starts from."""
        if not self._pg:
            return f"sqlite+aiosqlite:///{self._tmp / name}.db"
        database = f"{_prefix()}{name}_{uuid.uuid4().hex[:10]}"
        conn = await asyncpg.connect(migrated_databases.admin_dsn(self._pg))
        try:
            await conn.execute(f'CREATE DATABASE "{database}"')
        finally:
            await conn.close()
        self._created.append(database)
        return self._url(database)

    async def migrated(self, name: str) -> str:
        """An empty database already at the newest schema, as an instance finds it after its first start."""
        if not self._pg:
            return await migrated_databases.SQLITE.copy_to(self._tmp / f"{name}.db")
        database = await migrated_databases.POSTGRES.borrow(migrated_databases.admin_dsn(self._pg), f"{_prefix()}pool")
        self._borrowed.append(database)
        return self._url(database)

    async def drop_all(self) -> None:
        if not self._pg:
            return
        for database in self._borrowed:
            await migrated_databases.POSTGRES.give_back(migrated_databases.admin_dsn(self._pg), database)
        self._borrowed = []
        if not self._created:
            return
        conn = await asyncpg.connect(migrated_databases.admin_dsn(self._pg))
        try:
            for database in self._created:
                await conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        finally:
            await conn.close()
        self._created = []

    def _url(self, database: str) -> str:
        assert self._pg is not None
        return make_url(self._pg).set(database=database).render_as_string(hide_password=False)


def _prefix() -> str:
    owner = f"{worker()}_" if worker() else ""
    return f"mecene_test_{owner}"


#: Seconds a node waits for a whole request to another: loopback answers in milliseconds, but on a two-core
#: machine running four test workers, PostgreSQL and Chromium, a first request has been seen to take over five.
REQUEST_TIMEOUT = "15"


@dataclass
class Node:
    """One running instance under test."""

    name: str
    port: int
    database_url: str
    clock: TestClock
    overrides: dict[str, str]
    instance: Instance | None = None
    runner: web.AppRunner | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def live(self) -> Instance:
        assert self.instance is not None, f"{self.name} is not running"
        return self.instance

    def settings(self) -> Settings:
        environ = {
            "MECENE_INSTANCE_DOMAIN": self.host,
            "MECENE_INSTANCE_NAME": f"Mecene {self.name}",
            "MECENE_DATABASE_URL": self.database_url,
            "MECENE_DEV_INSECURE": "true",
            "MECENE_DELIVERY_RETRY_BASE_SECONDS": "0.2",
            "MECENE_DELIVERY_POLL_SECONDS": "0.2",
            "MECENE_FEDERATION_INBOX_RETRY_BASE_SECONDS": "0.05",
            "MECENE_FEDERATION_REQUEST_TIMEOUT": REQUEST_TIMEOUT,
            "MECENE_SETTLEMENT_TICK_SECONDS": "0.3",
            "MECENE_SETTLEMENT_ALIAS_CHECK_MINUTES": "0",
            **self.overrides,
        }
        return load(None, environ)


@dataclass
class Federation:
    """Starts, stops and restarts instances; everything is torn down at the end of the test."""

    databases: Databases
    nodes: dict[str, Node] = field(default_factory=dict)

    async def start(self, name: str, **overrides: str) -> Node:
        node = self.nodes.get(name) or await self.reserve(name, **overrides)
        node.instance = build_instance(node.settings(), node.clock)
        node.runner = web.AppRunner(create_app(node.instance), access_log=None)
        await node.runner.setup()
        await web.TCPSite(node.runner, "127.0.0.1", node.port, reuse_address=True).start()
        return node

    async def reserve(self, name: str, **overrides: str) -> Node:
        """A node with a port and database but not started: a peer that comes up late."""
        node = Node(name, free_port(), await self.databases.migrated(name), TestClock(), overrides)
        self.nodes[name] = node
        return node

    async def stop(self, name: str) -> None:
        node = self.nodes[name]
        if node.runner is not None:
            await node.runner.cleanup()
        node.runner, node.instance = None, None

    async def close(self) -> None:
        for name in list(self.nodes):
            await self.stop(name)
        await self.databases.drop_all()


async def eventually(check: Callable[[], Awaitable[bool]], timeout: float = 30.0, what: str = "condition") -> None:
    """Wait until `check()` is true; background workers make federation asynchronous.

    The default is a ceiling, not a pace: a passing check returns at once, and
    two loaded cores running four workers, PostgreSQL and Chromium were seen to
    need more than 10 s for one Offer to cross between two instances.
    """
    deadline = asyncio.get_running_loop().time() + timeout
    while not await check():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)
