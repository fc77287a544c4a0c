"""When to try a failed delivery again, and when to give up: a pure policy."""

import random
from dataclasses import dataclass
from datetime import timedelta

#: Statuses worth retrying: 401 because keys rotate, 408/429 because the peer asked for patience.
RETRYABLE_4XX = frozenset({401, 408, 429})


@dataclass(frozen=True)
class RetryPolicy:
    """Mastodon's curve: with base 15 s the n-th retry waits about 15 + n**4 s (≈2 days over 16 tries)."""

    max_attempts: int = 16
    base_seconds: float = 15.0
    jitter: float = 0.25

    def delay(self, attempts: int, retry_after: float | None = None, rand: float | None = None) -> timedelta | None:
        """Delay before the next try after `attempts` failures, or None when the delivery is dead."""
        if attempts >= self.max_attempts:
            return None
        spread = 1 + self.jitter * (random.random() if rand is None else rand)
        seconds = self.base_seconds * (1 + attempts**4 / 15) * spread
        return timedelta(seconds=max(seconds, retry_after or 0.0))


def is_permanent(status: int) -> bool:
    """A 4xx other than 401/408/429, or 501: the peer will never accept this delivery."""
    return status == 501 or (400 <= status < 500 and status not in RETRYABLE_4XX)
