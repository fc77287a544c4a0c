"""The `mecene` command as an operator runs it: its own process, an environment without the caller's MECENE_*."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

from federation_harness import Databases

MECENE = [sys.executable, "-m", "server.cli"]
ROOT = Path(__file__).resolve().parents[1]


async def cli_environment(databases: Databases, data_dir: Path) -> dict[str, str]:
    """A data folder of its own and, when the suite runs on PostgreSQL, a fresh database of its own."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith("MECENE_")}
    environ.update(MECENE_DATA_DIR=str(data_dir), PYTHONPATH=str(ROOT))
    if databases.backend == "postgresql":
        environ["MECENE_DATABASE_URL"] = await databases.new("cli")
    return environ


def mecene(env: dict[str, str], *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*MECENE, *args], env=env, input=stdin, capture_output=True, text=True, timeout=60,
                          cwd=ROOT)


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
