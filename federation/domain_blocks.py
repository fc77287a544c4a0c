"""Domain blocks: servers this instance refuses to federate with, in either direction.

A block names a host (`example.com`, which covers its subdomains and every
port, as Mastodon's domain blocks do) or one origin (`example.com:8443`, for
instances told apart only by their port). The inbox answers 403 to an
activity whose actor lives on a blocked domain, before any key is fetched,
and the federation client sends no request to one (redirects included): a
delivery refused that way becomes a dead letter, so unblocking and retrying
from the dead letters sends it after all.
"""

import asyncio
import ipaddress
import time
import unicodedata
from collections.abc import Callable
from datetime import datetime
from urllib.parse import urlsplit

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from common.sql import insert_ignoring_duplicates, rowcount
from federation.models import DomainBlock

#: How long a process trusts its copy of the block list; another process's change is seen within this time.
REFRESH_SECONDS = 10.0
BLOCKED_DELIVERY = "not sent: the domain is blocked on this instance"


#: The longest block the table stores (its `domain` column); no host name is longer than 253 characters.
DOMAIN_MAX = 255
#: The longest reason kept (its `reason` column); a longer one is cut.
REASON_MAX = 500


class InvalidBlock(ValueError):
    """A block that cannot be made as typed; the message is meant for the operator who typed it."""


def normalize_domain(typed: str) -> str:
    """`Example.COM.`, `https://example.com/path` and ` example.com ` all name `example.com`.

    Whatever is refused is refused here, before any statement: urllib raises
    ValueError on some hosts (`[::1`, one that changes under NFKC), and a NUL,
    a lone surrogate (a command line's non-UTF-8 bytes) or a name longer than
    the column would fail at the database, differently on each.
    """
    text = typed.strip().lower()
    if not text.isprintable() or any(character.isspace() for character in text):
        raise _not_a_domain(typed)
    try:
        parts = urlsplit(text if "://" in text else f"//{text}")
    except ValueError:
        raise _not_a_domain(typed) from None
    try:
        host, port = (parts.hostname or "").rstrip("."), parts.port
    except ValueError:
        raise InvalidBlock(f"{typed.strip()!r} has a port that is not a number.") from None
    if not _looks_like_a_host(host):
        raise _not_a_domain(typed)
    host = f"[{host}]" if ":" in host else host
    name = f"{host}:{port}" if port else host
    if len(name) > DOMAIN_MAX:
        raise InvalidBlock(f"A domain is at most {DOMAIN_MAX} characters.")
    return name


def _not_a_domain(typed: str) -> InvalidBlock:
    return InvalidBlock(f"{typed.strip()!r} is not a domain: write it as example.com or example.com:8443.")


def checked_reason(typed: str) -> str:
    """One line of text, cut to its column's length.

    A NUL or a lone surrogate (a command line's non-UTF-8 bytes) cannot be
    stored, and a line break or a tab would break the table `mecene block
    list` prints: control characters and surrogates are refused.
    """
    reason = typed.strip()
    if any(unicodedata.category(character) in ("Cc", "Cs") for character in reason):
        raise InvalidBlock("A reason is one line of text, without control characters.")
    return reason[:REASON_MAX]


def _looks_like_a_host(host: str) -> bool:
    """A dotted name, an IP address or localhost: a single word is more likely a typing slip than a server."""
    return "." in host or ":" in host or host == "localhost"


def names_for(netloc: str) -> set[str]:
    """Every block entry that would cover `netloc` (host[:port]): the origin, the host and its parent domains."""
    parts = urlsplit(f"//{netloc.lower()}")
    host = (parts.hostname or "").rstrip(".")
    if _is_address(host):
        names = {f"[{host}]" if ":" in host else host}
    else:
        labels = host.split(".")
        names = {".".join(labels[index:]) for index in range(len(labels))}
    try:
        port = parts.port
    except ValueError:
        port = None
    return names | ({f"{name}:{port}" for name in names} if port else set())


def _is_address(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


async def block(session: AsyncSession, domain: str, reason: str, now: datetime) -> bool:
    """True when the block is new; blocking a blocked domain again changes nothing."""
    return await insert_ignoring_duplicates(session, DomainBlock.__table__, {
        "domain": normalize_domain(domain), "reason": checked_reason(reason), "created_at": now})


async def unblock(session: AsyncSession, domain: str) -> bool:
    result = await session.execute(delete(DomainBlock).where(DomainBlock.domain == normalize_domain(domain)))
    return bool(rowcount(result))


async def listed(session: AsyncSession) -> list[DomainBlock]:
    return list(await session.scalars(select(DomainBlock).order_by(DomainBlock.domain)))


class DomainBlocks:
    """The block list as one process sees it: read from the database at most every `REFRESH_SECONDS`.

    Every inbox POST asks, so the answer must not cost a query each time, nor
    a query for each request in flight when the list is due again (a busy
    inbox has dozens): they all wait for one read. A change made in this
    process calls `forget` and is seen at once.
    """

    def __init__(self, sessions: async_sessionmaker[AsyncSession],
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self._sessions = sessions
        self._monotonic = monotonic
        self._domains: frozenset[str] = frozenset()
        self._loaded_at: float | None = None
        self._reading: asyncio.Task[None] | None = None

    async def is_blocked(self, netloc: str) -> bool:
        if self._loaded_at is None or self._monotonic() - self._loaded_at >= REFRESH_SECONDS:
            await self._read_once()
        return bool(self._domains) and not self._domains.isdisjoint(names_for(netloc))

    def forget(self) -> None:
        """The next question reads the list again; a read begun before the change is not kept."""
        self._loaded_at = None
        self._reading = None

    async def _read_once(self) -> None:
        """One read for every request that finds the list stale; shielded, so a client gone cancels it for none."""
        if self._reading is None or self._reading.done():
            self._reading = asyncio.create_task(self._reload())
        await asyncio.shield(self._reading)

    async def _reload(self) -> None:
        async with self._sessions() as session:
            domains = frozenset(await session.scalars(select(DomainBlock.domain)))
        if self._reading is asyncio.current_task():
            self._domains, self._loaded_at = domains, self._monotonic()
