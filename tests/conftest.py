"""Shared fixtures: a federation of real instances on loopback, on SQLite or PostgreSQL.

Tests share nothing but the machine, so `make test` spreads them over several pytest-xdist
workers: each test's files live under its own tmp_path (a browser test's screenshots in
test-artifacts/<test>/), each instance gets a database of its own (a SQLite file there, or a
PostgreSQL database of `federation_harness.Databases`, lent already migrated and emptied
after use by `migrated_databases`), and the instances
a worker starts listen on ports from a band no other worker uses (`federation_harness.free_port`).
Plain `python -m pytest` runs the same tests one by one. Accounts made in a test process take their
RSA keys from that process's pool (`key_pool`), and most `mecene` commands run in the test's process
(`cli_process.run_here`): making keys and starting Python were most of the suite's processor time.
"""

import asyncio
import os
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from server import accounts
from server.demo import plain_peer

sys.path.insert(0, str(Path(__file__).parent))

import migrated_databases  # noqa: E402
from federation_harness import PG_URL_VARIABLE, Databases, Federation  # noqa: E402
from key_pool import KEYS  # noqa: E402
from localstripe_process import localstripe_process  # noqa: E402, F401
from smtp_server import mailbox  # noqa: E402, F401

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture
async def federation(tmp_path: Path) -> AsyncIterator[Federation]:
    fed = Federation(Databases(tmp_path))
    try:
        yield fed
    finally:
        await fed.close()


@pytest.fixture(autouse=True)
def account_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    """Accounts made in this process take their RSA keys from the process's pool (`key_pool`)."""
    KEYS.new_test()
    monkeypatch.setattr(accounts, "generate_private_key", KEYS.take)
    monkeypatch.setattr(plain_peer, "generate_private_key", KEYS.take)


@pytest.fixture
def fixtures_dir() -> Path:
    return FIXTURES


def pytest_sessionfinish(session: pytest.Session) -> None:
    """Each process removes the migrated templates and the pooled databases it made."""
    migrated_databases.SQLITE.remove()
    url = os.environ.get(PG_URL_VARIABLE)
    if url:
        asyncio.run(migrated_databases.POSTGRES.drop_everything(migrated_databases.admin_dsn(url)))
