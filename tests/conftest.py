"""Shared fixtures: a federation of real instances on loopback, on SQLite or PostgreSQL."""

import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from federation_harness import Databases, Federation  # noqa: E402

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture
async def federation(tmp_path: Path) -> AsyncIterator[Federation]:
    fed = Federation(Databases(tmp_path))
    try:
        yield fed
    finally:
        await fed.close()


@pytest.fixture
def fixtures_dir() -> Path:
    return FIXTURES
