"""Login attempts counted per address and account, so that guessing a password is slow and locks out only the guesser.

Each attempt is counted as a failure when it is admitted, before its password
is checked, and forgiven only if the password was right: thirty guesses sent
at once are thirty attempts, not thirty checks that all passed the limit
before the first failure was written down.

The limit that matters is per (address, account) pair: ten failures lock that
address out of that account for a quarter of an hour, and the account's owner
elsewhere keeps their own tries, so anyone can no longer lock anyone out. Two
ceilings bound the rest: an address that fails fifty times is locked out of
every account (one guesser trying many names), and an account that fails a
hundred times from all addresses together is locked for everyone (a guesser
with many addresses), far more than its owner would ever use up.

Counts live in memory: each process of an instance keeps its own, which keeps
the bound within a small factor of the configured one, and a restart forgets
them, which a remote guesser cannot cause. Old failures are dropped as they
age out, and the table is swept when it grows, so a flood of names cannot
fill memory.
"""

from collections import deque
from datetime import datetime, timedelta

WINDOW = timedelta(minutes=15)
PER_PAIR = 10
PER_ADDRESS = 50
PER_ACCOUNT = 100
SWEEP_ABOVE = 10_000


class LoginLimits:
    def __init__(self) -> None:
        self._failures: dict[str, deque[datetime]] = {}

    def admit(self, username: str, address: str, now: datetime) -> bool:
        """Counts the attempt as failed and says True, or False without counting it once a limit is reached."""
        limited = _limited(username, address)
        if any(self._recent(key, now) >= limit for key, limit in limited):
            return False
        if len(self._failures) > SWEEP_ABOVE:
            self._sweep(now)
        for key, _ in limited:
            self._failures.setdefault(key, deque()).append(now)
        return True

    def succeeded(self, username: str, address: str, admitted: datetime) -> None:
        """The attempt admitted at `admitted` had the right password: it was no failure, and the pair starts afresh."""
        pair, *ceilings = (key for key, _ in _limited(username, address))
        self._failures.pop(pair, None)
        for key in ceilings:
            times = self._failures.get(key)
            if times is not None and admitted in times:
                times.remove(admitted)

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


def _limited(username: str, address: str) -> list[tuple[str, int]]:
    """The counters an attempt goes into, each with its limit; the pair's first."""
    return [(f"pair:{address} {username}", PER_PAIR), (f"address:{address}", PER_ADDRESS),
            (f"account:{username}", PER_ACCOUNT)]
