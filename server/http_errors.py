"""The one place where refusals and domain errors become HTTP answers: `{"error": code, "reason": text}`.

Internal details are logged, never sent; an unexpected error is a plain 500.
"""

import json
import logging
from typing import Any

from aiohttp import web
from aiohttp.typedefs import Handler

from federation.authenticate import AuthenticationError
from federation.client import BlockedDomain
from federation.errors import FederationError
from federation.httpsig import SignatureError
from federation.inbox import InvalidActivity
from server.accounts import AccountError
from server.refusal import Kind, Refusal
from settlement.money import MoneyError
from settlement.periods import PeriodError

log = logging.getLogger(__name__)


STATUS = {
    Kind.INVALID: 400,
    Kind.UNAUTHENTICATED: 401,
    Kind.FORBIDDEN: 403,
    Kind.NOT_FOUND: 404,
    Kind.CONFLICT: 409,
    Kind.TOO_LARGE: 413,
    Kind.UNPROCESSABLE: 422,
    Kind.UPSTREAM: 502,
}


def refusal_status(refusal: Refusal) -> int:
    return STATUS[refusal.kind]


def json_error(status: int, code: str, reason: str) -> web.Response:
    return web.json_response({"error": code, "reason": reason}, status=status)


def json_exception(exception: type[web.HTTPException], code: str, reason: str, **kwargs: Any) -> web.HTTPException:
    """An aiohttp exception whose body is our JSON error, encoded (never formatted by hand: names hold quotes)."""
    body = json.dumps({"error": code, "reason": reason})
    return exception(text=body, content_type="application/json", **kwargs)


def status_for(exc: Exception) -> int:
    if isinstance(exc, SignatureError):
        return 400 if exc.malformed else 401
    if isinstance(exc, AuthenticationError):
        return 503 if exc.transient else 401
    if isinstance(exc, (InvalidActivity, AccountError)):
        return 400
    if isinstance(exc, BlockedDomain):
        return 403
    return 502


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except web.HTTPException as exc:
        if exc.content_type == "application/json" or exc.status < 400:
            raise
        return json_error(exc.status, exc.reason.lower().replace(" ", "_"), exc.text or exc.reason)
    except FederationError as exc:
        return json_error(status_for(exc), exc.code, exc.safe_message)
    except Refusal as exc:
        return json_error(refusal_status(exc), exc.code, exc.message)
    except (AccountError, MoneyError, PeriodError) as exc:
        return json_error(400, exc.code, str(exc))
    except Exception:
        log.exception("unhandled error on %s %s", request.method, request.path)
        return json_error(500, "internal_error", "Something went wrong on our side.")
