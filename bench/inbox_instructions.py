"""Target 3 asked without the machine: instructions per stored activity, Mecene against verify-only, on SQLite.

The inbox case's 2xx/s move with the machine: on a shared 2-core VM, the
same code's ratio to verify-only went from 0.60 to 1.02 between runs.
Instructions do not: valgrind's callgrind counts every instruction the
receiver's process runs, in all its threads (SQLite's included), the same
for the same code and requests whatever else the machine is doing. So this
case asks the inbox case's question, what storing every activity costs
against checking it alone, of the code rather than of the machine.

Each receiver (Mecene: `mecene serve` after `mecene init`; verify-only:
`bench/inbox_servers.py`) runs under callgrind with its counting off while it
starts, fetches the actors' keys and takes `WARM` Likes; counting is then
switched on (`callgrind_control`) for `COUNTED` Likes sent `CONCURRENCY` at
a time, as the inbox case sends them, and the counts are dumped. The figure
is activities per 10⁹ instructions, so that, like a rate, more is better.
Every 2xx must be a stored row.

SQLite only: on PostgreSQL the database's work runs in its own processes,
which callgrind does not see. Without valgrind the case says so and gives no
figure.
"""

import asyncio
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from bench.inbox import (
    TARGETS,
    Target,
    authors,
    count_rows,
    environment,
    post_all,
    start_sender,
    start_target,
    warm_up,
)
from bench.loadgen import Author, presign, sign_likes
from bench.loopback import HOST, free_port, stop, wait_until_serving
from bench.report import Figure
from bench.scale import scaled

WARM = 500
COUNTED = 1500
CONCURRENCY = 64
#: A receiver under valgrind runs tens of times slower: its start, and each batch of its answers, may take this long.
START_SECONDS = 300
MEASURED = ("Mecene", "verify-only")


@dataclass(frozen=True)
class Count:
    target: Target
    instructions: int
    activities: int

    @property
    def per_activity(self) -> float:
        return self.instructions / self.activities


def _callgrind(pid: int, *options: str) -> None:
    subprocess.run(["callgrind_control", *options, str(pid)], check=True, capture_output=True, timeout=120)


def _instructions(dump: Path) -> int:
    """The dump's total, from its `summary:` line (`totals:` in some versions)."""
    found = re.search(r"^(?:summary|totals): (\d+)", dump.read_text(errors="replace"), re.MULTILINE)
    if found is None:
        raise RuntimeError(f"{dump} holds no summary of instructions")
    return int(found[1])


async def _count(target: Target, folder: Path, address: int, signers: list[Author], counted: int) -> Count:
    """The receiver's instructions for `counted` activities, once it is warm.

    It answers to `address` (its domain, which the Likes are signed for) while listening on a port of its own.
    """
    folder.mkdir()
    port, out = free_port(), folder / "callgrind.out"
    settings = environment(folder, address)
    signed_for = f"http://{HOST}:{address}/inbox"
    warm = [sign_likes(author, signed_for, ["warm-up"])[0] for author in signers]
    under = ("valgrind", "--tool=callgrind", "--instr-atstart=no", f"--callgrind-out-file={out}")
    process = await asyncio.to_thread(start_target, target, port, settings, folder / "server.log", under)
    try:
        inbox = f"http://{HOST}:{port}/inbox"
        await wait_until_serving(f"http://{HOST}:{port}/health", process, timeout=START_SECONDS)
        await warm_up(inbox, warm, START_SECONDS)
        likes = await asyncio.to_thread(presign, signers, signed_for, WARM + counted, "instructions")
        await post_all(inbox, likes[:WARM], concurrency=CONCURRENCY, seconds=START_SECONDS, what=target.name)
        await asyncio.to_thread(_callgrind, process.pid, "--instr=on")
        await post_all(inbox, likes[WARM:], concurrency=CONCURRENCY, seconds=START_SECONDS, what=target.name)
        await asyncio.to_thread(_callgrind, process.pid, "--dump")
        await asyncio.to_thread(_callgrind, process.pid, "--instr=off")
    finally:
        await asyncio.to_thread(stop, process, 120)
    if target.stores and (rows := await count_rows(settings["MECENE_DATABASE_URL"])) != len(warm) + len(likes):
        raise AssertionError(f"{target.name}: {len(warm) + len(likes)} answered 202 but {rows} rows stored")
    return Count(target, _instructions(Path(f"{out}.1")), counted)


async def run_async() -> list[Figure]:
    if shutil.which("valgrind") is None or shutil.which("callgrind_control") is None:
        print("  inbox instructions: skipped, valgrind is not installed (apt-get install valgrind)")
        return []
    counted = round(scaled(COUNTED, minimum=300))
    with tempfile.TemporaryDirectory(prefix="mecene-bench-") as folder:
        sender_port, address = free_port(), free_port()
        sender, runner = await start_sender(Path(folder) / "sender", sender_port)
        try:
            signers = await authors(sender)
            counts = {target.name: await _count(target, Path(folder) / target.name, address, signers, counted)
                      for target in TARGETS if target.name in MEASURED}
        finally:
            await runner.cleanup()
    ours, verify = counts["Mecene"], counts["verify-only"]
    for count in counts.values():
        print(f"  inbox instructions (SQLite): {count.target.name:12} {count.per_activity / 1000:,.0f} k per "
              f"activity over {count.activities:,}")
    return [Figure("inbox stored vs verify-only, instructions (SQLite)", 1e9 / ours.per_activity,
                   1e9 / verify.per_activity, "activities per 10⁹ instructions",
                   "same checks, nothing stored; counted by callgrind", 0.8)]


def run() -> list[Figure]:
    return asyncio.run(run_async())
