"""Which servers speak Mecene, learned from their NodeInfo and remembered.

Money follows this answer (a payout to a Mecene instance, escrow otherwise),
so the document is fetched from the host itself, only its own metadata is
believed, and an answer is kept for a day before it is asked again. A server
that cannot be reached is not remembered: the caller decides what "unknown"
means for it.
"""

import re
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
#: The longest `acceptedCurrencies` list read; a longer one is not believed, and the peer's own currency stands.
MAX_ACCEPTED_CURRENCIES = 32
CURRENCY_CODE = re.compile(r"[A-Z]{3}")


@dataclass(frozen=True)
class InstanceInfo:
    host: str
    software: str
    mecene: bool
    currency: str | None
    instance_actor: str | None
    #: Currencies the instance lets other instances pay its creators in; empty for a server without Mecene.
    accepted_currencies: tuple[str, ...] = ()

    def accepts(self, currency: str) -> bool:
        """Whether it runs Mecene and its creators may be paid in `currency`."""
        return self.mecene and currency in self.accepted_currencies


class InstanceDirectory:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], client: FederationClient, *, scheme: str,
                 clock: Callable[[], datetime]) -> None:
        self._sessions = sessions
        self._client = client
        self._scheme = scheme
        self._clock = clock

    async def info(self, host: str, *, ask: bool = False) -> InstanceInfo:
        """What `host` is, from memory when fresh unless `ask`; raises FederationError when it cannot be asked.

        Memory serves when the host cannot be asked, even with `ask`.
        """
        async with self._sessions() as session:
            row = await session.get(KnownInstance, host)
        if row is not None and not ask and self._clock() - row.checked_at < REFRESH:
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
    actor = actor if isinstance(actor, str) and urlsplit(actor).netloc == host else None
    currency = currency if isinstance(currency, str) and len(currency) == 3 else None
    if actor is None or currency is None:
        return InstanceInfo(host, name, False, currency, actor)
    return InstanceInfo(host, name, True, currency, actor, _accepted(mecene.get("acceptedCurrencies"), currency))


def _accepted(listed: object, currency: str) -> tuple[str, ...]:
    """The codes a peer lists, each once, anything but a three-letter code left out; its currency alone when none.

    An instance older than the list accepts only its own currency; a list too long to be meant is not believed.
    """
    if not isinstance(listed, list) or len(listed) > MAX_ACCEPTED_CURRENCIES:
        return (currency,)
    codes = tuple(dict.fromkeys(code for code in listed if isinstance(code, str) and CURRENCY_CODE.fullmatch(code)))
    return codes or (currency,)


def _info(row: KnownInstance) -> InstanceInfo:
    return InstanceInfo(row.host, row.software, row.mecene, row.currency, row.instance_actor,
                        tuple(row.accepted_currencies))
