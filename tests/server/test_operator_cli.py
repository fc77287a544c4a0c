"""`mecene user password` and `mecene block` as an operator runs them: exit codes, and real processes where a
password is read from standard input or a terminal and where a command line holds bytes."""

import fcntl
import os
import subprocess
import termios
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from sqlalchemy import select
from sqlalchemy.ext.asyncio import create_async_engine

from cli_process import MECENE, ROOT, cli_environment, initialise, initialised_data, mecene, run_here
from federation_harness import Databases
from server.models import User


@pytest.fixture
async def env(tmp_path: Path) -> AsyncIterator[dict[str, str]]:
    databases = Databases(tmp_path)
    yield await cli_environment(databases, tmp_path / "data")
    await databases.drop_all()


@pytest.fixture(scope="module")
def initialised(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One `mecene init` for the module's tests that start from an initialised instance: each copies its folder."""
    return initialised_data(tmp_path_factory.mktemp("initialised") / "data")


@pytest.fixture
def initialised_instance(env: dict[str, str], initialised: Path) -> None:
    """`env`'s data folder holds an instance `mecene init` made, its own."""
    initialise(env, initialised)


async def stored_hash(env: dict[str, str], tmp_path: Path, name: str) -> str | None:
    url = env.get("MECENE_DATABASE_URL") or f"sqlite+aiosqlite:///{(tmp_path / 'data' / 'mecene.db').resolve()}"
    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            return await conn.scalar(select(User.password_hash).where(User.username == name))
    finally:
        await engine.dispose()


@pytest.mark.usefixtures("initialised_instance")
async def test_an_admin_gets_a_password_from_standard_input(env: dict[str, str], tmp_path: Path) -> None:
    assert (await run_here(env, "user", "add", "olga", "--admin")).returncode == 0
    done = mecene(env, "user", "password", "olga", "--stdin", stdin="a long passphrase\n")
    assert done.returncode == 0, done.stderr
    assert "Password set for olga" in done.stdout and "/login" in done.stdout
    stored = await stored_hash(env, tmp_path, "olga")
    assert stored is not None and PasswordHasher().verify(stored, "a long passphrase")


REFUSALS = [
    (["olga", "--stdin"], "short\n", "at least 10 characters"),
    (["olga", "--stdin"], "", "at least 10 characters"),
    (["nobody", "--stdin"], "a long passphrase\n", "no account 'nobody'"),
    (["olga"], "a long passphrase\n", "not a terminal: pass --stdin"),
]


@pytest.mark.usefixtures("initialised_instance")
async def test_a_refused_password_changes_nothing(env: dict[str, str], tmp_path: Path) -> None:
    assert (await run_here(env, "user", "add", "olga", "--admin")).returncode == 0
    for args, stdin, message in REFUSALS:
        done = await run_here(env, "user", "password", *args, stdin=stdin)
        assert done.returncode == 1 and message in done.stderr, (args, done.stderr)
    assert await stored_hash(env, tmp_path, "olga") is None


def on_a_terminal(env: dict[str, str], *args: str, lines: list[str]) -> tuple[int, str]:
    """The command with a pseudo-terminal as its controlling terminal, answering each prompt with a line."""
    controller, terminal = os.openpty()

    def take_terminal() -> None:
        os.setsid()
        fcntl.ioctl(0, termios.TIOCSCTTY, 0)

    process = subprocess.Popen([*MECENE, *args], env=env, cwd=ROOT, stdin=terminal, stdout=terminal,
                               stderr=terminal, preexec_fn=take_terminal)
    os.close(terminal)
    screen = b""
    for line in lines:
        screen += _read_until(controller, b": ")
        os.write(controller, line.encode() + b"\n")
    code = process.wait(timeout=60)
    screen += _read_until(controller, None)
    os.close(controller)
    return code, screen.decode(errors="replace")


def _read_until(fd: int, marker: bytes | None, timeout: float = 30.0) -> bytes:
    deadline, seen = time.monotonic() + timeout, b""
    while time.monotonic() < deadline and (marker is None or not seen.endswith(marker)):
        try:
            chunk = os.read(fd, 1024)
        except OSError:
            break
        if not chunk:
            break
        seen += chunk
    return seen


@pytest.mark.usefixtures("initialised_instance")
async def test_at_a_terminal_the_password_is_asked_twice_and_never_shown(env: dict[str, str],
                                                                         tmp_path: Path) -> None:
    assert (await run_here(env, "user", "add", "olga", "--admin")).returncode == 0
    code, screen = on_a_terminal(env, "user", "password", "olga", lines=["first passphrase", "other passphrase"])
    assert code == 1 and "New password:" in screen and "Password again:" in screen and "differ" in screen
    assert await stored_hash(env, tmp_path, "olga") is None
    code, screen = on_a_terminal(env, "user", "password", "olga", lines=["typed passphrase"] * 2)
    assert code == 0 and "Password set for olga" in screen and "typed passphrase" not in screen
    stored = await stored_hash(env, tmp_path, "olga")
    assert stored is not None and PasswordHasher().verify(stored, "typed passphrase")


@pytest.mark.usefixtures("initialised_instance")
async def test_blocks_are_added_listed_and_removed(env: dict[str, str]) -> None:
    added = await run_here(env, "block", "add", "Spam.Example", "--reason", "spam waves")
    assert added.returncode == 0 and "Blocked spam.example" in added.stdout
    again = await run_here(env, "block", "add", "spam.example")
    assert again.returncode == 0 and "already blocked" in again.stdout
    listed = await run_here(env, "block", "list")
    assert listed.returncode == 0 and "spam.example\t" in listed.stdout and "spam waves" in listed.stdout
    bad = await run_here(env, "block", "add", "not a domain")
    assert bad.returncode == 1 and "is not a domain" in bad.stderr
    assert (await run_here(env, "block", "remove", "spam.example")).returncode == 0
    gone = await run_here(env, "block", "remove", "spam.example")
    assert gone.returncode == 1 and "is not blocked" in gone.stderr
    empty = await run_here(env, "block", "list")
    assert empty.stdout == "" and "No domain is blocked." in empty.stderr


@pytest.mark.usefixtures("initialised_instance")
@pytest.mark.parametrize("args", [[b"spam\xff.example"], [b"spam.example", b"--reason", b"spam \xff waves"]])
async def test_a_block_typed_in_bytes_no_database_stores_is_refused(env: dict[str, str], args: list[bytes]) -> None:
    """A command line's non-UTF-8 bytes reach Python as lone surrogates, which neither database can store."""
    done = subprocess.run([*MECENE, "block", "add", *args], env=env, capture_output=True, text=True, timeout=60,
                          cwd=ROOT)
    assert done.returncode == 1 and done.stderr.startswith("mecene: ") and "Traceback" not in done.stderr
    assert (await run_here(env, "block", "list")).stdout == ""
