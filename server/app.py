"""The aiohttp application: one factory, the instance opened in a cleanup context."""

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Coroutine
from typing import Any

from aiohttp import web
from sqlalchemy import text

from server.api.routes import routes as api_routes
from server.appkeys import instance_key, payments_key
from server.bot.tasks import BotTaskWorker
from server.http_errors import error_middleware
from server.instance import Instance
from server.mail import sender as mail_sender
from server.metrics_site import metrics_context
from server.payments.providers import Payments
from server.settling.tick import SettlementWorker
from server.views import activitypub, objects, stripe_webhook, wellknown
from server.web import routes as web_routes
from server.web import security_headers


def create_app(instance: Instance, *, run_workers: bool = True) -> web.Application:
    """Build the app; `run_workers=False` leaves the delivery and inbox workers to the caller."""
    app = web.Application(middlewares=[error_middleware], client_max_size=instance.settings.federation.inbox_max_bytes)
    app[instance_key] = instance
    app[payments_key] = Payments(instance.settings.payments)
    app.router.add_routes(
        wellknown.routes() + activitypub.routes() + objects.routes() + api_routes() + stripe_webhook.routes()
        + [web.get("/health", health)])
    web_routes.setup(app)
    security_headers.setup(app)
    app.cleanup_ctx.append(_instance_context(instance, run_workers))
    app.cleanup_ctx.append(metrics_context(instance))
    app.on_cleanup.append(_close_payments)
    return app


async def _close_payments(app: web.Application) -> None:
    await app[payments_key].close()


def _instance_context(instance: Instance,
                      run_workers: bool) -> Callable[[web.Application], AsyncIterator[None]]:
    async def context(app: web.Application) -> AsyncIterator[None]:
        await _started(instance)
        instance.inbox_writer.start()
        tasks: list[asyncio.Task[None]] = []
        scheduler = None
        if run_workers:
            settlement = SettlementWorker(instance)
            scheduler = settlement.scheduler()
            tasks = [asyncio.create_task(worker) for worker in [*_workers(instance), settlement.run()]]
            scheduler.start()
        yield
        if scheduler is not None:
            scheduler.shutdown(wait=False)
            await settlement.stop()
        await instance.inbox_writer.stop()
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await instance.close()

    return context


async def _started(instance: Instance) -> None:
    """Closed again if its start fails or is cancelled: aiohttp tears a context down only once it has reached its
    `yield`, and an engine never disposed keeps its SQLite threads, which hold the process open at exit.
    """
    try:
        await instance.start()
    except BaseException:
        await instance.close()
        raise


def _workers(instance: Instance) -> list[Coroutine[Any, Any, None]]:
    poll = instance.settings.delivery.poll_seconds
    mail = [mail_sender.for_instance(instance).run()] if instance.settings.mail.enabled else []
    return [instance.delivery.run(poll), instance.processor.run(poll), BotTaskWorker(instance).run(poll), *mail]


async def health(request: web.Request) -> web.Response:
    """Liveness plus a database round trip, for load balancers and operators."""
    instance = request.app[instance_key]
    async with instance.engine.connect() as conn:
        await conn.execute(text("SELECT 1"))
    return web.json_response({"status": "ok", "domain": instance.settings.instance.domain})
