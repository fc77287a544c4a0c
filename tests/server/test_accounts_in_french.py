"""An account in French, over real HTTP and a real SMTP server: signed up from a French browser, its language chosen
in settings and brought by logging in to a browser that asks for English, and its emails written in it.

The account's language is its own choice (`users.language`): the page it
signed up on, then the settings or the footer's language form once logged
in. An account that never chose follows each browser, and gets English
emails.
"""

import re

import pytest
from sqlalchemy import select
from test_operator_pages import PASSWORD as OPERATOR_PASSWORD
from test_operator_pages import with_password

from api_client import account, assert_ledger_balances
from federation_harness import Federation, Node
from server.models import User
from smtp_server import Mailbox, html_of, text_of
from web_client import Browser

PASSWORD = "correct horse"
FRENCH = "fr-FR, fr;q=0.9, en;q=0.5"
VERIFY_LINK = re.compile(r"(/mail/verify/[A-Za-z0-9_-]{43})")


@pytest.fixture
async def node(federation: Federation, mailbox: Mailbox) -> Node:
    mailbox.start()
    return await federation.start("a", **mailbox.settings())


async def language_of(node: Node, username: str) -> str | None:
    async with node.live.sessions() as session:
        return await session.scalar(select(User.language).where(User.username == username))


def link_in(text: str) -> str:
    found = VERIFY_LINK.search(text)
    assert found, text
    return found.group(1)


async def test_a_french_account_keeps_its_language_on_every_browser_and_in_its_emails(
        node: Node, mailbox: Mailbox) -> None:
    browser, elsewhere = Browser(node, accept_language=FRENCH), Browser(node, accept_language="en-GB, en;q=0.9")
    try:
        form = await browser.get("/signup")
        assert form.language == "fr" and "Créez votre compte" in form.html and "Mot de passe, à nouveau" in form.html
        differ = await browser.submit("/signup", "/signup", {
            "username": "amelie", "password": PASSWORD, "confirm": "correct horses", "email": ""})
        assert differ.status == 400 and "Les deux mots de passe diffèrent." in differ.html
        for bad, said in (("Amélie!", "Un nom d’utilisateur compte 1 à 30 lettres minuscules"),
                          ("admin", "Le nom d’utilisateur « admin » est réservé.")):
            refused = await browser.submit("/signup", "/signup", {
                "username": bad, "password": PASSWORD, "confirm": PASSWORD, "email": ""})
            assert refused.status == 400 and said in refused.html and refused.language == "fr", bad
        assert await language_of(node, "amelie") is None

        signed_up = await browser.submit("/signup", "/signup", {
            "username": "amelie", "password": PASSWORD, "confirm": PASSWORD, "email": "amelie@example.org"})
        assert signed_up.url.endswith("/") and await language_of(node, "amelie") == "fr"
        [verify] = await mailbox.wait_for("amelie@example.org", subject="Confirmez votre adresse e-mail")
        assert verify["Content-Language"] == "fr" and "dans les 48 heures" in text_of(verify)
        confirmed = await browser.get(link_in(text_of(verify)))
        assert "reçoit désormais ses e-mails à amelie@example.org" in confirmed.html

        english = await browser.submit("/settings", "/settings/language", {"locale": "en"})
        assert english.language == "en" and "Language saved: English." in english.html
        assert await language_of(node, "amelie") == "en"
        unknown = await browser.submit("/settings", "/settings/language", {"locale": "de"})
        assert unknown.status == 400 and "Choose English or French." in unknown.html
        assert await language_of(node, "amelie") == "en"
        chosen = await browser.submit("/settings", "/settings/language", {"locale": "fr"})
        assert chosen.language == "fr" and "Langue enregistrée : Français." in chosen.html
        assert '<option value="fr" lang="fr" selected>' in chosen.html and await language_of(node, "amelie") == "fr"

        wrong = await elsewhere.submit("/login", "/login", {"username": "amelie", "password": "not it at all"})
        assert wrong.language == "en" and "Wrong username or password." in wrong.html
        logged_in = await elsewhere.submit("/login", "/login", {
            "username": "amelie", "password": PASSWORD, "next": "/settings"})
        assert logged_in.language == "fr" and "Connecté·e en tant que <strong>amelie</strong>" in logged_in.html
        assert "Budget mensuel" in logged_in.html

        operator = await account(node, "op", admin=True)
        credited = await operator.call("POST", "/api/v1/admin/users/amelie/topups",
                                       {"amount": "6.00", "reference": "cash-fr"})
        assert credited.status == 201
        [receipt] = await mailbox.wait_for("amelie@example.org", subject="Reçu")
        assert receipt["Content-Language"] == "fr" and "6,00\u00a0€ ajoutés à votre portefeuille" in receipt["Subject"]
        assert "6,00\u00a0€ ont été ajoutés à votre portefeuille" in text_of(receipt)
        assert "<td>6,00\u00a0€</td>" in html_of(receipt) and '<html lang="fr">' in html_of(receipt)

        footer = (await elsewhere.get("/settings")).hidden("csrf")
        back = await elsewhere.post("/language", {"csrf": footer, "locale": "en", "next": "/settings"})
        assert back.language == "en" and await language_of(node, "amelie") == "en"
        assert '<option value="en" lang="en" selected>' in back.html
    finally:
        await browser.close()
        await elsewhere.close()
    await assert_ledger_balances(node)


async def test_an_account_that_never_chose_follows_each_browser_and_gets_english_emails(
        node: Node, mailbox: Mailbox) -> None:
    await with_password(node, "bob", admin=False)
    async with node.live.sessions() as session, session.begin():
        bob = await session.scalar(select(User).where(User.username == "bob"))
        assert bob is not None and bob.language is None
        bob.email = "bob@example.org"
    for asked, said in ((FRENCH, "Connecté·e en tant que"), ("en", "Signed in as")):
        visitor = Browser(node, accept_language=asked)
        try:
            page = await visitor.submit("/login", "/login", {
                "username": "bob", "password": OPERATOR_PASSWORD, "next": "/settings"})
            assert page.status == 200 and said in page.html, asked
        finally:
            await visitor.close()
    assert await language_of(node, "bob") is None

    operator = await account(node, "op", admin=True)
    assert (await operator.call("GET", "/api/v1/me")).body["language"] is None
    credited = await operator.call("POST", "/api/v1/admin/users/bob/topups", {"amount": "6.00", "reference": "cash-en"})
    assert credited.status == 201
    [receipt] = await mailbox.wait_for("bob@example.org", subject="Receipt")
    assert receipt["Content-Language"] == "en" and "6.00 EUR was added to your wallet" in text_of(receipt)
    await assert_ledger_balances(node)
