"""Sign-ups counted per client address, so that one visitor cannot fill the instance with accounts.

A sign-up is counted when it is admitted, before its password is hashed and
its account written, so many sent at once are held to the limit like many
sent one by one; one refused (a taken name) is forgiven, as it made nothing.
Counts live in memory, per process, like the login limits
(`server/web/login_limits.py`); the limit and its window are settings
(`instance.signups_per_address`, `instance.signup_window_minutes`).
"""

from collections import deque
from datetime import datetime, timedelta

from aiohttp import web

SWEEP_ABOVE = 10_000


class SignupLimits:
    def __init__(self, per_address: int, window: timedelta) -> None:
        self._per_address, self._window = per_address, window
        self._admitted: dict[str, deque[datetime]] = {}

    def admit(self, address: str, now: datetime) -> bool:
        """Counts the sign-up and says True, or False without counting it once the address has used its share."""
        if len(self._admitted) > SWEEP_ABOVE:
            for key in list(self._admitted):
                self._recent(key, now)
        if self._recent(address, now) >= self._per_address:
            return False
        self._admitted.setdefault(address, deque()).append(now)
        return True

    def forgive(self, address: str, admitted: datetime) -> None:
        """The sign-up admitted at `admitted` made no account."""
        times = self._admitted.get(address)
        if times is not None and admitted in times:
            times.remove(admitted)

    def _recent(self, address: str, now: datetime) -> int:
        times = self._admitted.get(address)
        if times is None:
            return 0
        while times and times[0] <= now - self._window:
            times.popleft()
        if not times:
            del self._admitted[address]
        return len(times)


signup_limits_key = web.AppKey("signup_limits", SignupLimits)
