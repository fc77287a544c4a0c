"""A short title a person recognises for a fediverse object: its name, else the start of its text.

Posts (Mastodon's Notes) have no name, only HTML content; people recognise
them by their first words, so those stand in, without markup and cut short.
"""

from html.parser import HTMLParser
from typing import Any

MAX_LENGTH = 80


def title_of(document: dict[str, Any]) -> str:
    for key in ("name", "summary", "content"):
        value = document.get(key)
        if isinstance(value, str) and value.strip():
            return short_text(value)
    return ""


def short_text(html_or_text: str) -> str:
    """Plain text of at most `MAX_LENGTH` characters, ending with an ellipsis when cut."""
    parser = _Text()
    parser.feed(html_or_text)
    parser.close()
    text = " ".join("".join(parser.parts).split())
    return text if len(text) <= MAX_LENGTH else text[:MAX_LENGTH - 1].rstrip() + "…"


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("p", "br"):
            self.parts.append(" ")

    def handle_data(self, data: str) -> None:
        self.parts.append(data)
