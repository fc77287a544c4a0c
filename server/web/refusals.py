"""A refusal from a service the API shares (`ApiError`), shown to a person as an HTML page instead of JSON."""

from collections.abc import Iterator
from contextlib import contextmanager

from server.errors import ApiError
from server.web.rendering import PageError


@contextmanager
def as_page_error() -> Iterator[None]:
    try:
        yield
    except ApiError as refusal:
        raise PageError(refusal.status, refusal.reason) from refusal
