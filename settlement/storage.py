"""SQL helpers that must behave the same on SQLite and PostgreSQL; settlement's own, so it depends on no other layer."""

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, Table, TypeDecorator
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncSession


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


async def insert_ignoring_duplicates(session: AsyncSession, table: Table, values: dict[str, Any]) -> bool:
    """Insert one row unless a unique key already holds it; True when the row is new.

    `ON CONFLICT DO NOTHING` keeps the surrounding transaction usable, where a
    caught IntegrityError would abort it on PostgreSQL; and a concurrent writer of
    the same key waits for the first one instead of failing.
    """
    statement = dialect_insert(session, table).values(**values).on_conflict_do_nothing()
    result = await session.execute(statement)
    return bool(result.rowcount)


async def upsert(session: AsyncSession, table: Table, values: dict[str, Any], key: str) -> None:
    """Insert the row, or update the one whose `key` column matches; safe against concurrent writers."""
    statement = dialect_insert(session, table).values(**values)
    updates = {column: statement.excluded[column] for column in values if column != key}
    await session.execute(statement.on_conflict_do_update(index_elements=[key], set_=updates))


def dialect_insert(session: AsyncSession, table: Table):  # type: ignore[no-untyped-def]
    return (postgresql if session.bind.dialect.name == "postgresql" else sqlite).insert(table)
