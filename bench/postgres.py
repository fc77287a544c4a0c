"""A scratch PostgreSQL database for a case: created for the run, dropped after it, whatever happens.

The server comes from MECENE_BENCH_POSTGRES_URL (SQLAlchemy form, asyncpg driver); a case
that needs PostgreSQL asks `unreachable()` first and is skipped, with the reason printed,
when it answers something.
"""

import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg
from sqlalchemy.engine import make_url

VARIABLE = "MECENE_BENCH_POSTGRES_URL"
DEFAULT = "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"


def server_url() -> str:
    return os.environ.get(VARIABLE, DEFAULT)


def shown(url: str) -> str:
    """The URL without its password, for printing."""
    return make_url(url).render_as_string(hide_password=True) if url else f"(none: {VARIABLE} is empty)"


def plain_dsn(url: str) -> str:
    """asyncpg's own DSN: the SQLAlchemy URL without the `+asyncpg` driver suffix."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


async def unreachable(url: str) -> str | None:
    """Why the server cannot be used, or None when it can; an empty URL skips PostgreSQL on purpose."""
    if not url:
        return "not asked for"
    try:
        connection = await asyncpg.connect(plain_dsn(url), timeout=5)
    except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
        return f"{type(exc).__name__}: {exc}"
    await connection.close()
    return None


@asynccontextmanager
async def scratch_database(url: str, name: str) -> AsyncIterator[str]:
    """Yields the SQLAlchemy URL of a new, empty database on the server of `url`."""
    database = f"mecene_bench_{name}_{uuid.uuid4().hex[:10]}"
    admin = await asyncpg.connect(plain_dsn(url), timeout=10)
    try:
        await admin.execute(f'CREATE DATABASE "{database}"')
    finally:
        await admin.close()
    try:
        yield make_url(url).set(database=database).render_as_string(hide_password=False)
    finally:
        admin = await asyncpg.connect(plain_dsn(url), timeout=10)
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        finally:
            await admin.close()
