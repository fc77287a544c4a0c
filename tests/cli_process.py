"""The `mecene` command in tests: in the test's process for what a command says and stores, its own process for
the entry point itself.

`run_here` calls the same `server.cli.main.main` the `mecene` script calls, with the environment, standard input and
output a process would have, without paying a Python start and the imports for each command: most tests are about
what a command prints, the status it exits with and what it stores, and run it so. `mecene` runs the command as an
operator does, in a process of its own with an environment without the caller's MECENE_*: each family of commands
keeps at least one such run to prove the installed entry point works, and `mecene serve`, `mecene demo`, signals,
kills, terminals and the bytes of a command line are only ever tested through a process.
"""

import asyncio
import contextlib
import io
import logging
import os
import shutil
import subprocess
import sys
import threading
import traceback
from collections.abc import Iterator
from pathlib import Path

from federation_harness import Databases

MECENE = [sys.executable, "-m", "server.cli"]
ROOT = Path(__file__).resolve().parents[1]

#: One command at a time in this process: each takes over the process's environment, standard streams and root log
#: handler for its length.
_ONE_COMMAND = threading.Lock()


async def cli_environment(databases: Databases, data_dir: Path) -> dict[str, str]:
    """A data folder of its own and, when the suite runs on PostgreSQL, a fresh database of its own."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith("MECENE_")}
    environ.update(MECENE_DATA_DIR=str(data_dir), PYTHONPATH=str(ROOT))
    if databases.backend == "postgresql":
        environ["MECENE_DATABASE_URL"] = await databases.new("cli")
    return environ


def mecene(env: dict[str, str], *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    """The command in a process of its own, as the `mecene` script runs: for the entry point, never for a refusal's
    wording."""
    return subprocess.run([*MECENE, *args], env=env, input=stdin, capture_output=True, text=True, timeout=60,
                          cwd=ROOT)


async def run_here(env: dict[str, str], *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    """`mecene ARGS` as `mecene` would run it with `env` as its whole environment, but in this process.

    The same `main()` the script calls, without a Python start and the imports per command (most of a second of
    processor time each). It runs in a thread, as the command runs its own event loop with `asyncio.run` while the
    test's loop keeps serving the instances it talks to over HTTP; one at a time, as for its length it owns
    `os.environ`, the standard streams and the log records of its thread. What `mecene` would print is returned as a
    finished process's, exit status included (an argument error's 2, `--help`'s 0, an uncaught exception's 1 and its
    traceback on stderr).
    """
    return await asyncio.to_thread(_run_here, dict(env), list(args), stdin)


def _run_here(env: dict[str, str], args: list[str], stdin: str | None) -> subprocess.CompletedProcess[str]:
    from server.cli.main import main

    stdout, stderr = _stream(), _stream(errors="backslashreplace")
    with _ONE_COMMAND, _environment(env), _log_records_to(stderr), contextlib.redirect_stdout(stdout), \
            contextlib.redirect_stderr(stderr), _stdin(stdin or ""):
        try:
            returncode = main(args)
        except SystemExit as stop:
            returncode = _exit_status(stop.code)
        except Exception:
            traceback.print_exc()
            returncode = 1
    return subprocess.CompletedProcess(["mecene", *args], returncode, _text(stdout), _text(stderr))


def _stream(errors: str = "strict") -> io.TextIOWrapper:
    """Text over bytes, as a process's standard output is: `sys.stdout.buffer` takes what is written as bytes."""
    return io.TextIOWrapper(io.BytesIO(), encoding="utf-8", errors=errors)


def _text(stream: io.TextIOWrapper) -> str:
    """What `subprocess.run(..., text=True)` reads: decoded, line ends made "\\n"."""
    stream.flush()
    raw = stream.buffer
    assert isinstance(raw, io.BytesIO)
    return raw.getvalue().decode("utf-8").replace("\r\n", "\n").replace("\r", "\n")


def _exit_status(code: object) -> int:
    """What `sys.exit(code)` leaves a process with: a message is printed and exits 1."""
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    print(code, file=sys.stderr)
    return 1


@contextlib.contextmanager
def _environment(env: dict[str, str]) -> Iterator[None]:
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(env)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


@contextlib.contextmanager
def _stdin(data: str) -> Iterator[None]:
    """Standard input as a pipe gives it, `sys.stdin.buffer` included."""
    saved = sys.stdin
    sys.stdin = io.TextIOWrapper(io.BytesIO(data.encode()), encoding="utf-8")
    try:
        yield
    finally:
        sys.stdin = saved


@contextlib.contextmanager
def _log_records_to(stderr: io.TextIOWrapper) -> Iterator[None]:
    """Warnings the command's thread logs on its stderr, as logging's last resort prints them in a process of its
    own (where no handler is configured); this process's own handlers are pytest's."""
    handler = logging.StreamHandler(stderr)
    handler.setLevel(logging.WARNING)
    thread = threading.get_ident()
    handler.addFilter(lambda record: record.thread == thread)
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield
    finally:
        root.removeHandler(handler)


def initialised_data(data_dir: Path) -> Path:
    """A data folder made by `mecene init`, for the tests that start from one to copy rather than each run `init`."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith("MECENE_")}
    environ.update(MECENE_DATA_DIR=str(data_dir), PYTHONPATH=str(ROOT))
    done = mecene(environ, "init")
    assert done.returncode == 0, done.stderr
    return data_dir


def initialise(env: dict[str, str], template: Path) -> None:
    """What `mecene init` leaves in `env`'s data folder: a copy of `template`, the path to its database its own.

    On PostgreSQL the database is the test's own, outside the folder: `init` itself runs.
    """
    if "MECENE_DATABASE_URL" in env:
        done = mecene(env, "init")
        assert done.returncode == 0, done.stderr
        return
    data_dir = Path(env["MECENE_DATA_DIR"])
    shutil.copytree(template, data_dir)
    config = data_dir / "mecene.toml"
    config.write_text(config.read_text().replace(str(template.resolve()), str(data_dir.resolve())))
    assert str(data_dir.resolve() / "mecene.db") in config.read_text()
