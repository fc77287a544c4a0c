"""Helpers for servers on 127.0.0.1: the only address a benchmark may send traffic to."""

import asyncio
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import aiohttp

HOST = "127.0.0.1"
ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def child_environment(extra: dict[str, str]) -> dict[str, str]:
    """The caller's environment without MECENE_* settings (the bench's own would be refused as unknown)."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("MECENE_")}
    return base | extra


def start_module(module: str, args: list[str], env: dict[str, str], log: Path,
                 under: tuple[str, ...] = ()) -> subprocess.Popen[bytes]:
    """`python -m module args` from the repository root, its output kept in `log` for a failed run.

    `under` is a command that runs it, such as valgrind and its options.
    """
    with log.open("ab") as output:
        return subprocess.Popen([*under, sys.executable, "-m", module, *args], cwd=ROOT,
                                env=child_environment(env), stdout=output, stderr=subprocess.STDOUT)


def stop(process: subprocess.Popen[bytes], timeout: float = 15) -> None:
    """SIGTERM lets aiohttp's run_app shut down cleanly; kill only if it does not within `timeout`."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout)


def freeze(process: subprocess.Popen[bytes]) -> None:
    """Stop the process where it is (SIGSTOP): it takes no CPU until `thaw`, while another server is measured."""
    os.kill(process.pid, signal.SIGSTOP)


def thaw(process: subprocess.Popen[bytes]) -> None:
    """Let a frozen process go on; nothing to do for one that has exited."""
    if process.poll() is None:
        os.kill(process.pid, signal.SIGCONT)


async def wait_until_serving(url: str, process: subprocess.Popen[bytes], timeout: float = 30) -> None:
    """Poll `url` until it answers 200; fail early if the server process died."""
    deadline = asyncio.get_running_loop().time() + timeout
    async with aiohttp.ClientSession() as http:
        for _ in range(int(timeout / 0.05) + 1):
            if process.poll() is not None:
                raise RuntimeError(f"server exited with status {process.returncode} before serving {url}")
            try:
                async with http.get(url) as response:
                    if response.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            if asyncio.get_running_loop().time() > deadline:
                break
            await asyncio.sleep(0.05)
    raise TimeoutError(f"{url} did not answer within {timeout} s")
