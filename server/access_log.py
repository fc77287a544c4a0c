"""The access log of `mecene serve`: a line per answer, written to standard error in batches.

aiohttp's own access logger makes a `logging` record per request, formats it
and writes and flushes it alone: that was a fifth of the processor time an
activity costs the inbox (`make bench`). These lines are formatted at once, in
the shape `server.logs` gives every other record (text, or a JSON object with
the same members), and written together FLUSH_SECONDS after the first of them
at the latest, or as soon as MAX_WAITING wait. A process killed outright loses
at most that much of its access log, as nginx's buffered access log does; one
that stops writes what waits as the application is cleaned up.
"""

import asyncio
import json
import sys
import time as clock

from aiohttp.abc import AbstractAccessLogger
from aiohttp.web import BaseRequest, StreamResponse

from server.logs import json_members

#: The longest a line waits before it is written.
FLUSH_SECONDS = 0.2
#: Lines written together at the latest, so a burst holds little memory.
MAX_WAITING = 500
LOGGER = "aiohttp.access"


class WaitingLines:
    """Lines formatted but not written yet: one batch per process, as standard error is one."""

    def __init__(self) -> None:
        self._lines: list[str] = []

    def add(self, line: str) -> None:
        if not self._lines:
            asyncio.get_running_loop().call_later(FLUSH_SECONDS, self.flush)
        self._lines.append(line)
        if len(self._lines) >= MAX_WAITING:
            self.flush()

    def flush(self) -> None:
        if self._lines:
            sys.stderr.write("".join(self._lines))
            sys.stderr.flush()
            self._lines.clear()


WAITING = WaitingLines()


def request_line(request: BaseRequest, response: StreamResponse, seconds: float) -> str:
    """Address, request, status, body size, seconds, user agent: aiohttp's `%a "%r" %s %b %Tf "%{User-Agent}i"`.

    The request's target is the one it sent (`raw_path`), which a parsed and
    rebuilt URL (`path_qs`) only repeats at a cost.
    """
    version = request.version
    return (f'{request.remote or "-"} "{request.method} {request.raw_path} HTTP/{version.major}.{version.minor}" '
            f'{response.status} {response.body_length} {seconds:.6f} "{request.headers.get("User-Agent", "-")}"')


class LocalTime:
    """`2026-12-03 10:00:00,123` in local time, as logging's asctime; the date and time formatted once a second."""

    def __init__(self) -> None:
        self._second = -1
        self._formatted = ""

    def stamp(self, now: float) -> str:
        second = int(now)
        if second != self._second:
            self._second, self._formatted = second, clock.strftime("%Y-%m-%d %H:%M:%S", clock.localtime(second))
        return f"{self._formatted},{int((now - second) * 1000):03d}"


class TextAccessLog(AbstractAccessLogger):
    """`2026-12-03 10:00:00,123 INFO aiohttp.access: 127.0.0.1 "GET / HTTP/1.1" 200 …`, as `logs.TextFormatter`."""

    local_time = LocalTime()

    def log(self, request: BaseRequest, response: StreamResponse, time: float) -> None:
        stamp = self.local_time.stamp(clock.time())
        WAITING.add(f"{stamp} INFO {LOGGER}: {request_line(request, response, time)}\n")


class JsonAccessLog(AbstractAccessLogger):
    """One JSON object a line, with the members `logs.JsonFormatter` writes."""

    def log(self, request: BaseRequest, response: StreamResponse, time: float) -> None:
        document = json_members(clock.time(), "info", LOGGER, request_line(request, response, time))
        WAITING.add(json.dumps(document) + "\n")


ACCESS_LOGS: dict[str, type[AbstractAccessLogger]] = {"text": TextAccessLog, "json": JsonAccessLog}
