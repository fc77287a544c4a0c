"""`mecene serve`: the instance over HTTP, until stopped.

The only command that needs the web application (routes, pages, templates),
so the others do not import it. It says it serves only once it listens; a
port another program holds is a one-line error, not a traceback. A local
instance (a `localhost` or `127.0.0.1` domain) told to serve on another port
by `server.port` (MECENE_SERVER_PORT=9300 make run) calls itself by that port,
so that its links and its actors' ids point where it answers; `--port` places
one of several processes of one instance behind a proxy, and leaves the
domain alone.
"""

import dataclasses
import errno
import gc
import logging

from aiohttp import web

from config.settings import Settings
from server import access_log, logs
from server.app import create_app
from server.cli.errors import CommandError
from server.wiring import build_instance

LOCAL_HOSTS = ("localhost", "127.0.0.1")


def serve(settings: Settings, host: str | None, port: int | None) -> int:
    listen_host, listen_port = host or settings.server.host, port or settings.server.port
    if port is None:
        settings = local_domain_on(settings, listen_port)
    instance = build_instance(settings, port=listen_port)
    logs.configure(settings.server.log_format)
    access = logging.getLogger(access_log.LOGGER) if settings.server.access_log else None
    said = f"Mecene serving {settings.base_url} on http://{listen_host}:{listen_port}/"
    app = create_app(instance)
    app.on_startup.append(_freeze_what_was_loaded)
    app.on_cleanup.append(_write_waiting_access_lines)
    try:
        web.run_app(app, host=listen_host, port=listen_port, print=lambda _: print(said, flush=True),
                    access_log=access, access_log_class=access_log.ACCESS_LOGS[settings.server.log_format])
    except OSError as error:
        if error.errno != errno.EADDRINUSE:
            raise
        raise CommandError(f"port {listen_port} on {listen_host} is in use by another program: stop it, or serve "
                           f"on another port (mecene serve --port 8081, or MECENE_SERVER_PORT=8081)") from None
    return 0


async def _freeze_what_was_loaded(app: web.Application) -> None:
    """Leave the modules, templates and mappings loaded so far out of the garbage collector's full passes.

    They live as long as the process; without this, every full collection
    walks them all again, and a busy inbox makes a full collection every few
    seconds (`gc.freeze`, CPython's advice for long-lived servers).
    """
    gc.collect()
    gc.freeze()


async def _write_waiting_access_lines(app: web.Application) -> None:
    access_log.WAITING.flush()


def local_domain_on(settings: Settings, port: int) -> Settings:
    """A local domain follows the port we listen on; a public one is the reverse proxy's, and stays."""
    name, _, named_port = settings.instance.domain.partition(":")
    if name not in LOCAL_HOSTS or named_port == str(port):
        return settings
    instance = dataclasses.replace(settings.instance, domain=f"{name}:{port}")
    return dataclasses.replace(settings, instance=instance)
