"""Shared fixtures: a federation of real instances on loopback, on SQLite or PostgreSQL.

Tests share nothing but the machine, so `make test` spreads them over several pytest-xdist
workers: each test's files live under its own tmp_path (a browser test's screenshots in
test-artifacts/<test>/), each instance gets a database of its own (a SQLite file there, or a
PostgreSQL database created and dropped by `federation_harness.Databases`), and the instances
a worker starts listen on ports from a band no other worker uses (`federation_harness.free_port`).
Plain `python -m pytest` runs the same tests one by one.
"""

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
