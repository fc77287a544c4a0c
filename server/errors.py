"""The one place where domain errors become HTTP answers: `{"error": code, "reason": text}`.

Internal details are logged, never sent; an unexpected error is a plain 500.
"""

import logging

from aiohttp import web

from federation.authenticate import AuthenticationError
from federation.client import BlockedDomain
from federation.errors import FederationError
from federation.httpsig import SignatureError
from federation.inbox import InvalidActivity
from server.accounts import AccountError
from settlement.money import MoneyError
from settlement.periods import PeriodError

log = logging.getLogger(__name__)


class ApiError(Exception):
    """A refusal meant for the API client: its status, a stable code and a sentence for a person."""

    def __init__(self, status: int, code: str, reason: str) -> None:
        super().__init__(reason)
        self.status, self.code, self.reason = status, code, reason


def json_error(status: int, code: str, reason: str) -> web.Response:
    return web.json_response({"error": code, "reason": reason}, status=status)


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
async def error_middleware(request: web.Request, handler):  # type: ignore[no-untyped-def]
    try:
        return await handler(request)
    except web.HTTPException as exc:
        if exc.content_type == "application/json" or exc.status < 400:
            raise
        return json_error(exc.status, exc.reason.lower().replace(" ", "_"), exc.text or exc.reason)
    except FederationError as exc:
        return json_error(status_for(exc), exc.code, exc.safe_message)
    except ApiError as exc:
        return json_error(exc.status, exc.code, exc.reason)
    except (AccountError, MoneyError, PeriodError) as exc:
        return json_error(400, exc.code, str(exc))
    except Exception:
        log.exception("unhandled error on %s %s", request.method, request.path)
        return json_error(500, "internal_error", "Something went wrong on our side.")
