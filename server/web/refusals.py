"""A service's `Refusal`, shown to a person as an HTML page instead of JSON."""

from collections.abc import Iterator
from contextlib import contextmanager

from server.http_errors import refusal_status
from server.refusal import Refusal, said
from server.web.rendering import PageError


@contextmanager
def as_page_error() -> Iterator[None]:
    try:
        yield
    except Refusal as refusal:
        raise PageError(refusal_status(refusal), said(refusal)) from refusal
