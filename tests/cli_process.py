"""The `mecene` command as an operator runs it: its own process, an environment without the caller's MECENE_*."""

import os
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
