"""The OpenAPI document, kept as JSON beside the code; a test holds it to the router."""

import json
from functools import cache
from pathlib import Path
from typing import Any

from aiohttp import web

from server.appkeys import instance_key

DOCUMENT = Path(__file__).with_name("openapi.json")


@cache
def document() -> dict[str, Any]:
    return json.loads(DOCUMENT.read_text())


async def get_openapi(request: web.Request) -> web.Response:
    base_url = request.app[instance_key].settings.base_url
    return web.json_response({**document(), "servers": [{"url": base_url}]})


def routes() -> list[web.RouteDef]:
    return [web.get("/api/v1/openapi.json", get_openapi)]
