"""Why a service refused: one error type for everything the API, the pages, the CLI and the bot share.

A `Refusal` carries a stable code (for programs), a safe sentence (for a
person: nothing internal in it) and the kind of refusal it is. It knows
nothing of HTTP: each caller translates it at its own edge, the API and the
pages to a status (`server.http_errors`), the CLI to a message and exit status
1, the bot to a direct message.
"""

from collections.abc import Mapping
from enum import StrEnum
from typing import Protocol

from server.i18n.current import gettext
from settlement.explained import Explained


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
    """`template` is the English sentence with `%(name)s` placeholders and `params` what fills them.

    Kept apart so that a page or the bot can translate the template before
    filling it in (`server.i18n`), while the API and the CLI show `message`,
    the English sentence, as they always have.
    """

    def __init__(self, kind: Kind, code: str, template: str, params: dict[str, str | int] | None = None) -> None:
        self.kind, self.code, self.template, self.params = kind, code, template, params or {}
        self.message = template % self.params if params else template
        super().__init__(self.message)

    @classmethod
    def of(cls, error: Explained, kind: Kind = Kind.INVALID) -> "Refusal":
        """Settlement's refusal (an amount, a withdrawal, terms…) as a service's, its sentence still translatable."""
        return cls(kind, error.code, error.template, error.params)


class Phrase(str):
    """A value of a sentence that is words of ours ("The title"), not the person's: translated with the sentence."""


class Sentence(Protocol):
    """What a person reads of a refusal or an outcome: an English template, and the values that fill it."""

    @property
    def template(self) -> str: ...

    @property
    def params(self) -> Mapping[str, str | int]: ...


def said(sentence: Sentence) -> str:
    """The sentence in the reader's language (`server.i18n.current`): its template translated, then filled in."""
    if not sentence.params:
        return gettext(sentence.template)
    values = {key: gettext(value) if isinstance(value, Phrase) else value for key, value in sentence.params.items()}
    return gettext(sentence.template) % values
