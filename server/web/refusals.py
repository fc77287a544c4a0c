"""A service's `Refusal`, shown to a person as an HTML page instead of JSON."""

from collections.abc import Iterator
from contextlib import contextmanager

from server.http_errors import refusal_status
from server.i18n.current import gettext
from server.refusal import Refusal
from server.web.rendering import PageError


def said(refusal: Refusal) -> str:
    """The refusal's sentence in the reader's language: its template translated, then filled in."""
    return gettext(refusal.template) % refusal.params if refusal.params else gettext(refusal.template)


@contextmanager
def as_page_error() -> Iterator[None]:
    try:
        yield
    except Refusal as refusal:
        raise PageError(refusal_status(refusal), said(refusal)) from refusal
