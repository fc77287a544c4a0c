"""A real database per test, migrated by the project's Alembic history: SQLite, or PostgreSQL when configured."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from federation_harness import Databases
from server import db


@asynccontextmanager
async def migrated(tmp_path: Path, name: str) -> AsyncIterator[AsyncEngine]:
    databases = Databases(tmp_path)
    engine = db.create_engine(await databases.migrated(name))
    try:
        yield engine
    finally:
        await engine.dispose()
        await databases.drop_all()


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    async with migrated(tmp_path, "settlement") as engine:
        yield engine


@pytest.fixture
async def other(tmp_path: Path) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """A second instance's database, for what travels between two instances."""
    async with migrated(tmp_path, "other") as engine:
        yield db.sessionmaker(engine)


@pytest.fixture
def sessions(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return db.sessionmaker(engine)


@pytest.fixture
async def session(sessions: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    async with sessions() as session:
        yield session
