"""The inbox case's baselines: Mecene's own verification, then no store, one commit per request, or Mecene's store.

Run as `python -m bench.inbox_servers verify|commit|store --port PORT`,
configured like `mecene serve` by MECENE_* variables. All build a real
`Instance`, so the ActorStore, its key cache and the signature checks are
Mecene's; only what follows a valid signature differs:

- verify: nothing is stored, the ceiling a durable inbox is measured against;
- commit: one INSERT and one COMMIT per request through SQLAlchemy Core, the
  simplest durable inbox;
- store: Mecene's group commit (`InboxWriter`) without the inbox processor and
  the other workers of `mecene serve`, to tell the store's cost from theirs.
"""

import argparse
from collections.abc import AsyncIterator, Awaitable, Callable

from aiohttp import web
from sqlalchemy import insert

from bench.loopback import HOST
from config.settings import load
from federation.authenticate import authenticate, require_actor
from federation.httpsig import RequestView
from federation.inbox import Incoming, parse_activity
from federation.models import InboxItem
from server.http_errors import error_middleware
from server.instance import Instance
from server.wiring import build_instance

INSTANCE = web.AppKey("instance", Instance)


async def _verified(request: web.Request) -> Incoming:
    """Steps 2 to 5 of the inbox (docs/architecture.md) with Mecene's own functions."""
    instance = request.app[INSTANCE]
    body = await request.read()
    incoming = parse_activity(body)
    view = RequestView(method=request.method, scheme=instance.settings.scheme, authority=request.host,
                       path=request.rel_url.raw_path, query=request.rel_url.raw_query_string,
                       headers=request.headers, body=body)
    signer = await authenticate(view, actors=instance.actors, now=instance.clock(), local_host=instance.urls.host)
    require_actor(signer, incoming.actor)
    return incoming


async def verify_only(request: web.Request) -> web.Response:
    await _verified(request)
    return web.json_response({"status": "accepted"}, status=202)


async def commit_each(request: web.Request) -> web.Response:
    incoming = await _verified(request)
    instance = request.app[INSTANCE]
    async with instance.engine.begin() as conn:
        await conn.execute(insert(InboxItem.__table__).values(
            activity_id=incoming.activity_id, actor_uri=incoming.actor, activity=incoming.activity,
            state="pending", attempts=0, received_at=instance.clock()))
    return web.json_response({"status": "accepted"}, status=202)


async def group_commit(request: web.Request) -> web.Response:
    incoming = await _verified(request)
    instance = request.app[INSTANCE]
    await instance.inbox_writer.store(incoming, instance.clock())
    return web.json_response({"status": "accepted"}, status=202)


async def health(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


MODES: dict[str, Callable[[web.Request], Awaitable[web.Response]]] = {
    "verify": verify_only, "commit": commit_each, "store": group_commit}


def create_app(instance: Instance, mode: str) -> web.Application:
    app = web.Application(middlewares=[error_middleware], client_max_size=instance.settings.federation.inbox_max_bytes)
    app[INSTANCE] = instance
    app.router.add_routes([web.post("/inbox", MODES[mode]), web.get("/health", health)])

    async def opened(app: web.Application) -> AsyncIterator[None]:
        await instance.start()
        instance.inbox_writer.start()
        yield
        await instance.inbox_writer.stop()
        await instance.close()

    app.cleanup_ctx.append(opened)
    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mode", choices=sorted(MODES))
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    app = create_app(build_instance(load(None)), args.mode)
    web.run_app(app, host=HOST, port=args.port, print=None, access_log=None)


if __name__ == "__main__":
    main()
