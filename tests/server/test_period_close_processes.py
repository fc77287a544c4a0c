"""Closing a period with real processes: killed in the middle and resumed, and two servers racing for it."""

import asyncio
import signal
import subprocess
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, insert, select

from cli_process import MECENE, ROOT, cli_environment
from config.settings import load
from federation_harness import Databases, free_port
from server import db
from settlement import ledger
from settlement.ledger import AccountKey
from settlement.models import Budget, DonorClose, Flattr, PeriodClose, Share

PERIOD = "2026-10"
DONORS = 1200
THINGS_EACH = 3
BUDGET = 500


@pytest.fixture
async def env(tmp_path: Path) -> AsyncIterator[dict[str, str]]:
    databases = Databases(tmp_path)
    environ = await cli_environment(databases, tmp_path / "data")
    environ.update(MECENE_SETTLEMENT_CLOSE_BATCH_DONORS="25", MECENE_SETTLEMENT_CLOSE_LEASE_SECONDS="1")
    assert subprocess.run([*MECENE, "init"], env=environ, cwd=ROOT, capture_output=True).returncode == 0
    yield environ
    await databases.drop_all()


def database_url(env: dict[str, str]) -> str:
    return load(Path(env["MECENE_DATA_DIR"]) / "mecene.toml", env).database.url


async def populate(url: str) -> None:
    """DONORS donors of the ended period, each funded and flattring THINGS_EACH local things."""
    engine = db.create_engine(url)
    sessions = db.sessionmaker(engine)
    when = datetime(2026, 10, 15, tzinfo=UTC)
    donors = [f"donor{index:05d}" for index in range(DONORS)]
    async with sessions() as session, session.begin():
        lines = [(AccountKey("wallet", donor, "EUR"), 1000) for donor in donors]
        lines.append((AccountKey("payin", "manual", "EUR"), -1000 * DONORS))
        await ledger.post(session, kind="topup", idempotency_key="topup:manual:bulk", lines=lines, now=when)
        await session.execute(insert(Budget), [
            {"username": donor, "amount": BUDGET, "currency": "EUR", "updated_at": when} for donor in donors])
        await session.execute(insert(Flattr), [
            {"donor": donor, "thing_uri": f"http://localhost:8080/things/t{index}",
             "author_uri": f"http://localhost:8080/users/creator{index}", "period": PERIOD,
             "activity_id": f"http://localhost:8080/activities/{donor}-{index}", "created_at": when}
            for donor in donors for index in range(THINGS_EACH)])
    await engine.dispose()


async def assert_closed_exactly_once(url: str) -> None:
    engine = db.create_engine(url)
    try:
        async with db.sessionmaker(engine)() as session:
            assert await session.scalar(select(PeriodClose.state).where(PeriodClose.period == PERIOD)) == "closed"
            assert await session.scalar(select(func.count(DonorClose.id))) == DONORS
            assert await session.scalar(select(func.count(Share.id))) == DONORS * THINGS_EACH
            assert await session.scalar(select(func.sum(DonorClose.spend))) == DONORS * BUDGET
            assert await ledger.balance(session, AccountKey("wallet", "donor00007", "EUR")) == 1000 - BUDGET
            creators = sum([await ledger.balance(session, AccountKey("creator", f"creator{i}", "EUR"))
                            for i in range(THINGS_EACH)])
            assert creators == DONORS * BUDGET
            assert await ledger.check(session) == []
    finally:
        await engine.dispose()


async def test_a_close_killed_midway_resumes_and_books_everything_once(env: dict[str, str]) -> None:
    url = database_url(env)
    await populate(url)
    process = await asyncio.create_subprocess_exec(*MECENE, "period", "close", "--period", PERIOD, env=env,
                                                   cwd=ROOT, stderr=asyncio.subprocess.PIPE,
                                                   stdout=asyncio.subprocess.DEVNULL)
    assert process.stderr is not None
    while True:
        line = (await asyncio.wait_for(process.stderr.readline(), 60)).decode()
        assert line, "the close ended before it could be killed"
        if "/1200 donors" in line and 300 <= int(line.split("/")[0].split()[-1]) < 900:
            break
    process.send_signal(signal.SIGKILL)
    await process.wait()

    engine = db.create_engine(url)
    async with db.sessionmaker(engine)() as session:
        done = await session.scalar(select(func.count(DonorClose.id)))
        assert 300 <= done < DONORS
        assert await ledger.check(session) == []
    await engine.dispose()

    await asyncio.sleep(1.2)
    resumed = subprocess.run([*MECENE, "period", "close", "--period", PERIOD], env=env, cwd=ROOT,
                             capture_output=True, text=True, timeout=120)
    assert resumed.returncode == 0, resumed.stderr
    assert f"Period {PERIOD} closed: {DONORS} donors spent 6000.00 EUR" in resumed.stdout
    await assert_closed_exactly_once(url)


async def test_two_servers_on_one_database_close_the_period_once(env: dict[str, str]) -> None:
    url = database_url(env)
    await populate(url)
    servers = [subprocess.Popen([*MECENE, "serve", "--port", str(free_port())], cwd=ROOT,
                                env={**env, "MECENE_SETTLEMENT_TICK_SECONDS": "0.2"},
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    try:
        await _wait_closed(url)
    finally:
        for server in servers:
            server.send_signal(signal.SIGINT)
        errors = [server.communicate(timeout=30)[1] for server in servers]
    assert not any("Traceback" in error for error in errors), "\n----\n".join(errors)
    await assert_closed_exactly_once(url)


async def _wait_closed(url: str) -> None:
    engine = db.create_engine(url)
    try:
        for _ in range(600):
            async with db.sessionmaker(engine)() as session:
                if await session.scalar(select(PeriodClose.state).where(PeriodClose.period == PERIOD)) == "closed":
                    return
            await asyncio.sleep(0.1)
        raise AssertionError("the servers did not close the period within 60 s")
    finally:
        await engine.dispose()
