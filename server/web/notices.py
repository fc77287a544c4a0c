"""One-time notices after a form: "Budget saved", carried across the 303 by a short-lived cookie.

Post/redirect/get keeps a reload from posting twice, so what the form did must
survive the redirect. The cookie holds the text and an HMAC keyed by the
viewer's CSRF token: another site, or another visitor's cookie, cannot put
words on this person's page. Reading it clears it.
"""

import base64
import binascii
import hashlib
import hmac
from typing import Any

from aiohttp import web

from server.web.rendering import render, set_cookie, viewer

COOKIE = "mecene_notice"
MAX_LENGTH = 400
LIFETIME_SECONDS = 120


async def see_other(request: web.Request, target: str, notice: str) -> web.Response:
    """A 303 to `target` that shows `notice` there once."""
    text = notice[:MAX_LENGTH].encode()
    signature = _sign((await viewer(request)).csrf, text)
    response = web.Response(status=303, headers={"Location": target})
    set_cookie(request, response, COOKIE, f"{_encode(text)}.{signature}", max_age=LIFETIME_SECONDS)
    return response


async def render_with_notice(request: web.Request, template: str, context: dict[str, Any],
                             status: int = 200) -> web.Response:
    """The page, with the notice waiting for it (as `notice`), which is then gone."""
    response = await render(request, template, {"notice": await take(request), **context}, status=status)
    forget(request, response)
    return response


async def take(request: web.Request) -> str | None:
    """The notice waiting for this viewer, if any and genuine."""
    raw = request.cookies.get(COOKIE)
    if not raw or "." not in raw:
        return None
    encoded, signature = raw.rsplit(".", 1)
    try:
        text = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4))
    except (binascii.Error, ValueError):
        return None
    if not hmac.compare_digest(signature, _sign((await viewer(request)).csrf, text)):
        return None
    return text.decode("utf-8", "replace")


def forget(request: web.Request, response: web.StreamResponse) -> None:
    if COOKIE in request.cookies:
        response.del_cookie(COOKIE, path="/")


def _sign(key: str, text: bytes) -> str:
    return hmac.new(key.encode(), text, hashlib.sha256).hexdigest()


def _encode(text: bytes) -> str:
    return base64.urlsafe_b64encode(text).decode().rstrip("=")
