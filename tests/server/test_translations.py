"""Every message Mecene shows has its French, and a reader gets pages in the language they choose.

The messages are gathered the way `make messages` gathers them (pybabel's
extraction with the Makefile's keywords and `babel.cfg`), so a sentence added
to a template or a refusal without its French fails here, as does a French
entry whose placeholders differ from its English.
"""

import re
from pathlib import Path

import aiohttp
import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_keywords, parse_mapping_cfg
from babel.messages.pofile import read_po
from sqlalchemy import select

from federation_harness import Federation, Node
from localstripe_process import LocalStripe
from payments_helper import donor_at
from server.i18n.catalogues import catalogue_path
from server.i18n.formatting import amount_text, explain, read_amount
from settlement import ledger
from settlement.models import TopUp
from settlement.money import Money, MoneyError
from web_client import Browser

ROOT = Path(__file__).resolve().parents[2]
PLACEHOLDER = re.compile(r"%\([a-z_]+\)s|%s|%d|\{[a-z_]+\}")


def _source_messages() -> set[str]:
    keywords_line = re.search(r"^KEYWORDS := (.*)$", (ROOT / "Makefile").read_text(), re.MULTILINE)
    assert keywords_line, "the Makefile names the keywords `make messages` extracts"
    keywords = {**DEFAULT_KEYWORDS, **parse_keywords(keywords_line.group(1).replace("-k ", "").split())}
    with (ROOT / "babel.cfg").open() as mapping:
        method_map, options_map = parse_mapping_cfg(mapping)
    found = set()
    for _, _, message, _, _ in extract_from_dir(str(ROOT), method_map, options_map, keywords=keywords):
        found.add(message if isinstance(message, str) else message[0])
    return found


def _french() -> dict[str, object]:
    with catalogue_path("fr").open("rb") as source:
        catalogue = read_po(source, locale="fr")
    return {(m.id if isinstance(m.id, str) else m.id[0]): m for m in catalogue if m.id}


def test_every_message_has_its_french_with_the_same_placeholders() -> None:
    source, french = _source_messages(), _french()
    assert len(source) > 10
    missing = sorted(source - french.keys())
    assert not missing, f"run `make messages` and translate: {missing[:10]}"
    for message_id in source:
        entry = french[message_id]
        strings = entry.string if isinstance(entry.string, tuple) else (entry.string,)  # type: ignore[attr-defined]
        assert all(strings) and not entry.fuzzy, f"no French yet for {message_id!r}"  # type: ignore[attr-defined]
        for translated in strings:
            assert sorted(PLACEHOLDER.findall(translated)) == sorted(PLACEHOLDER.findall(message_id)), message_id
    stale = sorted(french.keys() - source)
    assert not stale, f"messages no longer in the code (run `make messages`): {stale[:10]}"


def test_amounts_are_written_and_read_the_french_way_exactly() -> None:
    assert amount_text(Money(600, "EUR"), "fr") == "6,00\u00a0€"
    assert amount_text(Money(600, "EUR"), "en") == "6.00 EUR"
    assert read_amount("5,00", "EUR", locale="fr") == Money(500, "EUR")
    assert read_amount("1\u202f000,05", "EUR", locale="fr") == Money(100005, "EUR")
    assert read_amount("0,1", "EUR", locale="fr") == Money(10, "EUR")
    with pytest.raises(MoneyError) as refused:
        read_amount("5,00", "EUR", locale="en")
    assert refused.value.code == "comma_decimal"
    with pytest.raises(MoneyError) as refused:
        read_amount("5,001", "EUR", locale="fr")
    assert explain(refused.value, "fr") == "Les montants en EUR ont au plus 2 décimales."


async def test_pages_speak_the_browsers_language_until_the_reader_chooses_another(federation: Federation) -> None:
    node = await federation.start("a")
    async with aiohttp.ClientSession(headers={"Accept": "text/html"}) as http:
        async with http.get(node.base_url + "/", headers={"Accept-Language": "fr-CH, en;q=0.5"}) as page:
            assert page.headers["Content-Language"] == "fr"
            assert "Accept-Language" in page.headers["Vary"]
        async with http.get(node.base_url + "/", headers={"Accept-Language": "de, en;q=0.1"}) as page:
            assert page.headers["Content-Language"] == "en"
    browser = Browser(node, accept_language="fr")
    try:
        home = await browser.get("/")
        assert home.language == "fr" and "Se connecter" in home.html and '<html lang="fr">' in home.html
        chosen = await browser.post("/language", {"csrf": home.hidden("csrf"), "locale": "en", "next": "/login"})
        assert chosen.url.endswith("/login") and chosen.language == "en"
        english = await browser.get("/")
        assert english.language == "en" and "Log in" in english.html and "Se connecter" not in english.html
        refused = await browser.post("/language", {"csrf": home.hidden("csrf"), "locale": "de", "next": "/"})
        assert refused.status == 400 and "English or French" in refused.html
        assert (await browser.get("/")).language == "en"
        forged = await browser.post("/language", {"csrf": "not-the-token", "locale": "fr", "next": "/"})
        assert forged.status == 403 and (await browser.get("/")).language == "en"
    finally:
        await browser.close()


async def _topups_of(node: Node) -> list[int]:
    async with node.live.sessions() as session:
        return list(await session.scalars(select(TopUp.amount).order_by(TopUp.id)))


async def test_a_french_donor_adds_money_typed_the_french_way_and_reads_french_figures(
        federation: Federation, localstripe_process: LocalStripe) -> None:
    async with donor_at(federation, localstripe_process, webhooks=False) as alice:
        alice.browser.accept_language = "fr-FR,fr;q=0.9"
        wallet = await alice.browser.get("/wallet")
        assert "Ajouter de l’argent" in wallet.html and "0,00\u00a0€" in wallet.html
        receipt = await alice.add_money("12,50", "bank")
        assert receipt.status == 200 and "Faites le virement" in receipt.html and "12,50\u00a0€" in receipt.html
        refused = await alice.add_money("12,505", "bank")
        assert refused.status == 400 and "Les montants en EUR ont au plus 2 décimales." in refused.html
        alice.browser.accept_language = "en"
        english = await alice.add_money("12,50", "bank")
        assert english.status == 400 and "Write decimals with a dot" in english.html
        assert await _topups_of(alice.node) == [1250]
        async with alice.node.live.sessions() as session:
            assert await ledger.check(session) == []
