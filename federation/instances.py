"""Which servers speak Mecene, learned from their NodeInfo and remembered.

Money follows this answer (a payout to a Mecene instance, escrow otherwise),
so the document is fetched from the host itself, only its own metadata is
believed, and an answer is kept for a day before it is asked again. A server
that cannot be reached is not remembered: the caller decides what "unknown"
means for it.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from common.sql import upsert
from federation.client import FederationClient
from federation.errors import FederationError
from federation.models import KnownInstance
from federation.wellknown import NODEINFO_21_SCHEMA

NODEINFO_RELS = (NODEINFO_21_SCHEMA, "http://nodeinfo.diaspora.software/ns/schema/2.0")
REFRESH = timedelta(days=1)


@dataclass(frozen=True)
class InstanceInfo:
    host: str
    software: str
    mecene: bool
    currency: str | None
    instance_actor: str | None


class InstanceDirectory:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], client: FederationClient, *, scheme: str,
                 clock: Callable[[], datetime]) -> None:
        self._sessions = sessions
        self._client = client
        self._scheme = scheme
        self._clock = clock

    async def info(self, host: str) -> InstanceInfo:
        """What `host` is, from memory when fresh; raises FederationError when it cannot be asked."""
        async with self._sessions() as session:
            row = await session.get(KnownInstance, host)
        if row is not None and self._clock() - row.checked_at < REFRESH:
            return _info(row)
        try:
            found = await self._probe(host)
        except FederationError:
            if row is not None:
                return _info(row)
            raise
        async with self._sessions() as session, session.begin():
            await upsert(session, KnownInstance.__table__, {**found.__dict__, "checked_at": self._clock()}, key="host")
        return found

    async def known(self, session: AsyncSession, host: str) -> InstanceInfo | None:
        """What we last learned of `host`, read in the caller's transaction; no network."""
        row = await session.get(KnownInstance, host)
        return None if row is None else _info(row)

    async def _probe(self, host: str) -> InstanceInfo:
        links = await self._client.fetch_json(f"{self._scheme}://{host}/.well-known/nodeinfo")
        href = _nodeinfo_href(links, host)
        if href is None:
            return InstanceInfo(host, "unknown", False, None, None)
        return _from_nodeinfo(host, await self._client.fetch_json(href))


def _nodeinfo_href(links: dict[str, Any], host: str) -> str | None:
    """The newest NodeInfo the host links, and only on the host itself."""
    found = {link.get("rel"): link.get("href") for link in links.get("links", []) if isinstance(link, dict)}
    for rel in NODEINFO_RELS:
        href = found.get(rel)
        if isinstance(href, str) and urlsplit(href).netloc == host:
            return href
    return None


def _from_nodeinfo(host: str, document: dict[str, Any]) -> InstanceInfo:
    software = document.get("software")
    name = str(software.get("name", "unknown"))[:64] if isinstance(software, dict) else "unknown"
    metadata = document.get("metadata")
    mecene = metadata.get("mecene") if isinstance(metadata, dict) else None
    if not isinstance(mecene, dict):
        return InstanceInfo(host, name, False, None, None)
    currency, actor = mecene.get("currency"), mecene.get("instanceActor")
    actor_ok = isinstance(actor, str) and urlsplit(actor).netloc == host
    currency_ok = isinstance(currency, str) and len(currency) == 3
    return InstanceInfo(host, name, actor_ok and currency_ok, currency if currency_ok else None,
                        actor if actor_ok else None)


def _info(row: KnownInstance) -> InstanceInfo:
    return InstanceInfo(row.host, row.software, row.mecene, row.currency, row.instance_actor)
