"""Errors raised by the federation layer.

Each error carries a stable machine code and a message that is safe to show a
remote server; only `server/` decides which HTTP status a code becomes.
"""


class FederationError(Exception):
    """Base class: `code` is stable, `safe_message` may be sent to the peer."""

    code = "federation_error"

    def __init__(self, safe_message: str, *, code: str | None = None) -> None:
        super().__init__(safe_message)
        self.safe_message = safe_message
        if code is not None:
            self.code = code
