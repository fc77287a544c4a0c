"""Failed logins counted per account and per client address, so that guessing a password is slow.

Counts live in memory: each process of an instance keeps its own, which keeps
the bound within a small factor of the configured one, and a restart forgets
them, which a remote guesser cannot cause. Old failures are dropped as they
age out, and the table is swept when it grows, so a flood of names cannot
fill memory.
"""

from collections import deque
from datetime import datetime, timedelta

WINDOW = timedelta(minutes=15)
PER_ACCOUNT = 10
PER_ADDRESS = 50
SWEEP_ABOVE = 10_000


class LoginLimits:
    def __init__(self) -> None:
        self._failures: dict[str, deque[datetime]] = {}

    def refused(self, username: str, address: str, now: datetime) -> bool:
        """True while the account or the address has used up its failures in the last WINDOW."""
        return (self._recent(f"account:{username}", now) >= PER_ACCOUNT
                or self._recent(f"address:{address}", now) >= PER_ADDRESS)

    def failed(self, username: str, address: str, now: datetime) -> None:
        if len(self._failures) > SWEEP_ABOVE:
            self._sweep(now)
        for key in (f"account:{username}", f"address:{address}"):
            self._failures.setdefault(key, deque()).append(now)

    def succeeded(self, username: str) -> None:
        self._failures.pop(f"account:{username}", None)

    def _recent(self, key: str, now: datetime) -> int:
        times = self._failures.get(key)
        if times is None:
            return 0
        while times and times[0] <= now - WINDOW:
            times.popleft()
        if not times:
            del self._failures[key]
        return len(times)

    def _sweep(self, now: datetime) -> None:
        for key in list(self._failures):
            self._recent(key, now)
