"""What a request may hand the database: text and ids checked against the columns before any statement runs.

SQLite and PostgreSQL disagree on bad values, and each disagreement was a 500
on one of them only. PostgreSQL refuses a NUL character in text and a string
longer than its `String(n)` column, where SQLite stores both; neither driver
can encode a lone surrogate ("\\ud800", which a JSON escape or a
surrogate-escaped header carries) as UTF-8; an integer past a column's range
is a DataError on PostgreSQL (its `Integer` is 32 bits) and an OverflowError
on SQLite past 64 bits. Checked here first, with the column's own limits, both
databases answer alike: a 400 for text, "no such row" for an id, nothing
written.
"""

from server.i18n.current import N_
from server.refusal import Kind, Phrase, Refusal

#: The largest id an `Integer` primary key holds on both databases (PostgreSQL's is 32 bits).
MAX_ID = 2**31 - 1


def is_storable(value: str) -> bool:
    """Whether both databases store `value` as given: no NUL, no lone surrogate."""
    return "\x00" not in value and is_encodable(value)


def is_encodable(value: str) -> bool:
    """Whether UTF-8 encodes `value`: a lone surrogate can be neither stored, nor hashed, nor written into a page."""
    try:
        value.encode()
    except UnicodeEncodeError:
        return False
    return True


def checked_text(value: str, name: str, max_length: int | None = None) -> str:
    """`value` unchanged when both databases store it as given; a `Refusal` naming the field otherwise.

    `name` is the field as a sentence starts with it ("The title"), marked
    with `N_` by the caller: the refusal translates it with the sentence.
    """
    if not is_storable(value):
        raise Refusal(Kind.INVALID, "invalid_text",
                      N_("%(name)s holds a character that cannot be stored (NUL or a lone UTF-16 surrogate)."),
                      {"name": Phrase(name)})
    if max_length is not None and len(value) > max_length:
        raise Refusal(Kind.INVALID, "too_long", N_("%(name)s holds at most %(max_length)s characters."),
                      {"name": Phrase(name), "max_length": max_length})
    return value


def is_row_id(value: int) -> bool:
    """Whether any row can have this id: the question for every id a person typed or put in a path."""
    return 0 < value <= MAX_ID


def path_id(raw: str) -> int | None:
    """The id a URL path segment names, or None when no row can have it (not plain digits, zero, out of range)."""
    if not raw.isascii() or not raw.isdigit() or len(raw) > len(str(MAX_ID)):
        return None
    value = int(raw)
    return value if is_row_id(value) else None
