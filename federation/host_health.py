"""Per-host circuit breaker, written once per host for a whole batch of delivery outcomes.

A batch holds hundreds of outcomes for a handful of hosts; replaying them in
memory and writing each host's final count is what one row per outcome would
have written, without a round trip per outcome.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from common.sql import insert_many_ignoring_duplicates
from federation.models import HostHealth

#: (delivered, permanent) for one attempt: either resets a host's count; any other failure adds one.
Attempt = tuple[bool, bool]


@dataclass(frozen=True)
class Breaker:
    threshold: int
    cooldown: timedelta


def replay(failures: int, open_until: datetime | None, attempts: Iterable[Attempt], breaker: Breaker,
           now: datetime) -> tuple[int, datetime | None]:
    """The host's state after these attempts, in order: the circuit opens at `threshold` failures in a row."""
    for delivered, permanent in attempts:
        if delivered or permanent:
            failures, open_until = 0, None
            continue
        failures += 1
        if failures >= breaker.threshold:
            open_until = now + breaker.cooldown
    return failures, open_until


async def record(session: AsyncSession, attempts: Mapping[str, list[Attempt]], breaker: Breaker,
                 now: datetime) -> None:
    """Update every host of the batch; rows are locked in host order, so concurrent workers cannot deadlock."""
    hosts = sorted(attempts)
    table = HostHealth.__table__
    await insert_many_ignoring_duplicates(session, table, [{"host": host, "consecutive_failures": 0} for host in hosts])
    current = await session.execute(select(table.c.host, table.c.consecutive_failures, table.c.open_until)
                                    .where(table.c.host.in_(hosts)).order_by(table.c.host).with_for_update())
    states = [(host, *replay(failures, open_until, attempts[host], breaker, now))
              for host, failures, open_until in current]
    await session.execute(
        update(table).where(table.c.host == bindparam("b_host"))
        .values(consecutive_failures=bindparam("b_failures"), open_until=bindparam("b_open")),
        [{"b_host": host, "b_failures": failures, "b_open": open_until} for host, failures, open_until in states])
