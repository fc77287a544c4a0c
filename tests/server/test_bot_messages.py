"""Reading real Mastodon Notes: who may read them, whom they mention, their text and links."""

import json
from pathlib import Path

from server.bot.messages import MAX_CONTENT, read


def fixture(fixtures_dir: Path, name: str) -> dict:
    return json.loads((fixtures_dir / "mastodon" / name).read_text())


def test_a_direct_message_is_direct_and_its_mention_is_not_text(fixtures_dir: Path) -> None:
    message = read(fixture(fixtures_dir, "create-note-direct.json"))
    assert message is not None and message.direct
    assert message.mentions == {"https://ds9.lemmy.ml/u/banme"}
    assert message.text == "osefioespjdfksasdwasdkflasewasdsdfsdfsdfsd" and message.urls == []
    assert message.author == "https://mastodon.world/users/nutomic"


def test_an_unlisted_reply_is_not_direct_and_keeps_what_it_answers(fixtures_dir: Path) -> None:
    message = read(fixture(fixtures_dir, "create-note-reply-unlisted.json"))
    assert message is not None and not message.direct
    assert message.in_reply_to == "https://mamot.fr/users/retiolus/statuses/107224244380204526"
    assert "@retiolus" not in message.text and message.text.startswith("i have never been disappointed")


def test_codes_and_links_are_found_in_the_text_and_a_bare_object_is_nothing() -> None:
    note = {"id": "https://m.example/users/z/statuses/1", "type": "Note", "attributedTo": "https://m.example/users/z",
            "to": ["https://i.example/users/flattr"], "cc": [],
            "tag": [{"type": "Mention", "href": "https://i.example/users/flattr"}],
            "content": '<p><a href="https://i.example/users/flattr" class="u-url mention">@flattr</a> code k7qf-m2xd '
                       'and <a href="https://m.example/@y/2"><span class="invisible">https://</span>'
                       'm.example/@y/2</a> or https://p.example/x/abcd1234</p>'}
    message = read({"type": "Create", "object": note})
    assert message is not None and message.code_candidates() == ["k7qf-m2xd"]
    assert message.urls == ["https://m.example/@y/2", "https://p.example/x/abcd1234"]
    assert read({"type": "Create", "object": {"id": note["id"], "type": "Note"}}).text == ""
    assert read({"type": "Create", "object": note["id"]}) is None


def test_only_the_start_of_a_huge_note_is_read() -> None:
    """A 200 KB DM held the inbox processor about a minute; the bot reads what a person could have typed."""
    note = {"id": "https://m.example/users/z/statuses/2", "type": "Note", "attributedTo": "https://m.example/users/z",
            "content": "<p>" + "ABCD-EFGH " * 20_000 + "</p>"}
    message = read({"type": "Create", "object": note})
    assert message is not None and len(message.text) <= MAX_CONTENT
    assert message.code_candidates() == ["ABCD-EFGH"]
