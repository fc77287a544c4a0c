"""The inbox case's load: activities signed ahead of time, then sent from a process of their own.

Signing costs about 0.7 ms of RSA per request here, three times what a server
that only verifies spends on one, so a generator that signed as it went would
measure itself. The pool is signed beforehand on every core, and the generator
process only writes whole requests to keep-alive connections. Signatures stay
valid for the receiver's Date window (one hour and five minutes), far longer
than a run.
"""

import asyncio
import json
import multiprocessing
import os
import re
import time
from collections import Counter
from collections.abc import Iterable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import chain, islice, zip_longest
from multiprocessing.connection import Connection
from urllib.parse import urlsplit

from federation.httpsig import load_private_key, sign_cavage

AS_CONTEXT = "https://www.w3.org/ns/activitystreams"
CONTENT_TYPE = "application/activity+json"
GRACE = 60.0
_CONTENT_LENGTH = re.compile(rb"(?i)\r\ncontent-length: *(\d+)")

Signed = tuple[bytes, dict[str, str]]


@dataclass(frozen=True)
class Author:
    actor: str
    key_id: str
    private_key_pem: str


@dataclass(frozen=True)
class Load:
    """What the generator saw; `exhausted` means the pool ran out before the time did.

    `consumed` counts the pool's requests from its start up to the last one a
    connection took, sent or not: a next window that must not repeat an activity
    starts there. `ok_by_port` splits the 2xx answers by the port they came from; `cpu_seconds` is the
    generator's own CPU time, so a report can tell its share of the machine from the server's;
    `started` is the window's start on the machine-wide time.monotonic() clock.
    """

    ok: int
    statuses: dict[int, int]
    seconds: float
    p50_ms: float
    p99_ms: float
    exhausted: bool
    ok_by_port: dict[int, int] = field(default_factory=dict)
    cpu_seconds: float = 0.0
    started: float = 0.0
    consumed: int = 0

    @property
    def rate(self) -> float:
        return self.ok / self.seconds if self.seconds else 0.0


def like(actor: str, name: str) -> bytes:
    """A distinct Like: a type the instance stores and ignores."""
    return json.dumps({"@context": AS_CONTEXT, "id": f"{actor}/likes/{name}", "type": "Like", "actor": actor,
                       "object": f"{actor}/notes/{name}"}).encode()


def sign_likes(author: Author, url: str, names: list[str]) -> list[Signed]:
    """Pool worker: one signed POST per name, all by `author`."""
    key, now = load_private_key(author.private_key_pem), datetime.now(UTC)
    signed = []
    for name in names:
        body = like(author.actor, name)
        signed.append((body, sign_cavage(method="POST", url=url, key_id=author.key_id, private_key=key, now=now,
                                         body=body, content_type=CONTENT_TYPE)))
    return signed


def presign(authors: list[Author], url: str, count: int, prefix: str = "load") -> list[Signed]:
    """`count` requests spread evenly over the authors, interleaved so neighbours come from different actors.

    Their Likes are named `prefix-n`: pools signed with different prefixes never share an activity.
    """
    share = -(-count // len(authors))
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=os.cpu_count() or 1, mp_context=context) as pool:
        batches = list(pool.map(sign_likes, authors, [url] * len(authors),
                                [[f"{prefix}-{i}" for i in range(share)]] * len(authors)))
    return [item for item in chain.from_iterable(zip_longest(*batches)) if item is not None][:count]


def _percentile(ordered: list[float], fraction: float) -> float:
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] * 1000 if ordered else 0.0


def _encoded(url: str, pool: list[Signed]) -> list[bytes]:
    """Whole HTTP/1.1 requests, so that sending one is a single write."""
    path = urlsplit(url).path
    return [f"POST {path} HTTP/1.1\r\n".encode()
            + "".join(f"{name}: {value}\r\n" for name, value in headers.items()).encode()
            + f"Content-Length: {len(body)}\r\n\r\n".encode() + body
            for body, headers in pool]


async def _answer(reader: asyncio.StreamReader) -> int:
    """Read one response on a keep-alive connection; aiohttp always sends Content-Length for these."""
    head = await reader.readuntil(b"\r\n\r\n")
    length = _CONTENT_LENGTH.search(head)
    if length is None:
        raise ConnectionError("response without Content-Length")
    await reader.readexactly(int(length.group(1)))
    return int(head[9:12])


async def _send_all(url: str, requests: Iterable[bytes], concurrency: int, duration: float,
                    ports: tuple[int, ...], rate: float | None = None) -> Load:
    """`concurrency` keep-alive connections, each sending its next request (`_encoded`) when the last is answered.

    A bare asyncio client, several times cheaper per request than aiohttp's, so the
    server rather than the generator sets the pace. The connections take `ports` in
    turn (the url's own port when empty); the requests keep the url's Host header, as
    behind a load balancer in front of several processes of one instance. With
    `rate`, the n-th request leaves no sooner than n/rate seconds after the start,
    whichever connection sends it: the same offered load whatever serves it, as
    long as the servers keep up.
    """
    loop, pending = asyncio.get_running_loop(), enumerate(requests)
    parts = urlsplit(url)
    ports = ports or (parts.port or 80,)
    statuses: Counter[int] = Counter()
    ok_by_port: Counter[int] = Counter()
    latencies: list[float] = []
    taken = 0
    opened = loop.time()
    deadline = opened + duration

    async def connection(port: int) -> None:
        nonlocal taken
        reader, writer = await asyncio.open_connection(parts.hostname, port)
        try:
            for n, request in pending:
                taken = max(taken, n + 1)
                if rate is not None:
                    await asyncio.sleep(max(0.0, opened + n / rate - loop.time()))
                if loop.time() >= deadline:
                    return
                start = time.perf_counter()
                writer.write(request)
                status = await _answer(reader)
                latencies.append(time.perf_counter() - start)
                statuses[status] += 1
                ok_by_port[port] += 200 <= status < 300
        finally:
            writer.close()

    start, cpu, started = time.perf_counter(), time.process_time(), time.monotonic()
    async with asyncio.timeout(duration + GRACE):
        outcomes = await asyncio.gather(*(connection(ports[n % len(ports)]) for n in range(concurrency)),
                                        return_exceptions=True)
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    broken = sum(isinstance(outcome, BaseException) for outcome in outcomes)
    if broken:
        statuses[0] += broken
    latencies.sort()
    ok = sum(n for status, n in statuses.items() if 200 <= status < 300)
    return Load(ok, dict(statuses), seconds, _percentile(latencies, 0.5), _percentile(latencies, 0.99),
                exhausted=loop.time() < deadline, ok_by_port=dict(ok_by_port), cpu_seconds=cpu,
                started=started, consumed=taken)


@dataclass(frozen=True)
class Order:
    """A window for a kept generator: send its pool's requests from `start` on (see `_send_all`).

    `ports`: spread the connections over these ports of the url's host; `rate`: requests
    per second offered, at most.
    """

    start: int
    concurrency: int
    duration: float
    ports: tuple[int, ...] = ()
    rate: float | None = None


def _serve_windows(url: str, orders: Connection) -> None:
    """A kept generator's process: adds the requests it is given to its pool, sends a window on each order."""
    requests: list[bytes] = []
    while (order := orders.recv()) is not None:
        if isinstance(order, Order):
            orders.send(asyncio.run(_send_all(url, islice(requests, order.start, None), order.concurrency,
                                              order.duration, order.ports, order.rate)))
        else:
            requests += _encoded(url, order)


class Generator:
    """A load generator in a process of its own, so the load does not share a server's interpreter.

    It is kept for many windows and holds its pool of requests: with many short
    windows, a process started and handed the pool for each would cost more
    than the load.
    """

    def __init__(self, url: str) -> None:
        context = multiprocessing.get_context("spawn")
        self._orders, there = context.Pipe()
        self._process = context.Process(target=_serve_windows, args=(url, there), daemon=True)
        self._process.start()
        self.size = 0

    def add(self, signed: list[Signed]) -> None:
        self._orders.send(signed)
        self.size += len(signed)

    def window(self, order: Order) -> Load:
        self._orders.send(order)
        if not self._orders.poll(order.duration + 2 * GRACE):
            raise TimeoutError("the load generator did not report")
        return self._orders.recv()

    def close(self) -> None:
        if self._process.is_alive():
            self._orders.send(None)
        self._process.join(GRACE)
        if self._process.is_alive():
            self._process.kill()
            self._process.join(5)
