"""Who uses the cores during a window: CPU seconds read from /proc (Linux), per process and machine-wide.

On a 2-core machine shared with the load generator and PostgreSQL, a rate means
little without knowing whether the cores were already full.
"""

import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path

TICKS = os.sysconf("SC_CLK_TCK")
PROC = Path("/proc")


def process_seconds(pid: int) -> float:
    """User + system CPU time of one process; 0 once it is gone."""
    try:
        fields = (PROC / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICKS


def machine_busy_seconds() -> float:
    """CPU time all cores spent not idle (nor waiting for I/O) since boot; guest time is already in user."""
    values = [int(v) for v in (PROC / "stat").read_text().split("\n", 1)[0].split()[1:9]]
    return (sum(values) - values[3] - values[4]) / TICKS


def postgres_processes(database: str) -> dict[int, tuple[bool, float]]:
    """Every postgres process: whether it serves `database`, and its CPU seconds so far."""
    found = {}
    for entry in PROC.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if (entry / "comm").read_text().strip() != "postgres":
                continue
            title = (entry / "cmdline").read_bytes().decode(errors="replace")
        except OSError:
            continue
        found[int(entry.name)] = (f" {database} " in title, process_seconds(int(entry.name)))
    return found


def _postgres_between(first: dict[int, tuple[bool, float]], last: dict[int, tuple[bool, float]]) -> tuple[float, float]:
    """(backends serving the database, every other postgres process: WAL writer, checkpointer, other
    databases); a process that started during the span counts from zero, one that ended is not known."""
    ours = others = 0.0
    for pid, (serves, seconds) in last.items():
        spent = seconds - first.get(pid, (serves, 0.0))[1]
        if serves:
            ours += spent
        else:
            others += spent
    return ours, others


@dataclass(frozen=True)
class Usage:
    """CPU seconds spent during `seconds` of wall time; each divided by `seconds` is a number of cores.

    """

    seconds: float
    servers: tuple[float, ...]
    database: float
    other_postgres: float
    machine: float


@dataclass(frozen=True)
class _Sample:
    at: float
    servers: tuple[float, ...]
    postgres: dict[int, tuple[bool, float]]
    machine: float


class Meter:
    """Samples the counters every `every` seconds in a thread, so that the usage of exactly a window
    measured elsewhere (the generator's, in its own process) can be picked out afterwards."""

    def __init__(self, pids: list[int], database: str, every: float = 0.25) -> None:
        self._pids, self._database, self._every = pids, database, every
        self._samples: list[_Sample] = []
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()

    def _read(self) -> _Sample:
        return _Sample(time.monotonic(), tuple(process_seconds(pid) for pid in self._pids),
                       postgres_processes(self._database), machine_busy_seconds())

    def _sample(self) -> None:
        while True:
            self._samples.append(self._read())
            if self._done.wait(self._every):
                return

    def stop(self) -> None:
        self._done.set()
        self._thread.join()

    def between(self, start: float, end: float) -> Usage:
        """Usage from the first sample at or after `start` to the last at or before `end` (time.monotonic())."""
        inside = [s for s in self._samples if start <= s.at <= end] or self._samples
        first, last = inside[0], inside[-1]
        return Usage(last.at - first.at, tuple(b - a for a, b in zip(first.servers, last.servers, strict=True)),
                     *_postgres_between(first.postgres, last.postgres), last.machine - first.machine)
