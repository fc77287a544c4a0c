"""Databases already at the newest schema, made once per test process and handed out fresh to each test.

Migrating a database costs a third of a second on PostgreSQL and creating one as much again;
most tests start two or three instances, so a suite that did both for every instance would
spend minutes on it. Instead each process migrates one template: on SQLite a file copied for
every instance, on PostgreSQL a database from which a pool of copies is made. A PostgreSQL
copy a test has finished with is emptied (every row deleted, every sequence restarted) and
lent again; one that still has connections, or that cannot be emptied, is dropped instead, so
no test ever sees another's rows. The migrations themselves keep their own tests on empty
databases (`Databases.new`).
"""

import shutil
import tempfile
import uuid
from pathlib import Path

import asyncpg
from sqlalchemy.engine import make_url

from server import db

#: Tables an emptied copy keeps as they are: the schema's revision is part of the schema.
KEPT_TABLES = frozenset({"alembic_version"})


async def _migrate(url: str) -> None:
    engine = db.create_engine(url)
    try:
        await db.upgrade(engine)
    finally:
        await engine.dispose()


class SqliteTemplate:
    """One migrated SQLite file per process; each instance gets a copy of it."""

    def __init__(self) -> None:
        self._path: Path | None = None

    async def copy_to(self, path: Path) -> str:
        shutil.copyfile(await self._template(), path)
        return f"sqlite+aiosqlite:///{path}"

    async def _template(self) -> Path:
        if self._path is None:
            folder = Path(tempfile.mkdtemp(prefix="mecene-template-"))
            await _migrate(f"sqlite+aiosqlite:///{folder / 'template.db'}")
            self._path = folder / "template.db"
        return self._path

    def remove(self) -> None:
        if self._path is not None:
            shutil.rmtree(self._path.parent, ignore_errors=True)
            self._path = None


class PostgresPool:
    """Migrated PostgreSQL databases of one process: a template, copies lent out, copies free again."""

    def __init__(self) -> None:
        self._template: str | None = None
        self._free: list[str] = []
        self._made: list[str] = []

    async def borrow(self, admin_dsn: str, prefix: str) -> str:
        """The name of a migrated, empty database that no one else uses until it is given back."""
        if self._free:
            return self._free.pop()
        conn = await asyncpg.connect(admin_dsn)
        try:
            template = await self._template_name(conn, admin_dsn, prefix)
            database = f"{prefix}_{uuid.uuid4().hex[:10]}"
            await conn.execute(f'CREATE DATABASE "{database}" TEMPLATE "{template}"')
        finally:
            await conn.close()
        self._made.append(database)
        return database

    async def give_back(self, admin_dsn: str, database: str) -> None:
        """Empty `database` for the next test; drop it when that cannot be done safely."""
        conn = await asyncpg.connect(admin_dsn)
        try:
            if await self._in_use(conn, database) or not await _emptied(admin_dsn, database):
                await conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
                self._made.remove(database)
                return
        finally:
            await conn.close()
        self._free.append(database)

    async def drop_everything(self, admin_dsn: str) -> None:
        """At the end of the run: no database of this process is left behind."""
        names = [*self._made, *([self._template] if self._template else [])]
        self._template, self._free, self._made = None, [], []
        if not names:
            return
        conn = await asyncpg.connect(admin_dsn)
        try:
            for database in names:
                await conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        finally:
            await conn.close()

    async def _template_name(self, conn: asyncpg.Connection, admin_dsn: str, prefix: str) -> str:
        if self._template is None:
            template = f"{prefix}_template_{uuid.uuid4().hex[:10]}"
            await conn.execute(f'CREATE DATABASE "{template}"')
            self._template = template
            await _migrate(_database_url(admin_dsn, template))
        return self._template

    @staticmethod
    async def _in_use(conn: asyncpg.Connection, database: str) -> bool:
        """Whether some connection outlived its test: a process or an engine that was never stopped."""
        count = await conn.fetchval("SELECT count(*) FROM pg_stat_activity WHERE datname = $1", database)
        return bool(count)


async def _emptied(admin_dsn: str, database: str) -> bool:
    """Delete every row but the schema's revision and restart every sequence; False when the schema is not whole.

    DELETE rather than TRUNCATE: a test leaves a few rows, and deleting them takes a millisecond
    where truncating 30-odd tables makes new files for each and takes a quarter of a second.
    Foreign keys are not checked while the rows go (replica role), since every table is emptied.
    """
    conn = await asyncpg.connect(make_url(admin_dsn).set(database=database).render_as_string(hide_password=False))
    try:
        tables = await conn.fetch("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        names = {row["tablename"] for row in tables}
        if not KEPT_TABLES <= names:
            return False
        sequences = [row["sequencename"] for row in
                     await conn.fetch("SELECT sequencename FROM pg_sequences WHERE schemaname = 'public'")]
        async with conn.transaction():
            await conn.execute("SET LOCAL session_replication_role = replica")
            await conn.execute("".join(f'DELETE FROM "{table}";' for table in sorted(names - KEPT_TABLES))
                               + "".join(f'ALTER SEQUENCE "{sequence}" RESTART;' for sequence in sequences))
        return True
    except asyncpg.PostgresError:
        return False
    finally:
        await conn.close()


def _database_url(admin_dsn: str, database: str) -> str:
    return (make_url(admin_dsn).set(drivername="postgresql+asyncpg", database=database)
            .render_as_string(hide_password=False))


SQLITE = SqliteTemplate()
POSTGRES = PostgresPool()


def admin_dsn(url: str) -> str:
    """asyncpg's DSN for the suite's PostgreSQL URL, to create, empty and drop databases with."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
