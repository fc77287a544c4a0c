"""SQL that must behave the same on SQLite and PostgreSQL: a UTC column type, conflict-aware inserts, state moves.

Every package's tables use them, so they live here rather than twice.
"""

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import CursorResult, DateTime, FromClause, Result, TableClause, TypeDecorator, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncSession

from common.states import Move


class UTCDateTime(TypeDecorator[datetime]):
    """Stores UTC without a zone and hands back aware datetimes, on SQLite and PostgreSQL alike."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


async def insert_ignoring_duplicates(session: AsyncSession, table: FromClause, values: dict[str, Any]) -> bool:
    """Insert one row unless a unique key already holds it; True when the row is new.

    `ON CONFLICT DO NOTHING` keeps the surrounding transaction usable, where a
    caught IntegrityError would abort it on PostgreSQL; and a concurrent writer of
    the same key waits for the first one instead of failing.
    """
    statement = dialect_insert(session, table).values(**values).on_conflict_do_nothing()
    result = await session.execute(statement)
    return bool(rowcount(result))


async def insert_many_ignoring_duplicates(session: AsyncSession, table: FromClause,
                                          rows: list[dict[str, Any]]) -> None:
    """Insert the rows that no unique key already holds, in one executemany."""
    if rows:
        await session.execute(dialect_insert(session, table).on_conflict_do_nothing(), rows)


async def upsert(session: AsyncSession, table: FromClause, values: dict[str, Any], key: str) -> None:
    """Insert the row, or update the one whose `key` column matches; safe against concurrent writers."""
    statement = dialect_insert(session, table).values(**values)
    updates = {column: statement.excluded[column] for column in values if column != key}
    await session.execute(statement.on_conflict_do_update(index_elements=[key], set_=updates))


def rowcount(result: Result[*tuple[Any, ...]]) -> int:
    """The rows an INSERT, UPDATE or DELETE matched.

    AsyncSession.execute is typed to return a plain Result; for these statements
    it is a CursorResult, the only kind of result that counts rows.
    """
    if not isinstance(result, CursorResult):
        raise TypeError(f"a {type(result).__name__} has no rowcount: only an INSERT, UPDATE or DELETE has one")
    return result.rowcount


def dialect_insert(session: AsyncSession, table: FromClause) -> postgresql.Insert | sqlite.Insert:
    """The dialect's INSERT, which has ON CONFLICT.

    `table` is typed as the FromClause that a model's `__table__` is declared as,
    so that every package's models can be passed; it must be a table all the same.
    """
    if not isinstance(table, TableClause):
        raise TypeError(f"an INSERT needs a table, not a {type(table).__name__}")
    if session.bind is None:
        raise RuntimeError("the session is bound to no engine, so its SQL dialect is unknown")
    if session.bind.dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


async def move_state(session: AsyncSession, row: Any, move: Move, **values: Any) -> bool:
    """Move one mapped row (with `id` and `state` columns) along its graph, only from the move's source state.

    A compare-and-set in one UPDATE, so of two callers racing for the same
    move only one gets True (and books what the move means). A `row` this
    session holds is refreshed either way, showing the state it is in now; one
    read by another session (a refund written before its provider was asked)
    is only moved.
    """
    model = type(row)
    result = await session.execute(update(model).where(model.id == row.id, model.state == move.source)
                                   .values(state=move.target, **values).execution_options(synchronize_session=False))
    if row in session:
        await session.refresh(row)
    return bool(rowcount(result))
