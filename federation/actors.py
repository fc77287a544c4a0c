"""Remote actors and their public keys.

Keys are cached as parsed key objects (parsing PEM costs more than verifying),
backed by `fed_remote_actors`, and re-fetched at most once per
`refetch_interval` per key, which limits key-fetch amplification by forged
requests while still following key rotation.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from common.sql import upsert
from federation.client import FederationClient, Signer
from federation.errors import FederationError
from federation.httpsig import load_public_key
from federation.models import RemoteActor
from federation.vocab import ACTOR_TYPES

Clock = Callable[[], datetime]
_STORED_COLUMNS = ("uri", "key_id", "public_key_pem", "inbox", "shared_inbox", "document", "fetched_at")


class ActorError(FederationError):
    code = "bad_actor"


@dataclass(frozen=True)
class CachedKey:
    key_id: str
    owner: str
    public_key: Any
    fetched_at: datetime


class ActorStore:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        client: FederationClient,
        signer: Callable[[], Signer],
        clock: Clock,
        refetch_interval: timedelta = timedelta(seconds=30),
    ) -> None:
        self._sessions = sessions
        self._client = client
        self._signer = signer
        self._clock = clock
        self._refetch_interval = refetch_interval
        self._keys: dict[str, CachedKey] = {}

    async def key_for(self, key_id: str) -> CachedKey:
        """The key named by `key_id`, from memory, the database, or its origin."""
        if key_id in self._keys:
            return self._keys[key_id]
        async with self._sessions() as session:
            row = await session.scalar(select(RemoteActor).where(RemoteActor.key_id == key_id))
        if row is not None:
            return self._remember(row)
        return await self._fetch_key(key_id)

    async def refresh(self, key_id: str) -> CachedKey | None:
        """Fetch the key again, unless it was fetched too recently to have rotated."""
        cached = self._keys.get(key_id)
        if cached and self._clock() - cached.fetched_at < self._refetch_interval:
            return None
        return await self._fetch_key(key_id)

    async def actor(self, uri: str) -> RemoteActor:
        """The stored actor, fetched from its origin the first time."""
        async with self._sessions() as session:
            row = await session.scalar(select(RemoteActor).where(RemoteActor.uri == uri))
        if row is not None:
            return row
        document = await self._client.fetch_object(uri, signer=self._signer())
        return await self._store(document)

    async def forget(self, session: AsyncSession, uri: str) -> None:
        """Drop what we cached of an actor that deleted itself."""
        await session.execute(delete(RemoteActor).where(RemoteActor.uri == uri))
        for key_id in [k for k, v in self._keys.items() if v.owner == uri]:
            del self._keys[key_id]

    async def _fetch_key(self, key_id: str) -> CachedKey:
        document = await self._client.fetch_object(key_id.split("#", 1)[0], signer=self._signer())
        if document.get("type") not in ACTOR_TYPES and isinstance(document.get("owner"), str):
            document = await self._client.fetch_object(document["owner"], signer=self._signer())
        if urlsplit(str(document.get("id"))).netloc != urlsplit(key_id).netloc:
            raise ActorError("The key's owner is on another host than the key.", code="key_not_owned")
        if _public_key_pem(document, key_id) is None:
            raise ActorError("The key's owner does not publish that key.", code="key_not_owned")
        return self._remember(await self._store(document, key_id))

    async def _store(self, document: dict[str, Any], key_id: str | None = None) -> RemoteActor:
        """Insert or refresh the actor in one upsert, so concurrent first fetches of it agree.

        On PostgreSQL, two first inserts racing on one actor can trip the key's
        unique index before the upsert's own conflict check on the URI; the loser
        then simply runs again and updates the winner's row.
        """
        row = _row_from_document(document, key_id, self._clock())
        try:
            await self._upsert(row)
        except IntegrityError:
            await self._upsert(row)
        return row

    async def _upsert(self, row: RemoteActor) -> None:
        values = {column: getattr(row, column) for column in _STORED_COLUMNS}
        async with self._sessions() as session, session.begin():
            await session.execute(delete(RemoteActor).where(
                RemoteActor.key_id == row.key_id, RemoteActor.uri != row.uri))
            await upsert(session, RemoteActor.__table__, values, key="uri")

    def _remember(self, row: RemoteActor) -> CachedKey:
        key = CachedKey(row.key_id, row.uri, load_public_key(row.public_key_pem), row.fetched_at)
        self._keys[row.key_id] = key
        return key


def _public_key_pem(document: dict[str, Any], key_id: str | None) -> tuple[str, str] | None:
    """(key id, PEM) of the actor's key; Mastodon sends one dict, some servers a list."""
    keys = document.get("publicKey")
    for key in keys if isinstance(keys, list) else [keys]:
        if not isinstance(key, dict) or not isinstance(key.get("publicKeyPem"), str):
            continue
        if key_id is None or key.get("id") == key_id:
            return str(key.get("id")), key["publicKeyPem"]
    return None


def _row_from_document(document: dict[str, Any], key_id: str | None, now: datetime) -> RemoteActor:
    if document.get("type") not in ACTOR_TYPES:
        raise ActorError("The document is not an actor.", code="not_an_actor")
    key = _public_key_pem(document, key_id)
    inbox = document.get("inbox")
    if key is None or not isinstance(inbox, str):
        raise ActorError("The actor has no public key or no inbox.", code="not_an_actor")
    endpoints = document.get("endpoints")
    shared = endpoints.get("sharedInbox") if isinstance(endpoints, dict) else None
    return RemoteActor(
        uri=document["id"], key_id=key[0], public_key_pem=key[1], inbox=inbox,
        shared_inbox=shared if isinstance(shared, str) else None, document=document, fetched_at=now,
    )
