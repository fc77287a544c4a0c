"""The aiohttp side of the federation client: its session, the resolver that enforces the address policy, its errors.

`federation.client` imports this module when it makes its first request:
importing aiohttp costs a fifth of a second of CPU, which most `mecene`
commands, making no request at all, would pay for nothing.
"""

import asyncio
import contextlib
import ipaddress
import socket
from collections.abc import AsyncIterator

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import ThreadedResolver

from federation.addresses import AddressPolicy, UnsafeAddress
from federation.fetch_errors import FetchError

_LIMIT_PER_HOST = 8


class PolicyResolver(AbstractResolver):
    """Resolver that drops every address the policy refuses.

    Checking inside the resolver means the address we connect to is the very
    address we checked, so a peer cannot pass a check with one DNS answer and
    have us connect to another (DNS rebinding).
    """

    def __init__(self, policy: AddressPolicy, inner: AbstractResolver) -> None:
        self._policy = policy
        self._inner = inner

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        results = await self._inner.resolve(host, port, family)
        kept = [r for r in results if self._policy.allows(ipaddress.ip_address(r["host"]))]
        if not kept:
            raise UnsafeAddress("refusing to connect to a non-public address")
        return kept

    async def close(self) -> None:
        await self._inner.close()


def new_session(policy: AddressPolicy, connect_timeout: float, total_timeout: float) -> aiohttp.ClientSession:
    """A session whose every connection passes `policy`, made in the running loop, as aiohttp binds it there.

    No cookie jar: a peer must not plant state that rides along on later
    requests to other peers. Names are resolved by the system's getaddrinfo
    in a thread, not by aiodns where it is installed: each c-ares channel
    takes an inotify instance (128 per user by default), and one made past
    that limit falls back to a mode in which a lookup was seen never to
    end, holding the server's shutdown with it.
    """
    resolver = PolicyResolver(policy, ThreadedResolver())
    connector = aiohttp.TCPConnector(resolver=resolver, limit_per_host=_LIMIT_PER_HOST)
    timeout = aiohttp.ClientTimeout(total=total_timeout, sock_connect=connect_timeout, sock_read=total_timeout)
    return aiohttp.ClientSession(connector=connector, timeout=timeout, cookie_jar=aiohttp.DummyCookieJar())


@contextlib.asynccontextmanager
async def guarded(total_timeout: float) -> AsyncIterator[None]:
    """One deadline for the whole exchange, redirects included, and peer-neutral errors."""
    try:
        async with asyncio.timeout(total_timeout):
            yield
    except TimeoutError as exc:
        raise FetchError("peer timed out", code="timeout", transient=True) from exc
    except aiohttp.InvalidURL as exc:
        raise FetchError("invalid URL", code="invalid_url") from exc
    except aiohttp.ClientError as exc:
        raise FetchError("peer unreachable", code="unreachable", transient=True) from exc
