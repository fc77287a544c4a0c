"""Outgoing HTTP client for federation.

Every URL we fetch was chosen by some peer, so each hop is re-validated
(scheme, literal address, and resolved address through `PolicyResolver`),
redirects are followed by hand so the guards and the signer see every hop,
and time and body size are capped so a hostile peer cannot tie up workers or
memory.

aiohttp itself is imported with the first request (`federation.http_session`),
so that building a client, as every `mecene` command does, costs nothing.
"""

from collections.abc import Awaitable, Callable, Mapping
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from multidict import CIMultiDict
from yarl import URL

from federation.addresses import AddressPolicy, UnsafeAddress, literal_ip
from federation.fetch_errors import (
    BlockedDomain,
    FetchError,
    error_for_status,
    parse_json_object,
    parse_retry_after,
    require_activitystreams,
    require_matching_id,
)

if TYPE_CHECKING:
    import aiohttp

__all__ = [
    "AP_ACCEPT", "BlockedDomain", "ClientOptions", "FederationClient", "FetchError", "Fetched", "PostResult", "Signer",
    "UnsafeAddress",
]

AP_ACCEPT = 'application/activity+json, application/ld+json; profile="https://www.w3.org/ns/activitystreams"'
Signer = Callable[[str, str, bytes | None, str | None], Mapping[str, str]]

_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_CHUNK_BYTES = 64 * 1024
_EXCERPT_CHARS = 200
_EXCERPT_BYTES = 4 * _EXCERPT_CHARS


@dataclass(frozen=True)
class ClientOptions:
    """`allow_insecure` is the dev setting: http:// and private/loopback peers.

    `allowed_addresses` are exact IPs reachable even though private, over http
    too when named literally in the URL (Mastodon's ALLOWED_PRIVATE_ADDRESSES;
    also what lets tests exercise the guards on loopback).
    """

    user_agent: str
    allow_insecure: bool = False
    connect_timeout: float = 5.0
    total_timeout: float = 30.0
    max_redirects: int = 3
    max_body_bytes: int = 1_048_576
    allowed_addresses: frozenset[str] = frozenset()


@dataclass(frozen=True)
class PostResult:
    """Outcome of a delivery; the caller decides about retries and dead letters."""

    status: int
    retry_after: float | None
    body_excerpt: str


@dataclass(frozen=True)
class Fetched:
    """A successful GET: the URL it finally came from (after redirects), its media type and body."""

    url: URL
    content_type: str
    body: bytes


class FederationClient:
    """One pooled, SSRF-guarded HTTP session for all federation traffic."""

    def __init__(self, options: ClientOptions, blocked: Callable[[str], Awaitable[bool]] | None = None) -> None:
        """`blocked(authority)`: whether the operator blocked that host; asked before every request and redirect."""
        self._options = options
        self._blocked = blocked
        self._policy = AddressPolicy(options.allow_insecure, options.allowed_addresses)
        self._session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> "FederationClient":
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def close(self) -> None:
        """Release pooled connections; the client can be reused afterwards."""
        session, self._session = self._session, None
        if session is not None:
            await session.close()

    async def fetch_object(self, url: str, *, signer: Signer | None = None) -> dict[str, Any]:
        """GET an ActivityPub document and prove it really lives at `url`."""
        fetched = await self._get(url, AP_ACCEPT, signer)
        require_activitystreams(fetched.content_type)
        doc = parse_json_object(fetched.body)
        require_matching_id(doc, url, fetched.url)
        return doc

    async def fetch_json(self, url: str, *, accept: str = "application/json",
                         signer: Signer | None = None) -> dict[str, Any]:
        """GET a plain JSON object (WebFinger, NodeInfo) under the same guards."""
        return parse_json_object((await self._get(url, accept, signer)).body)

    async def fetch(self, url: str, *, accept: str, signer: Signer | None = None) -> Fetched:
        """GET whatever `url` serves, for callers that negotiate between ActivityPub and HTML themselves."""
        return await self._get(url, accept, signer)

    async def post(self, url: str, body: bytes, *, signer: Signer,
                   content_type: str = "application/activity+json") -> PostResult:
        """Deliver `body`; redirects are returned, not followed, as a signed POST must not move."""
        target = await self._allowed_url(url)
        headers = self._headers("POST", target, signer, body=body, content_type=content_type)
        async with self._guarded():
            async with self._http().post(target, data=body, headers=headers, allow_redirects=False) as resp:
                excerpt = await _read_excerpt(resp)
                return PostResult(resp.status, parse_retry_after(resp.headers.get("Retry-After")), excerpt)

    async def _get(self, url: str, accept: str, signer: Signer | None) -> Fetched:
        """Follow redirects by hand so every hop is re-checked and signed for its own URL."""
        target = await self._allowed_url(url)
        async with self._guarded():
            for _ in range(self._options.max_redirects + 1):
                headers = self._headers("GET", target, signer, accept=accept)
                async with self._http().get(target, headers=headers, allow_redirects=False) as resp:
                    location = resp.headers.get("Location")
                    if resp.status in _REDIRECTS and location:
                        target = await self._allowed_url(location, base=target)
                        continue
                    if not 200 <= resp.status < 300:
                        raise error_for_status(resp.status)
                    body = await self._read_capped(resp)
                    return Fetched(target, resp.headers.get("Content-Type", ""), body)
        raise FetchError("too many redirects", code="too_many_redirects")

    async def _allowed_url(self, raw: str, base: URL | None = None) -> URL:
        url = self._checked_url(raw, base)
        if self._blocked is not None and await self._blocked(url.raw_authority):
            raise BlockedDomain()
        return url

    def _checked_url(self, raw: str, base: URL | None = None) -> URL:
        """Refuse before connecting: bad schemes, and literal IPs (they bypass the resolver)."""
        try:
            url = URL(raw) if base is None else base.join(URL(raw))
        except (TypeError, ValueError) as exc:
            raise FetchError("invalid URL", code="invalid_url") from exc
        if url.scheme not in ("http", "https"):
            raise UnsafeAddress("only http(s) URLs can be fetched", code="unsupported_scheme")
        if not url.host:
            raise FetchError("URL has no host", code="invalid_url")
        literal = literal_ip(url.host)
        if literal is not None:
            self._policy.check(literal)
        named = literal is not None and str(literal) in self._policy.allowed_addresses
        if url.scheme == "http" and not (self._options.allow_insecure or named):
            raise UnsafeAddress("plain http is not allowed", code="unsupported_scheme")
        return url.with_fragment(None)

    def _headers(self, method: str, url: URL, signer: Signer | None, *, accept: str | None = None,
                 body: bytes | None = None, content_type: str | None = None) -> CIMultiDict[str]:
        headers = CIMultiDict({"User-Agent": self._options.user_agent})
        if accept is not None:
            headers["Accept"] = accept
        if content_type is not None:
            headers["Content-Type"] = content_type
        if signer is not None:
            headers.update(signer(method, str(url), body, content_type))
        return headers

    def _guarded(self) -> AbstractAsyncContextManager[None]:
        from federation.http_session import guarded

        return guarded(self._options.total_timeout)

    async def _read_capped(self, resp: "aiohttp.ClientResponse") -> bytes:
        """Stop at the cap whether or not the peer declared a length, so memory stays bounded."""
        cap = self._options.max_body_bytes
        if resp.content_length is not None and resp.content_length > cap:
            raise FetchError("response body too large", code="too_large")
        body = bytearray()
        async for chunk in resp.content.iter_chunked(_CHUNK_BYTES):
            body += chunk
            if len(body) > cap:
                raise FetchError("response body too large", code="too_large")
        return bytes(body)

    def _http(self) -> "aiohttp.ClientSession":
        """Create the session lazily, as aiohttp binds it to the running loop."""
        if self._session is None:
            from federation.http_session import new_session

            self._session = new_session(self._policy, self._options.connect_timeout, self._options.total_timeout)
        return self._session


async def _read_excerpt(resp: "aiohttp.ClientResponse") -> str:
    """Keep only the start of a delivery answer: enough for the dead-letter view, bounded whatever the peer sends."""
    data = bytearray()
    async for chunk in resp.content.iter_chunked(_EXCERPT_BYTES):
        data += chunk
        if len(data) >= _EXCERPT_BYTES:
            break
    return data.decode("utf-8", "replace")[:_EXCERPT_CHARS]
