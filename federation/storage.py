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
    dialect = session.bind.dialect.name
    module = postgresql if dialect == "postgresql" else sqlite
    statement = module.insert(table).values(**values).on_conflict_do_nothing()
    result = await session.execute(statement)
    return bool(result.rowcount)
