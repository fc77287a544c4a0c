"""The inbox's group commit INSERT, in one round trip to the database, on SQLite and on PostgreSQL.

A batch is answered only when it is committed, and every round trip it makes
waits for the busy event loop to take the answer: with a fixed number of
clients, each hop is time in which none of them sends. The writer's connection
is in autocommit mode, and a batch is one statement, which SQLite and
PostgreSQL each commit, durably, before answering it; a failed statement leaves
nothing behind. Copies of an activity in the batch are dropped before it is
sent; one stored before is left as it is (`ON CONFLICT … DO UPDATE … WHERE`),
unless it had failed: the peer delivering it again is the moment to try it
again, so it is pending once more (so is a processed one whose handler answers
every copy, by a statement of `federation/inbox_writer.py`). Nothing is
returned, as every row handed back would cost the SQLite thread another
hand-over of the GIL. Rows go straight to the driver (aiosqlite, asyncpg), with
every value through its column type's own bind processor, as SQLAlchemy would
send it.

- SQLite: one multi-row `INSERT … VALUES`, one hop to aiosqlite's thread
  (through SQLAlchemy's cursor adapter a batch took five: cursor, execute,
  fetch, close, commit).
- PostgreSQL: `INSERT … SELECT FROM unnest(…)` with one array per column, so
  the statement's text is the same for every batch size and asyncpg prepares
  it once (SQLAlchemy's multi-row VALUES is a new statement per batch size,
  and BEGIN and COMMIT are two more round trips).
"""

from collections.abc import Callable
from typing import Any, Protocol

from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncConnection

from federation.inbox import ReceivedJSON
from federation.models import INBOX_STATES, InboxItem

COLUMNS = ("activity_id", "actor_uri", "activity", "state", "attempts", "received_at", "processed_at")
#: Each column's array type for unnest, and the cast back where text is not assignable (text to json).
_POSTGRES_ARRAYS = {"activity_id": ("text", ""), "actor_uri": ("text", ""), "activity": ("text", "::json"),
                    "state": ("text", ""), "attempts": ("int", ""), "received_at": ("timestamp", ""),
                    "processed_at": ("timestamp", "")}


_RETRY = INBOX_STATES.move("failed", "pending")
#: A stored copy is left alone, unless it had failed: then it is due again, with a fresh count of attempts.
_ON_CONFLICT = (f"ON CONFLICT (activity_id) DO UPDATE SET state = '{_RETRY.target}', attempts = 0, "
                "error = NULL, next_attempt_at = NULL, processed_at = NULL "
                f"WHERE {InboxItem.__tablename__}.state = '{_RETRY.source}'")


class InboxInsert(Protocol):
    async def __call__(self, connection: AsyncConnection, rows: list[dict[str, Any]]) -> None:
        """Insert the rows in one statement, on a connection in autocommit mode."""


class _Bound:
    """Each column's bind processor for the dialect, applied as SQLAlchemy would."""

    def __init__(self, dialect: Dialect) -> None:
        table = InboxItem.__table__
        self.table = table.name
        processors: dict[str, Callable[[Any], Any] | None] = {
            name: table.c[name].type.dialect_impl(dialect).bind_processor(dialect) for name in COLUMNS}
        processors["activity"] = _as_received_or(processors["activity"])
        self._columns = list(processors.items())

    def row(self, row: dict[str, Any]) -> list[Any]:
        """An activity born done was received and processed at the same instant: that value is processed once."""
        values: list[Any] = []
        seen: Any = None
        bound: Any = None
        for name, process in self._columns:
            value = row[name]
            if process is not None and value is not None:
                if value is not seen:
                    seen, bound = value, process(value)
                value = bound
            values.append(value)
        return values


def _as_received_or(process: Callable[[Any], Any] | None) -> Callable[[Any], Any]:
    """The activity column's processor: an activity kept with the text it came as is sent as that text."""
    def bind(value: Any) -> Any:
        if isinstance(value, ReceivedJSON):
            return value.text
        return value if process is None else process(value)

    return bind


class SQLiteInboxInsert:
    def __init__(self, dialect: Dialect) -> None:
        self._bound = _Bound(dialect)

    async def __call__(self, connection: AsyncConnection, rows: list[dict[str, Any]]) -> None:
        driver = await _driver_connection(connection)
        unique = _first_copies(rows)
        values = [value for row in unique for value in self._bound.row(row)]
        await driver.execute_fetchall(self._statement(len(unique)), values)

    def _statement(self, count: int) -> str:
        row = f"({', '.join('?' * len(COLUMNS))})"
        values = ", ".join([row] * count)
        return f"INSERT INTO {self._bound.table} ({', '.join(COLUMNS)}) VALUES {values} {_ON_CONFLICT}"


class PostgresInboxInsert:
    def __init__(self, dialect: Dialect) -> None:
        self._bound = _Bound(dialect)
        arrays = ", ".join(f"${n}::{_POSTGRES_ARRAYS[name][0]}[]" for n, name in enumerate(COLUMNS, start=1))
        selected = ", ".join(f"{name}{_POSTGRES_ARRAYS[name][1]}" for name in COLUMNS)
        self._statement = (f"INSERT INTO {self._bound.table} ({', '.join(COLUMNS)}) "
                           f"SELECT {selected} FROM unnest({arrays}) AS batch ({', '.join(COLUMNS)}) {_ON_CONFLICT}")

    async def __call__(self, connection: AsyncConnection, rows: list[dict[str, Any]]) -> None:
        driver = await _driver_connection(connection)
        columns = zip(*map(self._bound.row, _first_copies(rows)), strict=True)
        await driver.execute(self._statement, *(list(column) for column in columns))


def _first_copies(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per activity id: a statement may not update the row it inserted (PostgreSQL refuses it)."""
    return list({row["activity_id"]: row for row in reversed(rows)}.values())[::-1]


def inbox_insert(dialect: Dialect) -> InboxInsert:
    return SQLiteInboxInsert(dialect) if dialect.name == "sqlite" else PostgresInboxInsert(dialect)


async def _driver_connection(connection: AsyncConnection) -> Any:
    """The driver's own connection (aiosqlite's or asyncpg's), which SQLAlchemy types as Any or None."""
    driver = (await connection.get_raw_connection()).driver_connection
    if driver is None:
        raise RuntimeError("the pooled connection was closed or invalidated: it holds no driver connection")
    return driver
