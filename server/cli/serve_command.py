"""`mecene serve`: the instance over HTTP, until stopped.

The only command that needs the web application (routes, pages, templates),
so the others do not import it.
"""

import logging

from aiohttp import web

from config.settings import Settings
from server import logs
from server.app import create_app
from server.wiring import build_instance


def serve(settings: Settings, host: str | None, port: int | None) -> int:
    listen_host, listen_port = host or settings.server.host, port or settings.server.port
    instance = build_instance(settings, port=listen_port)
    logs.configure(settings.server.log_format)
    print(f"Mecene serving {settings.base_url} on http://{listen_host}:{listen_port}/", flush=True)
    access_log = logging.getLogger("aiohttp.access") if settings.server.access_log else None
    web.run_app(create_app(instance), host=listen_host, port=listen_port, print=None, access_log=access_log,
                access_log_format=logs.ACCESS_FORMAT)
    return 0
