"""The operator's pages for an operator whose browser asks for French, over real HTTP.

Olga reads the overview, the top-ups and the withdrawals in French, with
amounts written the French way ("5,00 €"); she credits a wallet by hand with
"5,00" typed as the French write it and exactly 5.00 EUR is credited; a bad
amount is refused in French and moves nothing; a batch she approves is
announced in French. The books balance at the end.
"""


from sqlalchemy import func, select
from test_operator_pages import PASSWORD, with_password

from api_client import account, assert_ledger_balances
from earnings_helper import bank_details_at_once, book_earnings
from federation_harness import Federation, Node
from server.i18n.formatting import date_text
from settlement import wallets, withdrawals
from settlement.models import Transaction
from settlement.money import Money
from web_client import Browser

EUROS_5 = "5,00\u00a0€"


async def in_french(node: Node, name: str) -> Browser:
    browser = Browser(node, accept_language="fr-FR, fr;q=0.9, en;q=0.5")
    page = await browser.submit("/login", "/login", {"username": name, "password": PASSWORD})
    assert page.status == 200 and page.language == "fr"
    return browser


async def postings(node: Node) -> int:
    async with node.live.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(Transaction)) or 0)


async def carla_asks_for_what_dora_gave(node: Node) -> None:
    """Dora's wallet given to carla as a close books it, then carla's withdrawal of it, asked at once."""
    await account(node, "carla")
    now = node.live.clock()
    async with node.live.sessions() as session, session.begin():
        await book_earnings(session, "carla", 500, now)
        await bank_details_at_once(session, "carla", now)
        await withdrawals.request(session, "carla", Money(500, "EUR"), minimum=Money(100, "EUR"), now=now)


async def test_an_operator_reads_and_types_amounts_in_french(federation: Federation) -> None:
    node = await federation.start("a")
    await with_password(node, "olga", admin=True)
    await account(node, "dora")
    olga = await in_french(node, "olga")
    try:
        overview = await olga.get("/admin")
        assert overview.status == 200 and '<html lang="fr">' in overview.html
        assert "Vue d’ensemble" in overview.html and "Total des portefeuilles" in overview.html
        assert "0,00\u00a0€" in overview.html and "Wallets total" not in overview.html

        credited = await olga.submit("/admin/topups", "/admin/topups",
                                     {"username": "dora", "amount": "5,00", "reference": "espèces-1"})
        assert credited.status == 200 and credited.url.endswith("/admin/topups")
        assert f"{EUROS_5} crédités à dora. Portefeuille de dora : {EUROS_5}." in credited.html
        assert "Tous les approvisionnements" in credited.html and "Every top-up" not in credited.html
        assert date_text(node.live.clock(), "fr") in credited.html
        async with node.live.sessions() as session:
            assert await wallets.wallet_balance(session, "dora", "EUR") == Money(500, "EUR")
        before = await postings(node)

        for typed, said in [("5,001", "Les montants en EUR ont au plus 2 décimales."),
                            ("cinq", "« cinq » n’est pas un montant")]:
            refused = await olga.submit("/admin/topups", "/admin/topups",
                                        {"username": "dora", "amount": typed, "reference": "espèces-2"})
            assert refused.status == 400 and 'role="alert"' in refused.html and said in refused.html
            assert f'value="{typed}"' in refused.html, "what was typed is kept"
        assert await postings(node) == before

        await carla_asks_for_what_dora_gave(node)
        waiting = await olga.get("/admin/withdrawals")
        assert waiting.status == 200 and f'id="requested-EUR">{EUROS_5}</td>' in waiting.html
        assert "Demandés par les créateur·rices" in waiting.html and "Asked by creators" not in waiting.html
        approved = await olga.submit("/admin/withdrawals", "/admin/withdrawals/batches", {"currency": "EUR"})
        assert approved.status == 200 and f"approuvé : 1 retrait, {EUROS_5}. Payez-le" in approved.html
        assert f'id="batched-EUR">{EUROS_5}</td>' in approved.html and "(EUR) : approuvé" in approved.html
    finally:
        await olga.close()
    await assert_ledger_balances(node)
