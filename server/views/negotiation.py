"""Content negotiation for ActivityPub documents."""

import json
from typing import Any

from aiohttp import web

from federation.vocab import AP_MEDIA_TYPE, LD_MEDIA_TYPE
from server.http_errors import json_exception


def wants_activitypub(request: web.Request) -> bool:
    """True unless the client asked for HTML and not for an ActivityStreams type."""
    accept = request.headers.get("Accept", "")
    if "application/activity+json" in accept or "application/ld+json" in accept:
        return True
    return "text/html" not in accept


def activitypub_response(request: web.Request, document: dict[str, Any]) -> web.Response:
    """Answer in the media type the client asked for: plain AP JSON or JSON-LD with the AS profile."""
    if not wants_activitypub(request):
        raise json_exception(web.HTTPNotAcceptable, "not_acceptable",
                             "This resource is served as application/activity+json.")
    accept = request.headers.get("Accept", "")
    media_type = LD_MEDIA_TYPE if "application/ld+json" in accept and AP_MEDIA_TYPE not in accept else AP_MEDIA_TYPE
    return web.Response(body=json.dumps(document).encode(), headers={"Content-Type": media_type, "Vary": "Accept"})
