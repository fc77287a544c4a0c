"""The Prometheus endpoint: its own small aiohttp site on 127.0.0.1, started with the app when configured.

Kept off the public listener rather than behind a check of the caller's
address there: a reverse proxy in front would make every request look local.
"""

from collections.abc import AsyncIterator, Callable

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST

from server.instance import Instance


def metrics_context(instance: Instance) -> Callable[[web.Application], AsyncIterator[None]]:
    """A cleanup context for the main app: the metrics site lives as long as it, if `server.metrics_port` is set."""
    async def context(app: web.Application) -> AsyncIterator[None]:
        port = instance.settings.server.metrics_port
        runner = web.AppRunner(_metrics_app(instance), access_log=None) if port else None
        if runner is not None:
            await runner.setup()
            await web.TCPSite(runner, "127.0.0.1", port).start()
        yield
        if runner is not None:
            await runner.cleanup()

    return context


def _metrics_app(instance: Instance) -> web.Application:
    async def metrics(request: web.Request) -> web.Response:
        async with instance.sessions() as session:
            body = await instance.metrics.exposition(session)
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})

    app = web.Application()
    app.router.add_get("/metrics", metrics)
    return app
