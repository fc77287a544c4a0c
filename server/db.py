"""The one database engine of an instance, and its schema migrations.

SQLite gets WAL and a busy timeout so that the inbox, the delivery worker and
the CLI can share the file, and `synchronous=FULL` so that a commit is on disk
before anyone is told: with NORMAL, WAL survives a killed process but a power
loss can take the last commits, activities answered 202 and API answers
included. PostgreSQL's defaults are durable already.

Every `mecene` command starts by upgrading the schema, which is nearly always
at the newest revision already: that is read with one query, and Alembic,
whose import and migration files cost a third of a second, is loaded only
when there is something to migrate.
"""

from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import event, text
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).with_name("migrations")
#: Each migration's file name starts with its revision id ("0020_clearing_resends.py": "0020").
VERSIONS = MIGRATIONS / "versions"
#: Several `mecene serve` processes may start at once on one PostgreSQL database.
MIGRATION_LOCK = 0x6D6563656E65


def create_engine(url: str) -> AsyncEngine:
    """Create the engine; for SQLite make sure the file's folder exists."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_async_engine(url, pool_size=10, max_overflow=10, pool_pre_ping=True)
    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_async_engine(url)
    event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
    return engine


def _sqlite_pragmas(dbapi_connection: Any, _record: object) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


def head_revision() -> str:
    """The newest revision, from the migrations' file names: knowing it needs no Alembic."""
    return max(path.name.split("_", 1)[0] for path in VERSIONS.glob("[0-9]*_*.py"))


def _alembic_config(connection: Connection) -> "Config":
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


async def upgrade(engine: AsyncEngine) -> None:
    """Bring the schema to the newest revision; safe to run at every start, and cheap when there is nothing to do."""
    async with engine.connect() as conn:
        if await _revision(conn) == head_revision():
            return
    from alembic import command

    async with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            await conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
        await conn.run_sync(lambda sync_conn: command.upgrade(_alembic_config(sync_conn), "head"))


async def _revision(conn: AsyncConnection) -> str | None:
    """The schema's revision as Alembic recorded it; None for a database Alembic never touched."""
    if not await conn.run_sync(lambda sync_conn: sync_conn.dialect.has_table(sync_conn, "alembic_version")):
        return None
    revision: str | None = await conn.scalar(text("SELECT version_num FROM alembic_version"))
    return revision
