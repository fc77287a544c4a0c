"""A creator whose browser asks for French offers things and asks for a withdrawal, over real HTTP.

Bruno's refused form says why in French and keeps what he typed; his thing's
page, who flattred it, his earnings once the period closed, its deletion and
what is left at its address are in French; an unknown
address and a cross-site form give the French error pages, and change no row.
Carla asks for "5,00", as the French write it, and is refused in French as
too little, then too much; "20,00" is set aside; a wrong IBAN is refused in
French. Olga, the operator, records a bank transfer of "5,00" and is told in
French that it credited the donor's top-up, and that there is no account she
could credit by hand under a name nobody has. The books balance.
"""


from sqlalchemy import func, select, update

from api_client import account, assert_ledger_balances
from earnings_helper import bank_details_at_once, book_earnings
from federation_harness import Federation, Node, eventually
from server.i18n.formatting import date_text
from server.models import Thing, User
from server.payments import bank_transfers
from server.web.passwords import hash_password
from settlement import topups, wallets
from settlement.models import Earning, TopUp, Withdrawal
from settlement.money import Money
from web_client import Browser

PASSWORD = "correct horse"
FRENCH = "fr-FR, fr;q=0.9, en;q=0.5"


async def in_french(node: Node, name: str, *, admin: bool = False) -> Browser:
    await account(node, name, admin=admin)
    async with node.live.sessions() as session, session.begin():
        await session.execute(update(User).where(User.username == name).values(
            password_hash=await hash_password(PASSWORD)))
    return await logged_in(node, name)


async def logged_in(node: Node, name: str) -> Browser:
    browser = Browser(node, accept_language=FRENCH)
    page = await browser.submit("/login", "/login", {"username": name, "password": PASSWORD, "next": "/things"})
    assert page.status == 200 and page.language == "fr" and page.url.endswith("/things")
    return browser


async def count(node: Node, model: type[Thing] | type[Withdrawal]) -> int:
    async with node.live.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def flattred_by_alice(node: Node, object_id: str) -> None:
    operator, alice = await account(node, "op", admin=True), await account(node, "alice")
    assert (await operator.call("POST", "/api/v1/admin/users/alice/topups", {"amount": "10.00"})).status == 201
    assert (await alice.call("PUT", "/api/v1/me/budget", {"amount": "4.00"})).status == 200
    assert (await alice.call("POST", "/api/v1/flattrs", {"url": object_id})).status == 201


async def earned(node: Node, creator: str) -> bool:
    async with node.live.sessions() as session:
        return await session.scalar(select(Earning.id).where(Earning.creator == creator)) is not None


async def test_a_french_creator_offers_and_deletes_a_thing_and_reads_the_error_pages(federation: Federation) -> None:
    node = await federation.start("a")
    bruno = await in_french(node, "bruno")
    try:
        empty = await bruno.get("/things")
        assert "Vos créations" in empty.html and "Vous ne proposez encore rien." in empty.html
        assert "Your things" not in empty.html
        typed = {"url": "ftp://bruno.example/chanson", "title": "Une chanson", "text": "Mots gardés"}
        refused = await bruno.submit("/things/new", "/things/new", typed)
        assert refused.status == 400 and refused.language == "fr"
        assert "Veuillez corriger ceci :" in refused.html
        assert "L’adresse d’une création doit être une adresse http(s)." in refused.html
        assert 'value="ftp://bruno.example/chanson"' in refused.html and 'value="Une chanson"' in refused.html
        assert ">Mots gardés</textarea>" in refused.html and "Proposer une création" in refused.html
        assert await count(node, Thing) == 0
        too_long = await bruno.submit("/things/new", "/things/new", {**typed, "url": "https://bruno.example/c",
                                                                     "title": "x" * 201})
        assert too_long.status == 400 and "Le titre contient au plus 200 caractères." in too_long.html
        assert await count(node, Thing) == 0

        offered = await bruno.submit("/things/new", "/things/new", {**typed, "url": "https://bruno.example/chanson"})
        assert offered.status == 200 and "/things/" in offered.url
        assert "Vous avez proposé « Une chanson ». Partagez l’adresse de cette page" in offered.html
        assert "Par <a href=\"/users/bruno\">bruno</a>" in offered.html and "Modifier" in offered.html
        period = node.live.current_period().label
        assert f"Personne n’a encore flattré ceci en {period}." in offered.html
        assert "Nobody has flattred" not in offered.html
        own = await bruno.get("/users/bruno")
        assert "Créations à flattrer" in own.html and f"0 flattr en {period}" in own.html and "Vos gains" in own.html

        thing = offered.url.split(node.base_url, 1)[1]
        await flattred_by_alice(node, offered.url)
        assert f"1 flattr en {period}." in (await bruno.get(thing)).html
        node.clock.advance(days=40)
        await eventually(lambda: earned(node, "bruno"), what="the period closed with bruno's earnings")
        await bruno.close()
        bruno = await logged_in(node, "bruno")
        earnings = (await bruno.get("/users/bruno")).html
        assert "En tout : <strong>4,00\u00a0€</strong> pour 1 flattr." in earnings
        assert "Gains par période" in earnings and f"<caption>{period} : " not in earnings
        assert f"<caption>{period}: 4,00\u00a0€</caption>" in earnings and "Earnings per" not in earnings
        assert '<td class="amount">4,00</td>' in earnings and ">4.00<" not in earnings
        confirm = await bruno.get(f"{thing}/delete")
        assert "Supprimer « Une chanson » ?" in confirm.html
        deleted = await bruno.submit(f"{thing}/delete", f"{thing}/delete", {})
        assert deleted.url.endswith("/things") and "Vous avez supprimé « Une chanson »." in deleted.html
        gone = await bruno.get(thing)
        assert gone.status == 410 and "Cette création a été supprimée" in gone.html
        assert f"l’a supprimée le {date_text(node.live.clock(), 'fr')}" in gone.html

        for path, said in [("/things/nulle-part", "Il n’y a pas de telle création ici."),
                           ("/nulle-part", "Il n’y a pas de page à cette adresse."),
                           ("/users/personne", "Aucun·e créateur·rice nommé·e personne ici.")]:
            missing = await bruno.get(path)
            assert missing.status == 404 and missing.language == "fr", path
            assert "Cela n’a pas fonctionné" in missing.html and said in missing.html, path
            assert "Retour à la page d’accueil" in missing.html and "That did not work" not in missing.html
        forged = await bruno.post("/things/new", {"csrf": "venu-d-ailleurs", "text": "Falsifié"})
        assert forged.status == 403 and forged.language == "fr"
        assert "Ce formulaire a expiré ou vient d’un autre site. Rechargez la page et réessayez." in forged.html
        assert await count(node, Thing) == 1
    finally:
        await bruno.close()
    await assert_ledger_balances(node)


async def test_a_french_creator_is_refused_a_withdrawal_and_an_operator_records_a_transfer_in_french(
        federation: Federation) -> None:
    node = await federation.start("a")
    carla = await in_french(node, "carla")
    now = node.live.clock()
    async with node.live.sessions() as session, session.begin():
        await book_earnings(session, "carla", 5000, now)
        await bank_details_at_once(session, "carla", now)
    try:
        for typed, status, said in [("5,00", 400, "Le plus petit retrait est de 10.00 EUR."),
                                    ("100,00", 409, "Vous avez 50.00 EUR disponibles ; l’argent que d’autres")]:
            refused = await carla.submit("/payouts", "/payouts/withdrawals", {"amount": typed, "currency": "EUR"})
            assert refused.status == status and refused.language == "fr" and said in refused.html, refused.html
            assert f'value="{typed}"' in refused.html, "what was typed is kept"
        assert await count(node, Withdrawal) == 0
        asked = await carla.submit("/payouts", "/payouts/withdrawals", {"amount": "20,00", "currency": "EUR"})
        assert asked.status == 200 and "C’est demandé : 20,00\u00a0€ mis de côté" in asked.html
        async with node.live.sessions() as session:
            assert [(row.amount, row.currency) for row in await session.scalars(select(Withdrawal))] == [(2000, "EUR")]
        wrong = await carla.submit("/payouts", "/payouts/details", {"password": PASSWORD, "iban": "FR00 1234",
                                                                    "account_holder": "Carla"})
        assert wrong.status == 400 and "'FR00 1234' n’est pas un IBAN valide" in wrong.html.replace("&#39;", "'")
    finally:
        await carla.close()

    reference = bank_transfers.new_reference()
    async with node.live.sessions() as session, session.begin():
        await topups.start(session, username="carla", provider=bank_transfers.NAME, money=Money(500, "EUR"),
                           reference=reference, now=node.live.clock())
    olga = await in_french(node, "olga", admin=True)
    try:
        credited = await olga.submit("/admin/topups", "/admin/topups/transfers",
                                     {"text": f"Virement {reference}", "transfer_amount": "5,00"})
        assert credited.status == 200 and f"{reference} : crédité sur le portefeuille de carla." in credited.html
        again = await olga.submit("/admin/topups", "/admin/topups/transfers",
                                  {"text": reference, "transfer_amount": "5,00"})
        assert again.status == 400 and f"{reference} : déjà crédité sur le portefeuille de carla" in again.html
        nobody = await olga.submit("/admin/topups", "/admin/topups",
                                   {"username": "personne", "amount": "5,00", "reference": "espèces-1"})
        assert nobody.status == 400 and "Aucun compte &#39;personne&#39; ici." in nobody.html
        async with node.live.sessions() as session:
            assert (await session.scalar(select(TopUp.state))) == topups.CONFIRMED
            assert await wallets.wallet_balance(session, "carla", "EUR") == Money(500, "EUR")
    finally:
        await olga.close()
    await assert_ledger_balances(node)
