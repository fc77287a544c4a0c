"""The federation client against real HTTP servers on loopback."""

import asyncio
import json
import socket
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from email.utils import formatdate

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from federation.client import AP_ACCEPT, ClientOptions, FederationClient, FetchError, UnsafeAddress

UA = "Mecene/0.1.0 (+https://example.org/)"
AS_TYPE = "application/activity+json"
AS_PROFILE = 'application/ld+json; profile="https://www.w3.org/ns/activitystreams"'
CAP = 1024
CONTENT_TYPES = {
    "html": "text/html",
    "json": "application/json",
    "ld": "application/ld+json",
    "ld-profile": AS_PROFILE,
    "ld-profiles": 'application/ld+json;profile="https://example.org/x https://www.w3.org/ns/activitystreams"',
    "as-charset": "Application/Activity+JSON; charset=utf-8",
}


@dataclass
class PeerState:
    hits: list[tuple[str, str, dict[str, str], bytes]] = field(default_factory=list)
    release: asyncio.Event = field(default_factory=asyncio.Event)
    redirect_to: str = ""
    claim_id: str = ""


STATE = web.AppKey("state", PeerState)


@dataclass
class Peer:
    server: TestServer
    state: PeerState

    def url(self, path: str) -> str:
        return str(self.server.make_url(path))


def _doc(doc_id: str, content_type: str = AS_TYPE) -> web.Response:
    return web.Response(text=json.dumps({"id": doc_id, "type": "Note"}), content_type=None,
                        headers={"Content-Type": content_type})


def _self_url(request: web.Request) -> str:
    return f"http://{request.host}{request.path_qs}"


async def _streamed_big(request: web.Request) -> web.StreamResponse:
    response = web.StreamResponse(headers={"Content-Type": AS_TYPE})
    response.enable_chunked_encoding()
    await response.prepare(request)
    for _ in range(4):
        await response.write(b" " * (CAP // 2))
    return response


async def _declared_big(request: web.Request) -> web.StreamResponse:
    """Announces a huge body and then stalls: only the declared length can refuse it in time."""
    response = web.StreamResponse(headers={"Content-Type": AS_TYPE})
    response.content_length = 10**9
    await response.prepare(request)
    await response.write(b" ")
    await request.app[STATE].release.wait()
    return response


async def _slow(request: web.Request) -> web.Response:
    await request.app[STATE].release.wait()
    return _doc(_self_url(request))


async def _redirect(request: web.Request) -> web.Response:
    n = int(request.match_info["n"])
    if n == 0:
        return _doc(_self_url(request))
    raise web.HTTPFound(f"/redirect/{n - 1}")


async def _retry_after(request: web.Request) -> web.Response:
    value = "120" if request.match_info["kind"] == "seconds" else formatdate(time.time() + 60, usegmt=True)
    return web.Response(status=429, text="slow down " * 100, headers={"Retry-After": value})


@web.middleware
async def _record(request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]):
    hit = (request.method, request.path_qs, dict(request.headers), await request.read())
    request.app[STATE].hits.append(hit)
    return await handler(request)


def _sync(make: Callable[[web.Request], web.Response]) -> Callable[[web.Request], Awaitable[web.Response]]:
    async def handle(request: web.Request) -> web.Response:
        return make(request)
    return handle


def _peer_app() -> web.Application:
    app = web.Application(middlewares=[_record])
    app[STATE] = PeerState()
    routes = {
        "/note": lambda r: _doc(_self_url(r)),
        "/typed/{kind}": lambda r: _doc(_self_url(r), CONTENT_TYPES[r.match_info["kind"]]),
        "/wrong-id": lambda r: _doc(f"http://{r.host}/other"),
        "/claim": lambda r: _doc(r.app[STATE].claim_id),
        "/plain": lambda r: web.json_response({"subject": "acct:a@b"}),
        "/array": lambda r: web.json_response([1, 2]),
        "/nan": lambda r: web.Response(text='{"subject": "acct:a@b", "score": NaN}', content_type="application/json"),
        "/status/{code}": lambda r: web.Response(status=int(r.match_info["code"])),
    }
    for path, make in routes.items():
        app.router.add_get(path, _sync(make))
    moved = _sync(lambda r: web.Response(status=302, headers={"Location": r.app[STATE].redirect_to}))
    app.router.add_route("*", "/moved", moved)
    app.router.add_get("/redirect/{n}", _redirect)
    app.router.add_get("/declared-big", _declared_big)
    app.router.add_get("/streamed-big", _streamed_big)
    app.router.add_get("/slow", _slow)
    app.router.add_post("/inbox/{kind}", _retry_after)
    return app


@pytest.fixture
async def make_peer(aiohttp_server) -> AsyncIterator[Callable[..., Awaitable[Peer]]]:
    peers: list[Peer] = []

    async def make(host: str = "127.0.0.1") -> Peer:
        app = _peer_app()
        peers.append(Peer(await aiohttp_server(app, host=host), app[STATE]))
        return peers[-1]

    yield make
    for peer in peers:
        peer.state.release.set()


@pytest.fixture
async def peer(make_peer) -> Peer:
    return await make_peer()


def _options(**overrides: object) -> ClientOptions:
    base: dict[str, object] = {"user_agent": UA, "connect_timeout": 10.0, "total_timeout": 10.0, "max_body_bytes": CAP}
    return ClientOptions(**(base | overrides))  # type: ignore[arg-type]


@pytest.fixture
async def client() -> AsyncIterator[FederationClient]:
    async with FederationClient(_options(allow_insecure=True)) as c:
        yield c


@pytest.fixture
async def strict() -> AsyncIterator[FederationClient]:
    async with FederationClient(_options()) as c:
        yield c


@pytest.fixture
async def tripwire() -> AsyncIterator[tuple[int, list[object]]]:
    """A bare TCP listener that records every connection made to it."""
    connections: list[object] = []

    async def on_connect(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connections.append(writer.get_extra_info("peername"))
        writer.close()

    server = await asyncio.start_server(on_connect, "127.0.0.1", 0)
    yield server.sockets[0].getsockname()[1], connections
    server.close()
    await server.wait_closed()


def _recording_signer(calls: list[tuple]) -> Callable[..., dict[str, str]]:
    def sign(method: str, url: str, body: bytes | None, content_type: str | None) -> dict[str, str]:
        calls.append((method, url, body, content_type))
        return {"Signature": f"sig-for {url}"}
    return sign


async def test_http_loopback_refused_without_request(strict: FederationClient, peer: Peer) -> None:
    with pytest.raises(UnsafeAddress) as caught:
        await strict.fetch_object(peer.url("/note"))
    assert caught.value.code == "unsafe_address"
    assert peer.state.hits == []


@pytest.mark.parametrize("host", ["127.0.0.1", "[::ffff:127.0.0.1]", "localhost"])
async def test_https_loopback_refused_before_connect(strict: FederationClient, tripwire, host: str) -> None:
    port, connections = tripwire
    with pytest.raises(UnsafeAddress) as caught:
        await strict.fetch_object(f"https://{host}:{port}/note")
    await asyncio.sleep(0.05)
    assert (caught.value.code, connections) == ("unsafe_address", [])


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://1.1.1.1/x", "gopher://1.1.1.1/", "data:,{}",
                                 "http://1.1.1.1/plain-http-needs-insecure"])
async def test_unsupported_schemes_refused(strict: FederationClient, url: str) -> None:
    with pytest.raises(UnsafeAddress) as caught:
        await strict.fetch_object(url)
    assert caught.value.code == "unsupported_scheme"


@pytest.mark.parametrize("url", ["https:///etc/passwd", "https://[::1/", "https://example.org:99999/"])
async def test_malformed_urls_refused(strict: FederationClient, url: str) -> None:
    with pytest.raises(FetchError) as caught:
        await strict.fetch_object(url)
    assert caught.value.code == "invalid_url"


async def test_redirect_to_other_loopback_refused_without_connecting(make_peer) -> None:
    allowed, target = await make_peer("127.0.0.1"), await make_peer("127.0.0.2")
    allowed.state.redirect_to = target.url("/note")
    async with FederationClient(_options(allowed_addresses=frozenset({"127.0.0.1"}))) as seam:
        assert (await seam.fetch_object(allowed.url("/note")))["type"] == "Note"
        with pytest.raises(UnsafeAddress) as caught:
            await seam.fetch_object(allowed.url("/moved"))
    assert caught.value.code == "unsafe_address"
    assert [hit[1] for hit in allowed.state.hits] == ["/note", "/moved"]
    assert target.state.hits == []


async def test_fetch_object_happy_path_sends_headers(client: FederationClient, peer: Peer) -> None:
    doc = await client.fetch_object(peer.url("/note"))
    assert doc == {"id": peer.url("/note"), "type": "Note"}
    headers = peer.state.hits[0][2]
    assert (headers["User-Agent"], headers["Accept"]) == (UA, AP_ACCEPT)


@pytest.mark.parametrize("kind", ["ld-profile", "ld-profiles", "as-charset"])
async def test_activitystreams_content_types_accepted(client: FederationClient, peer: Peer, kind: str) -> None:
    assert (await client.fetch_object(peer.url(f"/typed/{kind}")))["type"] == "Note"


@pytest.mark.parametrize("kind", ["html", "json", "ld"])
async def test_wrong_content_type_refused(client: FederationClient, peer: Peer, kind: str) -> None:
    with pytest.raises(FetchError) as caught:
        await client.fetch_object(peer.url(f"/typed/{kind}"))
    assert caught.value.code == "unsupported_content_type"


async def test_id_mismatch_refused(client: FederationClient, peer: Peer) -> None:
    with pytest.raises(FetchError) as caught:
        await client.fetch_object(peer.url("/wrong-id"))
    assert caught.value.code == "id_mismatch"


async def test_cross_host_redirect_cannot_claim_original_id(client: FederationClient, make_peer) -> None:
    origin, impostor = await make_peer("127.0.0.1"), await make_peer("127.0.0.2")
    origin.state.redirect_to = impostor.url("/claim")
    impostor.state.claim_id = origin.url("/moved")
    with pytest.raises(FetchError) as caught:
        await client.fetch_object(origin.url("/moved"))
    assert caught.value.code == "id_mismatch"
    assert len(impostor.state.hits) == 1


async def test_redirect_chain_within_limit(client: FederationClient, peer: Peer) -> None:
    doc = await client.fetch_object(peer.url("/redirect/3"))
    assert doc["id"] == peer.url("/redirect/0")


async def test_too_many_redirects(client: FederationClient, peer: Peer) -> None:
    with pytest.raises(FetchError) as caught:
        await client.fetch_object(peer.url("/redirect/4"))
    assert (caught.value.code, caught.value.transient) == ("too_many_redirects", False)
    assert len(peer.state.hits) == 4


async def test_redirect_hops_are_signed_again(client: FederationClient, peer: Peer) -> None:
    calls: list[tuple] = []
    await client.fetch_object(peer.url("/redirect/2"), signer=_recording_signer(calls))
    urls = [peer.url(f"/redirect/{n}") for n in (2, 1, 0)]
    assert calls == [("GET", url, None, None) for url in urls]
    assert [hit[2]["Signature"] for hit in peer.state.hits] == [f"sig-for {url}" for url in urls]


@pytest.mark.parametrize("path", ["/declared-big", "/streamed-big"])
async def test_body_over_cap_refused(client: FederationClient, peer: Peer, path: str) -> None:
    with pytest.raises(FetchError) as caught:
        await client.fetch_object(peer.url(path))
    assert (caught.value.code, caught.value.transient) == ("too_large", False)


async def test_slow_peer_times_out(peer: Peer) -> None:
    started = time.monotonic()
    with pytest.raises(FetchError) as caught:
        async with FederationClient(_options(allow_insecure=True, total_timeout=0.5)) as impatient:
            await impatient.fetch_object(peer.url("/slow"))
    assert (caught.value.code, caught.value.transient) == ("timeout", True)
    assert time.monotonic() - started < 1.0


@pytest.mark.parametrize(("status", "code", "transient"), [
    (404, "not_found", False), (410, "gone", False), (403, "http_error", False),
    (429, "rate_limited", True), (503, "server_error", True),
])
async def test_error_statuses(client: FederationClient, peer: Peer, status: int, code: str, transient: bool) -> None:
    with pytest.raises(FetchError) as caught:
        await client.fetch_object(peer.url(f"/status/{status}"))
    assert (caught.value.code, caught.value.transient, caught.value.status) == (code, transient, status)


async def test_unreachable_is_transient(client: FederationClient) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(FetchError) as caught:
        await client.fetch_object(f"http://127.0.0.1:{port}/note")
    assert (caught.value.code, caught.value.transient) == ("unreachable", True)


async def test_fetch_json_skips_content_type_but_wants_an_object(client: FederationClient, peer: Peer) -> None:
    port = peer.server.port
    assert await client.fetch_json(f"http://localhost:{port}/plain") == {"subject": "acct:a@b"}
    assert peer.state.hits[0][2]["Accept"] == "application/json"
    with pytest.raises(FetchError) as caught:
        await client.fetch_json(peer.url("/array"))
    assert caught.value.code == "invalid_json"


async def test_nan_is_not_json_so_a_document_carrying_it_is_refused(client: FederationClient, peer: Peer) -> None:
    """Python's json would read it; PostgreSQL's json type would then refuse to store the document."""
    with pytest.raises(FetchError) as caught:
        await client.fetch_json(peer.url("/nan"))
    assert caught.value.code == "invalid_json" and "NaN" in str(caught.value)


@pytest.mark.parametrize(("kind", "low", "high"), [("seconds", 120, 120), ("date", 55, 60)])
async def test_post_signs_and_parses_retry_after(
    client: FederationClient, peer: Peer, kind: str, low: float, high: float
) -> None:
    calls: list[tuple] = []
    url = peer.url(f"/inbox/{kind}")
    result = await client.post(url, b'{"type":"Follow"}', signer=_recording_signer(calls))
    assert result.status == 429
    assert low <= result.retry_after <= high
    assert result.body_excerpt == ("slow down " * 20)[:200]
    assert calls == [("POST", url, b'{"type":"Follow"}', AS_TYPE)]
    method, _, headers, body = peer.state.hits[0]
    assert (method, body, headers["User-Agent"], headers["Content-Type"]) == ("POST", b'{"type":"Follow"}', UA, AS_TYPE)
    assert headers["Signature"] == f"sig-for {url}"


async def test_post_does_not_follow_redirects(client: FederationClient, peer: Peer) -> None:
    peer.state.redirect_to = peer.url("/inbox/seconds")
    result = await client.post(peer.url("/moved"), b"{}", signer=_recording_signer([]))
    assert (result.status, result.retry_after) == (302, None)
    assert [hit[1] for hit in peer.state.hits] == ["/moved"]
