"""What a Note sent to the bot says: its plain text, the links in it, whom it mentions and who may read it.

Mastodon sends HTML (`<p>`, mention and hashtag links, URLs shortened inside
`<span class="invisible">`); the stdlib parser turns it into text without the
mention links, so "@flattr" never reads as a word, and keeps every other
link's full `href`.
"""

import re
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import Any

from federation.vocab import PUBLIC, object_id
from server.i18n.locales import supported

CODE_SHAPE = re.compile(r"\b[A-Za-z0-9]{4}-?[A-Za-z0-9]{4}\b")
#: The HTML of a Note the bot reads, at most: a DM is a few hundred characters; 200 KB held the processor a minute.
MAX_CONTENT = 20_000
#: What a link code is made of (`server.bot.codes`): a word with other letters is a word, not a mistyped code.
CODE_ALPHABET = frozenset("ABCDEFGHJKMNPQRSTUVWXYZ23456789")
PLAIN_URL = re.compile(r"https?://[^\s<>\"]+")
UNLINK = re.compile(r"\bunlink\b", re.IGNORECASE)


@dataclass(frozen=True)
class Message:
    note_id: str
    author: str
    text: str
    urls: list[str]
    mentions: frozenset[str]
    in_reply_to: str | None
    direct: bool
    #: The language of the Note (Mastodon's `contentMap` key) when it is one we speak, so the answer is in it too.
    language: str | None = None

    def code_candidates(self) -> list[str]:
        """Words shaped like a code (8 letters or digits of the code alphabet, maybe split 4-4), URLs left out.

        Each once, as typed; the same code written twice is one candidate.
        """
        words = CODE_SHAPE.findall(PLAIN_URL.sub(" ", self.text))
        shaped = [word for word in words if set(word.replace("-", "").upper()) <= CODE_ALPHABET]
        return list({word.replace("-", "").upper(): word for word in reversed(shaped)}.values())[::-1]

    def asks_unlink(self) -> bool:
        return bool(UNLINK.search(self.text))


def read(activity: dict[str, Any]) -> Message | None:
    """The Note of a `Create`, or None when there is none (a bare id: an object from another host)."""
    note = activity.get("object")
    if not isinstance(note, dict) or note.get("type") != "Note" or not isinstance(note.get("id"), str):
        return None
    mentions = frozenset(_mentions(note.get("tag")))
    parser = _TextParser(mentions)
    parser.feed(str(note.get("content") or "")[:MAX_CONTENT])
    parser.close()
    text = " ".join(parser.text.split())
    urls = list(dict.fromkeys([*parser.links, *PLAIN_URL.findall(text)]))
    addressed = audience(note)
    return Message(note["id"], object_id(note.get("attributedTo")) or "", text, urls, mentions,
                   object_id(note.get("inReplyTo")), PUBLIC not in addressed and addressed <= mentions,
                   _language(note.get("contentMap")))


def _language(content_map: Any) -> str | None:
    """The first language of the Note's `contentMap` that we speak (Mastodon gives one: the post's language)."""
    if not isinstance(content_map, dict):
        return None
    return next((found for found in map(supported, content_map) if found), None)


def _mentions(tags: Any) -> list[str]:
    tags = tags if isinstance(tags, list) else [tags]
    return [tag["href"] for tag in tags
            if isinstance(tag, dict) and tag.get("type") == "Mention" and isinstance(tag.get("href"), str)]


def audience(document: dict[str, Any]) -> set[str]:
    """Everyone a Note or an activity is addressed to, `to` and `cc` alike."""
    return _addresses(document.get("to")) | _addresses(document.get("cc"))


def _addresses(value: Any) -> set[str]:
    values = value if isinstance(value, list) else [value]
    return {item for item in (object_id(v) for v in values) if item}


class _TextParser(HTMLParser):
    """Text outside mention and hashtag links; the hrefs of all other links."""

    def __init__(self, mentioned: frozenset[str]) -> None:
        super().__init__(convert_charrefs=True)
        self._mentioned = mentioned
        self._skipping = 0
        self._parts: list[str] = []
        self.links: list[str] = []

    @property
    def text(self) -> str:
        return "".join(self._parts)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("p", "br"):
            self._parts.append("\n")
        if tag != "a":
            return
        found = dict(attrs)
        href, classes = found.get("href") or "", (found.get("class") or "").split()
        if self._skipping or "mention" in classes or "hashtag" in classes or href in self._mentioned:
            self._skipping += 1
        elif href.startswith(("http://", "https://")):
            self.links.append(href)

    def handle_endtag(self, tag: str) -> None:
        if tag == "a" and self._skipping:
            self._skipping -= 1

    def handle_data(self, data: str) -> None:
        if not self._skipping:
            self._parts.append(data)
