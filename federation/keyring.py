"""Private keys of local actors, parsed once and turned into request signers."""

import asyncio
import functools
from collections.abc import Callable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from federation.client import Signer
from federation.httpsig import load_private_key, sign_cavage
from federation.models import LocalActor
from federation.urls import InstanceUrls


def make_signer(key_id: str, private_key_pem: str, clock: Callable[[], datetime]) -> Signer:
    """A signer that signs like Mastodon does, with a fresh Date on every call.

    The key is parsed at the first signature: parsing an RSA key costs tens of
    milliseconds of CPU, which a `mecene` command that signs nothing would pay.
    """
    private_key = functools.cache(lambda: load_private_key(private_key_pem))

    def sign(method: str, url: str, body: bytes | None, content_type: str | None) -> dict[str, str]:
        return sign_cavage(
            method=method, url=url, key_id=key_id, private_key=private_key(), now=clock(),
            body=body, content_type=content_type,
        )

    return sign


class Keyring:
    """Each actor's key is read once per process, and parsed once, when it first signs."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], urls: InstanceUrls,
                 clock: Callable[[], datetime]) -> None:
        self._sessions = sessions
        self._urls = urls
        self._clock = clock
        self._signers: dict[str, Signer] = {}
        self._loading = asyncio.Lock()

    async def signer(self, username: str) -> Signer:
        if username in self._signers:
            return self._signers[username]
        async with self._loading:
            return await self._load(username)

    async def _load(self, username: str) -> Signer:
        """Under the lock, so a burst of deliveries from one actor reads its key once."""
        if username not in self._signers:
            async with self._sessions() as session:
                pem = await session.scalar(select(LocalActor.private_key_pem).where(LocalActor.username == username))
            if pem is None:
                raise LookupError(f"no local actor {username!r}")
            self._signers[username] = make_signer(self._urls.key_id(username), pem, self._clock)
        return self._signers[username]

    def cached(self, username: str) -> Signer:
        """The signer of an actor already loaded (the instance actor is loaded at start)."""
        return self._signers[username]
