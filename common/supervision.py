"""One supervised loop for every background worker: a failed round is logged, waited out, and the work goes on.

A worker that dies on one error (a database restart, a bug met by one row)
stops delivering, processing or settling until the process restarts, and
nothing says so but a traceback. Each worker runs its rounds through
`supervise`: an exception is logged with the worker's name, the loop waits
(1 s, then twice as long after each failure in a row, at most a minute, so a
database that is away is not hammered) and starts the next round.
Cancellation, which is how a stopping server ends its workers, is not an
error and passes through.
"""

import asyncio
import logging
from collections.abc import Awaitable, Callable

log = logging.getLogger(__name__)

FIRST_DELAY = 1.0
MAX_DELAY = 60.0


def delay_after(failures: int, first: float = FIRST_DELAY, cap: float = MAX_DELAY) -> float:
    """Seconds to wait after `failures` failed rounds in a row (1, 2, 4… up to `cap`)."""
    return float(min(cap, first * 2 ** max(0, failures - 1)))


async def supervise(name: str, round_: Callable[[], Awaitable[object]], *, first_delay: float = FIRST_DELAY) -> None:
    """Run `round_` forever; it does one round of work and any idle wait itself."""
    failures = 0
    while True:
        try:
            await round_()
        except Exception:
            failures += 1
            wait = delay_after(failures, first_delay)
            log.exception("%s failed (%d in a row); trying again in %.0f s", name, failures, wait)
            await asyncio.sleep(wait)
        else:
            failures = 0
