"""The instances of `mecene demo`: real `mecene serve` apps on loopback, each with its own folder and configuration.

Each site writes a `mecene.toml` in its folder, so the ordinary commands work
on it afterwards (`mecene --config DIR/alpha/mecene.toml ledger check`). The
sites share one clock, real time plus an offset, so the demo can let a period
end without waiting for midnight.
"""

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from aiohttp import web

from config.settings import load
from server.app import create_app
from server.demo.ports import free_port
from server.instance import Instance
from server.wiring import build_instance


class ShiftedClock:
    """Real time plus an offset that only moves forward, as if the machine had slept."""

    def __init__(self) -> None:
        self.offset = timedelta()

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.offset

    def move_to(self, when: datetime) -> timedelta:
        """Jump to `when` (if it is ahead); the jump is returned to be shown."""
        jump = max(when - self(), timedelta())
        self.offset += jump
        return jump


@dataclass
class Site:
    name: str
    port: int
    folder: Path
    instance: Instance

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def base_url(self) -> str:
        return f"http://{self.host}"

    @property
    def config_file(self) -> Path:
        return self.folder / "mecene.toml"


def configuration(name: str, port: int, folder: Path) -> str:
    """Daily periods and quick workers, so a close and its payouts take seconds; plain http on loopback."""
    database = f"sqlite+aiosqlite:///{(folder / 'mecene.db').resolve()}"
    return (f'[instance]\ndomain = "127.0.0.1:{port}"\nname = {json.dumps(f"Mecene {name} (demo)")}\n\n'
            f'[server]\nhost = "127.0.0.1"\nport = {port}\n\n'
            f"[database]\nurl = {json.dumps(database)}\n\n"
            "[delivery]\npoll_seconds = 0.5\nretry_base_seconds = 1.0\n\n"
            '[settlement]\nperiod = "daily"\ntick_seconds = 1.0\n\n'
            "[dev]\n# Plain http and loopback peers: only for instances on this machine.\ninsecure = true\n")


@asynccontextmanager
async def serving(root: Path, name: str, clock: ShiftedClock) -> AsyncIterator[Site]:
    """The site's folder and configuration written, its app listening; stopped cleanly on leaving."""
    port, folder = free_port(), root / name
    folder.mkdir(parents=True)
    (folder / "mecene.toml").write_text(configuration(name, port, folder))
    instance = build_instance(load(folder / "mecene.toml", {}), clock)
    runner = web.AppRunner(create_app(instance), access_log=None)
    await runner.setup()
    try:
        await web.TCPSite(runner, "127.0.0.1", port).start()
        yield Site(name, port, folder, instance)
    finally:
        await runner.cleanup()
