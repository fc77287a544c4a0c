"""How pages name fediverse actors: @name@host, as people write them, instead of actor URIs."""

from collections.abc import Iterable
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from federation.models import RemoteActor
from federation.urls import InstanceUrls


async def actor_labels(session: AsyncSession, urls: InstanceUrls, uris: Iterable[str]) -> dict[str, str]:
    """Local actors by username, others by the name their stored actor gives; the URI when we never met it."""
    wanted = set(uris)
    labels = {uri: uri for uri in wanted}
    remote = [uri for uri in wanted if not urls.is_local(uri)]
    for uri in wanted - set(remote):
        username = urls.username_of(uri)
        labels[uri] = f"@{username}@{urls.host}" if username else uri
    if remote:
        rows = await session.execute(select(RemoteActor.uri, RemoteActor.document).where(RemoteActor.uri.in_(remote)))
        for uri, document in rows:
            name = document.get("preferredUsername") if isinstance(document, dict) else None
            if isinstance(name, str) and name:
                labels[uri] = f"@{name}@{urlsplit(uri).netloc}"
    return labels
