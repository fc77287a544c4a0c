"""Email and accounts, over real HTTP and a real SMTP server: an address confirmed by a link, a forgotten password
set again by one, what a person receives chosen in settings or turned off by an unsubscribe link without a login.

Every link works once; a bad, used or expired one is a page saying so that
changes nothing; asking for a password reset never tells whether an account
exists.
"""

import re
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import func, select

from federation_harness import Federation, Node, eventually
from server.models import MailMessage, User, WebSession
from smtp_server import Mailbox, html_of, text_of
from web_client import Browser

SIGNUP = {"username": "alice", "display_name": "Alice", "password": "correct horse", "confirm": "correct horse"}
VERIFY_LINK = re.compile(r"(/mail/verify/[A-Za-z0-9_-]{43})")
RESET_LINK = re.compile(r"(/password/reset/[A-Za-z0-9_-]{43})")
BAD_TOKENS = ["nothing", "A" * 43, "%00" * 3, "a" * 400]


@pytest.fixture
async def node(federation: Federation, mailbox: Mailbox) -> Node:
    mailbox.start()
    return await federation.start("a", **mailbox.settings())


@pytest.fixture
async def browser(node: Node) -> AsyncIterator[Browser]:
    visitor = Browser(node)
    yield visitor
    await visitor.close()


async def account(node: Node, username: str) -> User:
    async with node.live.sessions() as session:
        found = await session.scalar(select(User).where(User.username == username))
        assert found is not None
        return found


async def queued(node: Node) -> int:
    async with node.live.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(MailMessage)) or 0)


async def token_dropped(node: Node) -> bool:
    async with node.live.sessions() as session:
        return list(await session.scalars(select(MailMessage.context))) == ["{}"]


def path_in(pattern: re.Pattern[str], text: str) -> str:
    found = pattern.search(text)
    assert found, text
    return found.group(1)


async def test_an_address_given_at_sign_up_is_used_once_its_link_is_opened(node: Node, mailbox: Mailbox,
                                                                           browser: Browser) -> None:
    form = await browser.get("/signup")
    assert 'name="email"' in form.html and "(optional)" in form.html
    refused = await browser.submit("/signup", "/signup", {**SIGNUP, "email": "not an address"})
    assert refused.status == 400 and "Give an email address" in refused.html and await queued(node) == 0

    page = await browser.submit("/signup", "/signup", {**SIGNUP, "email": "Alice@Example.ORG"})
    assert page.status == 200 and "Signed in as <strong>alice</strong>" in page.html
    [message] = await mailbox.wait_for("Alice@example.org", subject="Confirm your email address")
    assert message["From"] == "Mecene a <mecene@example.org>" and message["List-Unsubscribe"] is None
    assert message["Content-Language"] == "en" and "within 48 hours" in text_of(message)
    link = path_in(VERIFY_LINK, text_of(message))
    assert f'href="{node.base_url}{link}"' in html_of(message)
    assert (await account(node, "alice")).email is None
    await eventually(lambda: token_dropped(node), what="the sent link's token dropped from the outbox")

    for token in BAD_TOKENS:
        bad = await browser.get(f"/mail/verify/{token}")
        assert bad.status == 404 and "unknown, used already or expired" in bad.html, token
    assert (await account(node, "alice")).email is None

    confirmed = await Browser(node).get(link)
    assert confirmed.status == 200 and "now receives its email at Alice@example.org" in confirmed.html
    alice = await account(node, "alice")
    assert alice.email == "Alice@example.org" and alice.unsubscribe_token
    again = await browser.get(link)
    assert again.status == 404 and "used already" in again.html
    assert len(mailbox.messages) == 1


async def test_a_forgotten_password_is_set_again_by_a_link_that_works_once(node: Node, mailbox: Mailbox,
                                                                          browser: Browser) -> None:
    await browser.submit("/signup", "/signup", {**SIGNUP, "email": "alice@example.org"})
    [verify] = await mailbox.wait_for("alice@example.org", subject="Confirm")
    await browser.get(path_in(VERIFY_LINK, text_of(verify)))
    await browser.submit("/", "/logout", {})
    assert 'href="/password/forgot"' in (await browser.get("/login")).html

    for unknown in ("nobody", "someone@example.org", ""):
        answer = await browser.submit("/password/forgot", "/password/forgot", {"account": unknown})
        assert answer.status == 200 and "If an account with a confirmed email address matches" in answer.html
    asked = await browser.submit("/password/forgot", "/password/forgot", {"account": "alice"})
    assert asked.status == 200 and "If an account with a confirmed email address matches" in asked.html
    [message] = await mailbox.wait_for("alice@example.org", subject="Set a new password")
    link = path_in(RESET_LINK, text_of(message))
    still_in = Browser(node)
    await still_in.submit("/login", "/login", {"username": "alice", "password": "correct horse"})

    form = await browser.get(link)
    assert form.status == 200 and "Set a new password" in form.html
    short = await browser.submit(link, link, {"password": "short", "confirm": "short"})
    assert short.status == 400 and "at least 10 characters" in short.html
    differ = await browser.submit(link, link, {"password": "a new horse", "confirm": "another horse"})
    assert differ.status == 400 and "differ" in differ.html
    done = await browser.submit(link, link, {"password": "a new horse", "confirm": "a new horse"})
    assert done.status == 200 and done.url.endswith("/login") and "Your new password is set" in done.html
    assert "Signed in" not in (await still_in.get("/")).html
    await still_in.close()
    async with node.live.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(WebSession)) == 0

    assert (await browser.get(link)).status == 404
    reused = await browser.post(link, {"csrf": form.hidden("csrf"), "password": "third horse!",
                                       "confirm": "third horse!"})
    assert reused.status == 404 and "used already" in reused.html
    for token in BAD_TOKENS:
        assert (await browser.get(f"/password/reset/{token}")).status == 404
    old = await browser.submit("/login", "/login", {"username": "alice", "password": "correct horse"})
    assert old.status == 400
    new = await browser.submit("/login", "/login", {"username": "alice", "password": "a new horse"})
    assert "Signed in as <strong>alice</strong>" in new.html

    for _ in range(10):
        await browser.submit("/password/forgot", "/password/forgot", {"account": "alice"})
    limited = await browser.submit("/password/forgot", "/password/forgot", {"account": "alice"})
    assert limited.status == 429 and "Too many requests" in limited.html


async def test_settings_change_the_address_and_what_comes_and_an_unsubscribe_link_stops_it(
        node: Node, mailbox: Mailbox, browser: Browser) -> None:
    await browser.submit("/signup", "/signup", SIGNUP)
    settings = await browser.get("/settings")
    assert "You gave no confirmed email address" in settings.html
    wrong = await browser.submit("/settings", "/settings/email", {"email": "alice@example.org", "password": "guess"})
    assert wrong.status == 400 and "Wrong password" in wrong.html and await queued(node) == 0
    bad = await browser.submit("/settings", "/settings/email", {"email": "alice@", "password": "correct horse"})
    assert bad.status == 400 and "Give an email address" in bad.html and await queued(node) == 0
    sent = await browser.submit("/settings", "/settings/email", {"email": "alice@example.org",
                                                                 "password": "correct horse"})
    assert sent.status == 200 and "A link to confirm alice@example.org is on its way" in sent.html
    [message] = await mailbox.wait_for("alice@example.org", subject="Confirm")
    await browser.get(path_in(VERIFY_LINK, text_of(message)))
    assert "We email you at <strong>alice@example.org</strong>" in (await browser.get("/settings")).html

    choices = await browser.submit("/settings", "/settings/mail", {"mail_notices": "on"})
    assert choices.status == 200 and "Saved: what we email you." in choices.html
    alice = await account(node, "alice")
    assert (alice.mail_summaries, alice.mail_notices) == (False, True)

    token = alice.unsubscribe_token
    assert token
    for bad_token in BAD_TOKENS:
        assert (await browser.get(f"/mail/unsubscribe/{bad_token}")).status == 404
    stranger = Browser(node)
    asked = await stranger.get(f"/mail/unsubscribe/{token}")
    assert asked.status == 200 and "Stop the monthly summaries" in asked.html
    assert (await account(node, "alice")).mail_notices
    forged = await stranger.post(f"/mail/unsubscribe/{token}", {"csrf": "forged"})
    assert forged.status == 403 and (await account(node, "alice")).mail_notices
    refused = await stranger.submit(f"/mail/unsubscribe/{token}", "/mail/unsubscribe/" + "B" * 43, {})
    assert refused.status == 404 and (await account(node, "alice")).mail_notices
    done = await stranger.submit(f"/mail/unsubscribe/{token}", f"/mail/unsubscribe/{token}", {})
    assert done.status == 200 and "You will receive no more summaries or notices" in done.html
    await stranger.close()
    alice = await account(node, "alice")
    assert (alice.mail_summaries, alice.mail_notices, alice.email) == (False, False, "alice@example.org")

    removed = await browser.submit("/settings", "/settings/email", {"email": "", "password": "correct horse"})
    assert removed.status == 200 and "Your email address is removed" in removed.html
    assert (await account(node, "alice")).email is None


async def test_with_mail_off_no_page_asks_for_an_address_and_nothing_is_queued(federation: Federation) -> None:
    node = await federation.start("quiet")
    visitor = Browser(node)
    assert 'name="email"' not in (await visitor.get("/signup")).html
    assert "/password/forgot" not in (await visitor.get("/login")).html
    assert (await visitor.get("/password/forgot")).status == 404
    page = await visitor.submit("/signup", "/signup", {**SIGNUP, "email": "alice@example.org"})
    assert page.status == 200 and "Signed in as <strong>alice</strong>" in page.html
    settings = await visitor.get("/settings")
    assert "/settings/email" not in settings.html
    refused = await visitor.submit("/settings", "/settings/email", {"email": "alice@example.org",
                                                                    "password": "correct horse"})
    assert refused.status == 404 and await queued(node) == 0 and (await account(node, "alice")).email is None
    await visitor.close()
