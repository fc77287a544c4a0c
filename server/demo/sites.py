"""The instances of `mecene demo`: real `mecene serve` apps on loopback, each with its own folder and configuration.

Each site writes a `mecene.toml` in its folder, so the ordinary commands work
on it afterwards (`mecene --config DIR/alpha/mecene.toml ledger check`). Each
site listens on a loopback address of its own (127.0.0.1, 127.0.0.2, …: Linux
routes all of 127/8 to the loopback interface), because browsers keep cookies
per host whatever the port: on one address, logging in to one instance would
log you out of the others. The sites share one clock, real time plus an
offset, so the demo can let a period end without waiting for midnight.
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
from settlement.periods import period_of


class ShiftedClock:
    """Real time plus an offset, set back at the start and only ever moved forward, as if the machine had slept.

    The demo tells its story in a day that has already ended, then lets the
    clock catch up: from then on the instances keep real time, so the Dates of
    their signatures are fresh to any other server, and other servers' to them.
    """

    def __init__(self, offset: timedelta) -> None:
        self.offset = offset

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.offset

    def catch_up(self) -> timedelta:
        """Back to real time; the jump is returned to be shown."""
        jump = max(-self.offset, timedelta())
        self.offset += jump
        return jump


def clock_in_an_ended_day(close_delay: timedelta) -> ShiftedClock:
    """At noon of a day whose close is already due in real time, so catching up with real time lets it close."""
    now = datetime.now(UTC)
    day = period_of(now - close_delay - timedelta(seconds=1), "daily").previous()
    return ShiftedClock(day.start + timedelta(hours=12) - now)


@dataclass
class Site:
    name: str
    address: str
    port: int
    folder: Path
    instance: Instance

    @property
    def host(self) -> str:
        return f"{self.address}:{self.port}"

    @property
    def base_url(self) -> str:
        return f"http://{self.host}"

    @property
    def config_file(self) -> Path:
        return self.folder / "mecene.toml"


def configuration(name: str, address: str, port: int, folder: Path) -> str:
    """Daily periods and quick workers, so a close and its payouts take seconds; plain http on loopback."""
    database = f"sqlite+aiosqlite:///{(folder / 'mecene.db').resolve()}"
    return (f'[instance]\ndomain = "{address}:{port}"\nname = {json.dumps(f"Mecene {name} (demo)")}\n\n'
            f'[server]\nhost = "{address}"\nport = {port}\n\n'
            f"[database]\nurl = {json.dumps(database)}\n\n"
            "[delivery]\npoll_seconds = 0.5\nretry_base_seconds = 1.0\n\n"
            '[settlement]\nperiod = "daily"\ntick_seconds = 1.0\n\n'
            "[dev]\n# Plain http and loopback peers: only for instances on this machine.\ninsecure = true\n")


@asynccontextmanager
async def serving(root: Path, name: str, address: str, clock: ShiftedClock) -> AsyncIterator[Site]:
    """The site's folder and configuration written, its app listening on `address`; stopped cleanly on leaving."""
    port, folder = free_port(address), root / name
    folder.mkdir(parents=True)
    (folder / "mecene.toml").write_text(configuration(name, address, port, folder))
    instance = build_instance(load(folder / "mecene.toml", {}), clock)
    runner = web.AppRunner(create_app(instance), access_log=None)
    try:
        await runner.setup()
        await web.TCPSite(runner, address, port).start()
        yield Site(name, address, port, folder, instance)
    finally:
        await runner.cleanup()
