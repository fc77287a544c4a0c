"""Why a service refused: one error type for everything the API, the pages, the CLI and the bot share.

A `Refusal` carries a stable code (for programs), a safe sentence (for a
person: nothing internal in it) and the kind of refusal it is. It knows
nothing of HTTP: each caller translates it at its own edge, the API and the
pages to a status (`server.http_errors`), the CLI to a message and exit status
1, the bot to a direct message.
"""

from enum import StrEnum


class Kind(StrEnum):
    """What went wrong, from the asker's side: each edge decides how to say it."""

    INVALID = "invalid"
    UNAUTHENTICATED = "unauthenticated"
    FORBIDDEN = "forbidden"
    NOT_FOUND = "not_found"
    CONFLICT = "conflict"
    TOO_LARGE = "too_large"
    UNPROCESSABLE = "unprocessable"
    UPSTREAM = "upstream"


class Refusal(Exception):
    def __init__(self, kind: Kind, code: str, message: str) -> None:
        super().__init__(message)
        self.kind, self.code, self.message = kind, code, message
