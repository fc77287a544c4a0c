"""A donor whose browser speaks French, in Chromium: signs up, sets a budget the French way, flattrs a thing by its
address and sees, in French, what it is worth now and, once the period has closed, where the money went.

Nobody chooses a language: Chromium's French locale sends `Accept-Language: fr-FR`, and every page answers in
French with French figures ("5,00 €"). The operator's browser keeps English, so both languages are served side
by side by one instance. The creator's thing is made through the JSON API, and the test moves the clock to end
the period, as the English story does (test_end_to_end.py).
"""

import re
from collections.abc import Awaitable, Callable
from urllib.parse import quote

from people import Person
from playwright.async_api import expect
from test_end_to_end import PASSWORD, wait_for_close, with_password

from api_client import Api, account, assert_ledger_balances
from federation_harness import Federation

People = Callable[..., Awaitable[Person]]
TITLE = "Chanson du port"
#: Five euros as French writes them: a decimal comma, then a (no-break) space before the sign.
FIVE_EUROS = re.compile(r"5,00\s€")


async def test_a_french_browser_signs_up_flattrs_and_sees_where_its_money_went(federation: Federation,
                                                                                people: People) -> None:
    a = await federation.start("a")
    await with_password(a, "olga", admin=True)
    carla: Api = await account(a, "carla")
    posted = await carla.call("POST", "/api/v1/things", {"text": TITLE})
    assert posted.status == 201, posted.body
    thing, author = posted.body["object_id"], f"@carla@{a.host}"

    dora, olga = await people("dora", locale="fr-FR"), await people("olga")
    await dora.visit(a, "/signup")
    await expect(dora.page.get_by_role("heading", level=1)).to_have_text("Créez votre compte")
    await dora.page.get_by_label("Nom d’utilisateur·rice").fill("dora")
    await dora.page.get_by_label("Mot de passe", exact=True).fill(PASSWORD)
    await dora.page.get_by_label("Mot de passe, à nouveau").fill(PASSWORD)
    await dora.shot("sign-up-in-french")
    await dora.page.get_by_role("button", name="S’inscrire").click()
    await expect(dora.page.get_by_text("Connecté·e en tant que dora")).to_be_visible()
    await expect(dora.page.get_by_role("heading", level=1)).to_have_text("Bonjour, dora")
    await dora.shot("signed-up")

    await olga.log_in(a, "olga", PASSWORD)
    await olga.top_up(a, "dora", "20.00", "virement-18")

    await dora.visit(a, "/settings")
    await dora.page.get_by_label("Montant en EUR").fill("5,00")
    await dora.page.get_by_role("button", name="Enregistrer le budget").click()
    await expect(dora.page.get_by_role("status")).to_contain_text(FIVE_EUROS)
    await dora.shot("budget-typed-the-french-way")

    await dora.visit(a, f"/flattr?url={quote(thing, safe='')}")
    await expect(dora.page.get_by_role("heading", level=1)).to_have_text(f"Flattrer « {TITLE} »")
    await expect(dora.page.locator("#author")).to_have_text(f"Par {author}")
    await expect(dora.page.locator("#value")).to_have_text(
        re.compile(r"^Si vous le flattrez, un flattr vaut 5,00\s€ en ce moment\.$"))
    await expect(dora.page.locator("#value-help")).to_contain_text(re.compile(r"votre budget de 5,00\s€"))
    await dora.shot("confirm-in-french")
    await dora.page.get_by_role("button", name="Le flattrer").click()
    await expect(dora.page.get_by_role("status")).to_have_text(f"Vous avez flattré « {TITLE} » de {author}.")

    period = a.live.current_period().label
    this_period = dora.page.get_by_role("region", name=re.compile(rf"^Cette période \({period}, jusqu’au "))
    await expect(this_period.get_by_role("row", name=TITLE)).to_contain_text(FIVE_EUROS)
    await expect(this_period.get_by_role("row", name=TITLE)).to_contain_text("enregistré ici")
    await expect(dora.page.locator("#value-now")).to_have_text(FIVE_EUROS)
    await expect(dora.page.locator("#wallet")).to_have_text(re.compile(r"^20,00\s€$"))
    await dora.shot("dashboard-in-french")

    a.clock.advance(days=40)
    await olga.log_in(a, "olga", PASSWORD)
    await wait_for_close(olga, a, period)
    await dora.visit(a, "/login")  # forty days later, her session has expired: the French log-in page
    await dora.page.get_by_label("Nom d’utilisateur·rice").fill("dora")
    await dora.page.get_by_label("Mot de passe", exact=True).fill(PASSWORD)
    await dora.page.get_by_role("button", name="Se connecter").click()
    await expect(dora.page.get_by_text("Connecté·e en tant que dora")).to_be_visible()

    went = dora.page.get_by_role("region", name="Où est allé votre argent")
    for _ in range(40):
        await dora.page.reload()
        if await went.get_by_role("row", name=TITLE).count():
            break
        await dora.page.wait_for_timeout(500)
    share = went.get_by_role("row", name=TITLE)
    await expect(share).to_contain_text(FIVE_EUROS)
    await expect(share).to_contain_text(f"crédité à {author} sur cette instance")
    await expect(went).to_contain_text(re.compile(r"Dépensé : 5,00\s€, dont 0,00\s€ de frais de l’instance\."))
    await expect(dora.page.locator("#wallet")).to_have_text(re.compile(r"^15,00\s€$"))
    await dora.shot("where-the-money-went-in-french")
    await assert_ledger_balances(a)
