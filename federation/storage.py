"""Small SQL helpers that must behave the same on SQLite and PostgreSQL."""

from typing import Any

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession


async def insert_ignoring_duplicates(session: AsyncSession, table: Table, values: dict[str, Any]) -> bool:
    """Insert one row unless a unique key already holds it; True when the row is new.

    `ON CONFLICT DO NOTHING` keeps the surrounding transaction usable, where a
    caught IntegrityError would abort it on PostgreSQL.
    """
    statement = _dialect_insert(session, table).values(**values).on_conflict_do_nothing()
    result = await session.execute(statement)
    return bool(result.rowcount)


async def insert_many_ignoring_duplicates(session: AsyncSession, table: Table, rows: list[dict[str, Any]]) -> None:
    """Insert the rows that no unique key already holds, in one executemany."""
    if rows:
        await session.execute(_dialect_insert(session, table).on_conflict_do_nothing(), rows)


async def upsert(session: AsyncSession, table: Table, values: dict[str, Any], key: str) -> None:
    """Insert the row, or update the one whose `key` column matches; safe against concurrent writers."""
    statement = _dialect_insert(session, table).values(**values)
    updates = {column: statement.excluded[column] for column in values if column != key}
    await session.execute(statement.on_conflict_do_update(index_elements=[key], set_=updates))


def _dialect_insert(session: AsyncSession, table: Table):  # type: ignore[no-untyped-def]
    return (postgresql if session.bind.dialect.name == "postgresql" else sqlite).insert(table)
