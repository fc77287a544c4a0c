"""A creator's things from the web: offered, edited and deleted by forms; a thing's page for browsers at its own id.

The forms call the services the API calls, so these tests read the result
where the fediverse does (the object at its id, the activities published)
and check that a refused form, a cross-site post or another person's post
changes no row.
"""

from typing import Any
from urllib.parse import quote

import aiohttp
import pytest
from sqlalchemy import select

from api_client import account, assert_ledger_balances
from federation.client import AP_ACCEPT
from federation.models import Following, InboxItem, OutboxItem
from federation_harness import Federation, Node, eventually
from server.models import Thing, User
from server.social import follow_account
from server.web.passwords import hash_password
from web_client import Browser, Page

PASSWORD = "correct horse"


@pytest.fixture
async def node(federation: Federation) -> Node:
    return await federation.start("a")


async def logged_in(node: Node, username: str) -> Browser:
    """A browser of `username`, an account made by the operator's commands and given a password."""
    await account(node, username)
    async with node.live.sessions() as session, session.begin():
        (await session.scalar(select(User).where(User.username == username))).password_hash = \
            await hash_password(PASSWORD)
    browser = Browser(node)
    page = await browser.submit("/login", "/login", {"username": username, "password": PASSWORD})
    assert f"Signed in as <strong>{username}</strong>" in page.html
    return browser


async def things_of(node: Node) -> list[tuple[Any, ...]]:
    async with node.live.sessions() as session:
        rows = await session.execute(select(Thing.token, Thing.kind, Thing.url, Thing.title, Thing.summary,
                                            Thing.deleted_at).order_by(Thing.id))
        return [tuple(row) for row in rows]


async def published(node: Node) -> list[tuple[str, str]]:
    async with node.live.sessions() as session:
        rows = await session.scalars(select(OutboxItem.activity).order_by(OutboxItem.id))
        return [(row["type"], row["object"]["type"]) for row in rows]


async def fetch(url: str, accept: str) -> tuple[int, str, str, str]:
    """(status, media type, Vary, body) as a client asking for `accept` gets them."""
    async with aiohttp.ClientSession() as http, http.get(url, headers={"Accept": accept}) as response:
        return response.status, response.content_type, response.headers.get("Vary", ""), await response.text()


def token_of(page: Page) -> str:
    return page.url.rsplit("/things/", 1)[1]


async def test_a_creator_offers_edits_and_deletes_things_and_a_refused_form_changes_nothing(node: Node) -> None:
    bob = await logged_in(node, "bob")
    try:
        own = await bob.get("/users/bob")
        assert "You offer nothing to flattr yet." in own.html
        assert 'href="/things/new">Offer your first thing' in own.html
        assert "You offer nothing yet." in (await bob.get("/things")).html

        for fields, message in [
            ({"url": "ftp://bob.example/song", "title": "A song", "text": "Kept words"},
             "A thing&#39;s URL must be an http(s) address."),
            ({"url": "https://bob.example/song", "title": "", "text": "Kept words"},
             "A thing with a URL needs a title."),
            ({"url": "", "title": "Only a title", "text": ""},
             "Give either a URL with a title, or the text of a note."),
            ({"url": "", "title": "", "text": "x" * 5001}, "The text holds at most 5000 characters."),
        ]:
            refused = await bob.submit("/things/new", "/things/new", fields)
            assert refused.status == 400 and message in refused.html, refused.html
            assert f'value="{fields["url"]}"' in refused.html and f'value="{fields["title"]}"' in refused.html
            assert f'>{fields["text"]}</textarea>' in refused.html
        assert await things_of(node) == [] and await published(node) == []

        song = await bob.submit("/things/new", "/things/new", {"url": "https://bob.example/song", "title": "A song",
                                                               "text": "Recorded live"})
        assert song.status == 200 and "You offered “A song”." in song.html
        assert "<h1 id=\"thing-title\">A song</h1>" in song.html and 'href="https://bob.example/song"' in song.html
        note = await bob.submit("/things/new", "/things/new", {"text": "Line one\nLine two"})
        assert "<h1 id=\"thing-title\">A note</h1>" in note.html and "Line one\nLine two" in note.html
        assert [row[:2] for row in await things_of(node)] == [(token_of(song), "Page"), (token_of(note), "Note")]
        listed = (await bob.get("/things")).html
        assert f'href="/things/{token_of(song)}/edit"' in listed and f'href="/things/{token_of(note)}/delete"' in listed
        assert 'href="/things">Offer, edit or delete your things' in (await bob.get("/users/bob")).html

        edit = f"/things/{token_of(song)}/edit"
        assert 'value="A song"' in (await bob.get(edit)).html
        before = await things_of(node)
        for fields in ({"url": "https://bob.example/song", "title": " ", "text": "New words"},
                       {"url": "", "title": "A song", "text": "New words"}):
            refused = await bob.submit(edit, edit, fields)
            assert refused.status == 400 and 'value="New words"' not in refused.html and ">New words</textarea>" in \
                refused.html
        refused = await bob.submit(f"/things/{token_of(note)}/edit", f"/things/{token_of(note)}/edit",
                                   {"url": "https://bob.example/x", "title": "Now a page", "text": "Line one"})
        assert refused.status == 400 and "a note stays a note" in refused.html
        assert 'name="url"' not in (await bob.get(f"/things/{token_of(note)}/edit")).html
        assert await things_of(node) == before

        saved = await bob.submit(edit, edit, {"url": "https://bob.example/song-2", "title": "A better song",
                                              "text": "Recorded again"})
        assert saved.url.endswith(f"/things/{token_of(song)}") and "Saved “A better song”." in saved.html
        status, _, _, body = await fetch(f"{node.base_url}/things/{token_of(song)}", AP_ACCEPT)
        assert status == 200 and '"name": "A better song"' in body and '"url": "https://bob.example/song-2"' in body
        assert await published(node) == [("Create", "Page"), ("Create", "Note"), ("Update", "Page")]

        confirm = await bob.get(f"/things/{token_of(note)}/delete")
        assert confirm.status == 200 and "Delete “Line one\nLine two”?" in confirm.html
        assert len(await things_of(node)) == 2 and (await things_of(node))[1][5] is None
        deleted = await bob.submit(f"/things/{token_of(note)}/delete", f"/things/{token_of(note)}/delete", {})
        assert deleted.url.endswith("/things") and "You deleted “Line one\nLine two”." in deleted.html
        assert f"/things/{token_of(note)}/edit" not in deleted.html
        assert (await things_of(node))[1][5] is not None
        assert await published(node) == [("Create", "Page"), ("Create", "Note"), ("Update", "Page"),
                                         ("Delete", "Tombstone")]

        gone = await bob.get(f"/things/{token_of(note)}")
        assert gone.status == 410 and "This thing was deleted" in gone.html and "Line one" not in gone.html
        status, media_type, _, body = await fetch(f"{node.base_url}/things/{token_of(note)}", AP_ACCEPT)
        assert (status, media_type) == (410, "application/activity+json") and '"type": "Tombstone"' in body
        for path in (f"/things/{token_of(note)}/edit", f"/things/{token_of(note)}/delete"):
            assert (await bob.get(path)).status == 410
        assert (await bob.submit("/things", f"/things/{token_of(note)}/edit", {"text": "Back"})).status == 410
    finally:
        await bob.close()


async def test_forms_from_another_site_or_another_person_change_nothing(node: Node) -> None:
    bob, carol, visitor = await logged_in(node, "bob"), await logged_in(node, "carol"), Browser(node)
    try:
        token = token_of(await bob.submit("/things/new", "/things/new", {"text": "Mine"}))
        before = await things_of(node)
        for path in ("/things/new", f"/things/{token}/edit", f"/things/{token}/delete"):
            forged = await bob.post(path, {"csrf": "from-another-site", "text": "Forged"})
            assert forged.status == 403 and "came from another site" in forged.html
        for path in (f"/things/{token}/edit", f"/things/{token}/delete"):
            assert (await carol.get(path)).status == 404
            taken = await carol.submit("/things", path, {"text": "Carol's now"})
            assert taken.status == 404 and "only its creator can change or delete it" in taken.html
            asked = await visitor.get(path)
            assert asked.url.startswith(f"{node.base_url}/login?next=") and asked.status == 200
        nothing = await bob.get("/things/no-such-token/edit")
        assert nothing.status == 404 and "There is no such thing here." in nothing.html
        assert await things_of(node) == before
        assert "Edit" not in (await carol.get(f"/things/{token}")).html.split("<main", 1)[1]
    finally:
        for browser in (bob, carol, visitor):
            await browser.close()


async def test_browsers_get_a_page_with_who_flattred_it_and_servers_keep_the_object(node: Node) -> None:
    operator, alice, bob = await account(node, "op", admin=True), await account(node, "alice"), await account(
        node, "bob")
    thing = (await bob.call("POST", "/api/v1/things", {"url": "https://bob.example/post", "title": "A <post>",
                                                       "text": "Words"})).body
    url = thing["object_id"]
    assert (await operator.call("POST", "/api/v1/admin/users/alice/topups", {"amount": "10.00"})).status == 201
    assert (await alice.call("PUT", "/api/v1/me/budget", {"amount": "4.00"})).status == 200
    assert (await alice.call("POST", "/api/v1/flattrs", {"url": url})).status == 201
    period = node.live.current_period().label

    status, media_type, vary, html = await fetch(url, "text/html,application/xhtml+xml,*/*;q=0.8")
    assert (status, media_type) == (200, "text/html") and "Accept" in vary.split(", ")
    assert "<h1 id=\"thing-title\">A &lt;post&gt;</h1>" in html and "<p class=\"thing-text\">Words</p>" in html
    assert '<a href="/users/bob">bob</a>' in html and f"@bob@{node.host}" in html
    assert f'href="{node.base_url}/flattr-button?url={quote(url, safe="")}"' in html
    assert f"1 flattr in {period}." in html
    assert f'<a href="{node.base_url}/users/alice">@alice@{node.host}</a>' in html
    assert "Edit" not in html.split("<main", 1)[1]

    for accept, expected in [(AP_ACCEPT, "application/activity+json"), ("application/ld+json", "application/ld+json"),
                             ("*/*", "application/activity+json"),
                             ("text/html, application/activity+json", "application/activity+json")]:
        status, media_type, vary, body = await fetch(url, accept)
        assert (status, media_type, vary) == (200, expected, "Accept") and '"type": "Page"' in body, accept
        assert f'"id": "{url}"' in body
    unknown = f"{node.base_url}/things/nothing-here"
    assert (await fetch(unknown, "text/html"))[:2] == (404, "text/html")
    status, media_type, _, body = await fetch(unknown, AP_ACCEPT)
    assert (status, media_type) == (404, "application/json") and '"not_found"' in body
    await assert_ledger_balances(node)


async def test_servers_following_the_creator_get_each_thing_offered_edited_and_deleted(federation: Federation) -> None:
    a, b = await federation.start("a"), await federation.start("b")
    bob = await logged_in(a, "bob")
    try:
        await account(b, "carol")
        await follow_account(b.live, "carol", f"bob@{a.host}")
        await eventually(lambda: _following_accepted(b), what="carol follows bob")
        token = token_of(await bob.submit("/things/new", "/things/new", {"text": "First words"}))
        edit = f"/things/{token}/edit"
        assert (await bob.submit(edit, edit, {"text": "Second words"})).status == 200
        assert (await bob.submit(edit, edit, {"text": "Second words"})).status == 200
        await bob.submit(f"/things/{token}/delete", f"/things/{token}/delete", {})
        await eventually(lambda: _received(b, 3), what="Create, Update and Delete delivered to carol")
        assert [(kind, obj["type"], obj.get("content")) for kind, obj in await _inbox(b)] == [
            ("Create", "Note", "<p>First words</p>"), ("Update", "Note", "<p>Second words</p>"),
            ("Delete", "Tombstone", None)]
    finally:
        await bob.close()


async def _following_accepted(node: Node) -> bool:
    async with node.live.sessions() as session:
        return bool(await session.scalar(select(Following.accepted)))


async def _inbox(node: Node) -> list[tuple[str, dict[str, Any]]]:
    async with node.live.sessions() as session:
        rows = await session.scalars(select(InboxItem.activity).order_by(InboxItem.id))
        return [(row["type"], row["object"]) for row in rows if row["type"] in ("Create", "Update", "Delete")]


async def _received(node: Node, count: int) -> bool:
    return len(await _inbox(node)) >= count
