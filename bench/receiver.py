"""The peer for the delivery case: answers 202 to POST /inbox/{n} on several ports of 127.0.0.1.

It runs in its own process so the sender under test has a core to itself.
Each port stands for one remote host (the delivery worker bounds concurrency
per host:port), and the receiver counts requests in flight per port so a
breach of that bound shows. Each answer waits `delay` seconds, a stand-in for
network latency without which requests would never overlap on loopback.
"""

import asyncio
import multiprocessing
import socket
from collections import Counter
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from multiprocessing.synchronize import Event

from aiohttp import web

from bench.loopback import HOST

MAX_LIFETIME = 900.0


@dataclass
class Tally:
    received: int = 0
    in_flight: Counter[int] = field(default_factory=Counter)
    peak: Counter[int] = field(default_factory=Counter)

    def as_dict(self) -> dict[str, object]:
        return {"received": self.received, "peak": {str(port): n for port, n in self.peak.items()}}


def _app(tally: Tally, delay: float) -> web.Application:
    async def inbox(request: web.Request) -> web.Response:
        port = request.transport.get_extra_info("sockname")[1] if request.transport else 0
        tally.in_flight[port] += 1
        tally.peak[port] = max(tally.peak[port], tally.in_flight[port])
        try:
            await request.read()
            await asyncio.sleep(delay)
        finally:
            tally.in_flight[port] -= 1
        tally.received += 1
        return web.Response(status=202)

    async def stats(request: web.Request) -> web.Response:
        return web.json_response(tally.as_dict())

    async def reset(request: web.Request) -> web.Response:
        tally.received, tally.peak = 0, Counter()
        return web.json_response(tally.as_dict())

    app = web.Application()
    app.router.add_routes([web.post("/inbox/{n}", inbox), web.get("/stats", stats), web.post("/reset", reset)])
    return app


async def _serve(sockets: list[socket.socket], stop: Event, delay: float) -> None:
    runner = web.AppRunner(_app(Tally(), delay), access_log=None)
    await runner.setup()
    for sock in sockets:
        await web.SockSite(runner, sock).start()
    try:
        await asyncio.to_thread(stop.wait, MAX_LIFETIME)
    finally:
        await runner.cleanup()


def serve(ports: Connection, stop: Event, count: int, delay: float) -> None:
    """Process entry point: bind `count` ports, send their numbers to the parent, serve until `stop`."""
    sockets = []
    for _ in range(count):
        sock = socket.socket()
        sock.bind((HOST, 0))
        sockets.append(sock)
    ports.send([sock.getsockname()[1] for sock in sockets])
    asyncio.run(_serve(sockets, stop, delay))


class Receiver:
    """Starts the receiving process and stops it on exit."""

    def __init__(self, ports: int, delay: float) -> None:
        context = multiprocessing.get_context("spawn")
        self._stop = context.Event()
        parent, child = context.Pipe()
        self._process = context.Process(target=serve, args=(child, self._stop, ports, delay), daemon=True)
        self._process.start()
        if not parent.poll(30):
            self.close()
            raise TimeoutError("the receiver did not report its ports")
        self.ports: list[int] = parent.recv()

    def inbox(self, n: int) -> str:
        return f"http://{HOST}:{self.ports[n % len(self.ports)]}/inbox/{n}"

    @property
    def control(self) -> str:
        return f"http://{HOST}:{self.ports[0]}"

    def close(self) -> None:
        self._stop.set()
        self._process.join(15)
        if self._process.is_alive():
            self._process.kill()
            self._process.join(5)
