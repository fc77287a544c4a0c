"""Real Mecene instances for tests: each an aiohttp server on its own 127.0.0.1 port and database.

Instances talk to each other over loopback with real signatures; only the
clock is under the test's control.
"""

import asyncio
import os
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
from aiohttp import web
from sqlalchemy.engine import make_url

from config.settings import Settings, load
from server.app import create_app
from server.demo.ports import free_port
from server.instance import Instance
from server.wiring import build_instance

PG_URL_VARIABLE = "MECENE_TEST_DATABASE_URL"


class TestClock:
    """Real time plus an offset the test can move forward."""

    def __init__(self) -> None:
        self.offset = timedelta()

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.offset

    def advance(self, **kwargs: float) -> None:
        self.offset += timedelta(**kwargs)


class Databases:
    """A fresh database per instance: a SQLite file, or a PostgreSQL database dropped afterwards."""

    def __init__(self, tmp_path: Path) -> None:
        self._tmp = tmp_path
        self._pg = os.environ.get(PG_URL_VARIABLE)
        self._created: list[str] = []

    @property
    def backend(self) -> str:
        return "postgresql" if self._pg else "sqlite"

    async def new(self, name: str) -> str:
        if not self._pg:
            return f"sqlite+aiosqlite:///{self._tmp / name}.db"
        database = f"mecene_test_{name}_{uuid.uuid4().hex[:10]}"
        conn = await asyncpg.connect(self._admin_dsn())
        try:
            await conn.execute(f'CREATE DATABASE "{database}"')
        finally:
            await conn.close()
        self._created.append(database)
        return make_url(self._pg).set(database=database).render_as_string(hide_password=False)

    async def drop_all(self) -> None:
        if not self._created:
            return
        conn = await asyncpg.connect(self._admin_dsn())
        try:
            for database in self._created:
                await conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        finally:
            await conn.close()

    def _admin_dsn(self) -> str:
        return make_url(self._pg).set(drivername="postgresql").render_as_string(hide_password=False)


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
            "MECENE_FEDERATION_REQUEST_TIMEOUT": "5",
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
        node = Node(name, free_port(), await self.databases.new(name), TestClock(), overrides)
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


async def eventually(check: Callable[[], Awaitable[bool]], timeout: float = 10.0, what: str = "condition") -> None:
    """Wait until `check()` is true; background workers make federation asynchronous."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not await check():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)
