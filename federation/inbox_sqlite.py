"""The inbox's group commit on SQLite in two round trips to the driver's thread instead of five.

aiosqlite runs SQLite in a thread of its own, and through SQLAlchemy's cursor
adapter a batch costs five hops there and back (cursor, execute, the fetch of
RETURNING, close, commit), each waiting for the busy event loop to take the
answer: most of what a stored activity waits for. `execute_fetchall` and
`commit` do the same work in two. The statement names
fixed columns, and every value goes through its column type's own bind
processor, as SQLAlchemy would send it.
"""

from typing import Any

from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncConnection

from federation.models import InboxItem

COLUMNS = ("activity_id", "actor_uri", "activity", "state", "attempts", "received_at", "processed_at")


class SQLiteInboxInsert:
    def __init__(self, dialect: Dialect) -> None:
        table = InboxItem.__table__
        self._table = table.name
        self._processors = [table.c[name].type.dialect_impl(dialect).bind_processor(dialect) for name in COLUMNS]

    async def insert(self, connection: AsyncConnection, rows: list[dict[str, Any]]) -> set[str]:
        """Insert the rows in one statement and commit; the activity ids that were new."""
        driver = (await connection.get_raw_connection()).driver_connection
        values = [process(row[name]) if process else row[name]
                  for row in rows for name, process in zip(COLUMNS, self._processors, strict=True)]
        try:
            inserted = await driver.execute_fetchall(self._statement(len(rows)), values)
            await driver.commit()
        except BaseException:
            await driver.rollback()
            raise
        return {activity_id for (activity_id,) in inserted}

    def _statement(self, count: int) -> str:
        row = f"({', '.join('?' * len(COLUMNS))})"
        return (f"INSERT INTO {self._table} ({', '.join(COLUMNS)}) VALUES {', '.join([row] * count)} "
                "ON CONFLICT DO NOTHING RETURNING activity_id")
