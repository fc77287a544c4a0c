"""The language of what is being answered now, for code that writes to a person without being handed it.

A web request sets it (`server.web.languages`) for its own task only: a
context variable, so two requests answered at once in different languages
never see each other's. Outside a request (a worker, the CLI) it is English
unless the code says otherwise with `speaking`.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from server.i18n.catalogues import translations
from server.i18n.locales import ENGLISH

_LOCALE: ContextVar[str] = ContextVar("mecene_locale", default=ENGLISH)


def locale() -> str:
    return _LOCALE.get()


def use(chosen: str) -> None:
    """For the rest of the current task (a request's handler), speak `chosen`."""
    _LOCALE.set(chosen)


@contextmanager
def speaking(chosen: str) -> Iterator[None]:
    """Within the block, speak `chosen` (an email to a French reader written by an English-speaking worker)."""
    token = _LOCALE.set(chosen)
    try:
        yield
    finally:
        _LOCALE.reset(token)


def N_(message: str) -> str:
    """Marks a message for `make messages` where it is defined (a constant); `gettext` translates it where shown."""
    return message


def gettext(message: str) -> str:
    return translations(_LOCALE.get()).gettext(message)


def ngettext(singular: str, plural: str, count: int) -> str:
    return translations(_LOCALE.get()).ngettext(singular, plural, count)


def pgettext(context: str, message: str) -> str:
    return translations(_LOCALE.get()).pgettext(context, message)


def npgettext(context: str, singular: str, plural: str, count: int) -> str:
    return translations(_LOCALE.get()).npgettext(context, singular, plural, count)
