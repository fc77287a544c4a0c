"""In Chromium: every page of the web UI fits a phone and a desktop, and axe-core finds nothing wrong on it.

One instance is filled once with what makes pages long and wide: a donor
with a wallet, a receipt, flattrs now and a closed period behind her (a
local thing and a post on a server without Mecene, named by the titles kept
with the flattrs), a long alias and a linked account; a creator with
things, earnings and withdrawals, one of them in a batch; an operator.
Each person then opens every page they can reach, and each page is
looked at 320, 390 and 1280 px wide without reloading: the page must not
scroll sideways (WCAG 1.4.10, reflow), and axe-core, run in the page under
the site's own Content-Security-Policy, must report no violation. Every
page and width is photographed in test-artifacts/.
"""

import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta
from pathlib import Path
from urllib.parse import quote, urlsplit

import axe_playwright_python
import pytest
from people import Person
from playwright.async_api import expect
from sqlalchemy import select
from test_accounts_and_operator import OPERATOR_PASSWORD, operator_account

from api_client import Api, account, assert_ledger_balances
from federation_harness import Federation, Node, eventually
from plain_peer import PlainPeer
from server.mail import kinds, links
from server.models import LinkedAccount, User
from server.payments import wallet_service
from server.web.passwords import hash_password
from server.withdrawing import service as withdrawals
from settlement.models import PERIOD_CLOSE_STATES, PeriodClose

People = Callable[..., Awaitable[Person]]
WIDTHS = (320, 390, 1280)
PASSWORD = "a long enough password"
#: axe-core, as the `axe-playwright-python` package of the test extra ships it.
AXE = (Path(axe_playwright_python.__file__).parent / "axe.min.js").read_text()
#: The elements that reach past the window's right edge, outside any box that scrolls them, as CSS selectors.
OVERFLOWING = """[...document.body.querySelectorAll('*')]
  .filter(element => element.getBoundingClientRect().right > window.innerWidth)
  .filter(element => {
    for (let box = element.parentElement; box; box = box.parentElement) {
      if (getComputedStyle(box).overflowX !== 'visible') return false;
    }
    return true;
  })
  .slice(0, 5)
  .map(element => element.tagName.toLowerCase() + (element.id ? '#' + element.id : '')
    + [...element.classList].map(name => '.' + name).join(''))"""
#: What dora flattred, as the dashboard names it: two things in the closed period, one in this one.
TITLES = ("A song about the sea, recorded on a rainy afternoon",
          "Zoe's server has no Mecene, and her post is flattred all the same", "Notes on building a boat")
LONG_ALIAS = ("https://a-rather-long-fediverse-server-name.example/users/"
              "someone_with_a_really_quite_long_username_on_that_server")
#: What the bot leaves once dora proved, with a code, that this account on another server is hers.
LONG_LINK = "https://mastodon.another-rather-long-server-name.example/users/dora_the_donor_with_a_long_name"
#: Bank transfers for the wallet's pages; withdrawals as small as carla's earnings; email on, so that the pages
#: asking for an address do, sent nowhere.
SETTINGS = {"MECENE_PAYMENTS_PROVIDERS": "bank", "MECENE_PAYMENTS_BANK_ACCOUNT_HOLDER": "Mecene community",
            "MECENE_PAYMENTS_BANK_IBAN": "FR14 2004 1010 0505 0001 3M02 606", "MECENE_PAYMENTS_BANK_BIC": "PSSTFRPPLIL",
            "MECENE_PAYMENTS_MINIMUM_WITHDRAWAL": "1.00", "MECENE_MAIL_ENABLED": "true", "MECENE_MAIL_SMTP_PORT": "9"}


@pytest.fixture
async def peer() -> AsyncIterator[PlainPeer]:
    async with await PlainPeer.start() as started:
        yield started


async def person_with_password(node: Node, name: str) -> Api:
    api = await account(node, name)
    async with node.live.sessions() as session, session.begin():
        user = await session.scalar(select(User).where(User.username == name))
        assert user is not None
        user.password_hash = await hash_password(PASSWORD)
    return api


async def ok(api: Api, method: str, path: str, body: object = None) -> dict[str, str]:
    answer = await api.call(method, path, body)
    assert answer.status < 300, (path, answer.body)
    return dict(answer.body)


async def thing(api: Api, **fields: str) -> tuple[str, int]:
    """The new thing's path here (/things/{token}) and its id."""
    made = await ok(api, "POST", "/api/v1/things", fields)
    return urlsplit(made["object_id"]).path, int(made["id"])


async def closed(node: Node, label: str) -> bool:
    async with node.live.sessions() as session:
        state = await session.scalar(select(PeriodClose.state).where(PeriodClose.period == label))
    return state in PERIOD_CLOSE_STATES.final


async def filled(node: Node, peer: PlainPeer) -> dict[str, str]:
    """The instance as months of use leave it; what the pages' addresses need."""
    await operator_account(node)
    dora, carla = await person_with_password(node, "dora"), await person_with_password(node, "carla")
    first, _ = await thing(carla, title=TITLES[0], text="Four minutes of guitar and rain.")
    second, _ = await thing(carla, url="https://carla.example/blog/2026/a-very-long-article-address-that-goes-on",
                            title=TITLES[2])
    gone, gone_id = await thing(carla, text="An old sketch")
    await ok(carla, "DELETE", f"/api/v1/things/{gone_id}")
    peer.add_account("zoe")
    zoes = peer.add_note("zoe", f"<p>{TITLES[1]}</p>").url

    started = await ok(dora, "POST", "/api/v1/wallet/topups", {"amount": "20.00", "provider": "bank"})
    await wallet_service.receive_transfer(node.live.sessions, started["reference"], "20.00", "EUR", node.live.clock())
    await ok(dora, "POST", "/api/v1/wallet/topups", {"amount": "5.00", "provider": "bank"})
    await ok(dora, "PUT", "/api/v1/me/budget", {"amount": "6.00"})
    await ok(dora, "PUT", "/api/v1/me/aliases", {"aliases": [LONG_ALIAS]})
    async with node.live.sessions() as session, session.begin():
        session.add(LinkedAccount(username="dora", actor_uri=LONG_LINK, linked_at=node.live.clock()))
    for url in (node.base_url + first, zoes):
        await ok(dora, "POST", "/api/v1/flattrs", {"url": url})
    await ok(carla, "PUT", "/api/v1/payouts/details", {"password": PASSWORD, "iban": "DE89 3704 0044 0532 0130 00",
                                                      "account_holder": "Carla Creator-Longname-Hyphenated"})
    label = (await ok(dora, "GET", "/api/v1/me"))["period"]["label"]
    node.clock.advance(days=40)
    await eventually(lambda: closed(node, label), what="the period closed")
    await ok(dora, "POST", "/api/v1/flattrs", {"url": node.base_url + second})
    await ok(carla, "POST", "/api/v1/withdrawals", {"amount": "1.00"})
    async with node.live.sessions() as session, session.begin():
        await withdrawals.batch(session, "EUR", None, node.live.clock())
    await ok(carla, "POST", "/api/v1/withdrawals", {"amount": "1.50"})
    return {"receipt": started["id"], "thing": first, "gone": gone, "now": second,
            "button": quote(node.base_url + first, safe=""), **await mail_links(node)}


async def mail_links(node: Node) -> dict[str, str]:
    """What the emails would carry: a link confirming an address, one resetting a password, one unsubscribing."""
    now, hour = node.live.clock(), timedelta(hours=1)
    async with node.live.sessions() as session, session.begin():
        verify = await links.issue(session, kinds.VERIFY, "dora", "dora@example.org", hour, now)
        reset = await links.issue(session, kinds.RESET, "carla", "carla@example.org", hour, now)
        carla = await session.scalar(select(User).where(User.username == "carla"))
        assert carla is not None
        carla.unsubscribe_token = secrets.token_urlsafe(32)
    return {"verify": verify, "reset": reset, "unsubscribe": carla.unsubscribe_token}


def pages(made: dict[str, str]) -> dict[str, list[tuple[str, int]]]:
    """Each person's pages, with the status each answers."""
    button, thing = f"?url={made['button']}", made["thing"]
    return {
        "visitor": [("/", 200), ("/login", 200), ("/signup", 200), ("/claim", 200), ("/password/forgot", 200),
                    (f"/password/reset/{made['reset']}", 200), (f"/mail/verify/{made['verify']}", 200),
                    (f"/mail/unsubscribe/{made['unsubscribe']}", 200),
                    ("/users/carla", 200), (thing, 200), (made["gone"], 410), ("/flattr-button" + button, 200),
                    ("/no/such/page", 404)],
        "dora": [("/", 200), ("/flattr", 200), ("/flattr" + button, 200), ("/wallet", 200),
                 (f"/wallet/receipts/{made['receipt']}", 200), ("/payouts", 200), ("/settings", 200),
                 ("/claim", 200), ("/users/dora", 200), ("/things", 200), ("/things/new", 200), ("/admin", 403)],
        "carla": [("/", 200), ("/users/carla", 200), ("/things", 200), (thing, 200), (thing + "/edit", 200),
                  (thing + "/delete", 200), ("/payouts", 200)],
        "olga": [("/admin", 200), ("/admin/periods", 200), ("/admin/statements", 200), ("/admin/deliveries", 200),
                 ("/admin/blocks", 200), ("/admin/peers", 200), ("/admin/topups", 200), ("/admin/withdrawals", 200)],
    }


async def titles_shown(person: Person, node: Node, made: dict[str, str]) -> None:
    """The dashboard names each thing by the title kept with its flattr, linked to the thing's address."""
    for title in TITLES:
        await expect(person.page.get_by_role("link", name=title, exact=True)).to_have_count(1)
    await expect(person.page.get_by_role("link", name=TITLES[2], exact=True)).to_have_attribute(
        "href", node.base_url + made["now"])


async def violations(person: Person) -> list[str]:
    """What axe-core finds wrong in the page, one readable paragraph per rule broken."""
    results = await person.page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    return [f"{rule['id']} ({rule['impact']}): {rule['help']}\n" + "\n".join(
        f"      {' '.join(node['target'])}: {' '.join(node['failureSummary'].split())}" for node in rule["nodes"])
        for rule in results["violations"]]


async def looks_at(person: Person, path: str, named: str) -> list[str]:
    """The page at each width: what is wrong with it, if anything."""
    found = []
    for width in WIDTHS:
        await person.page.set_viewport_size({"width": width, "height": 800})
        wide = await person.page.evaluate("document.documentElement.scrollWidth")
        if wide > width:
            culprits = ", ".join(await person.page.evaluate(OVERFLOWING))
            found.append(f"{path} at {width} px: the page is {wide} px wide, past the window: {culprits}")
        found += [f"{path} at {width} px: {problem}" for problem in await violations(person)]
        await person.shot(f"{named}-{width}")
    return found


async def test_every_page_fits_a_phone_and_a_desktop_with_no_axe_violation(
        federation: Federation, peer: PlainPeer, people: People) -> None:
    node = await federation.start("a", **SETTINGS)
    made = await filled(node, peer)
    problems: list[str] = []
    for name, visits in pages(made).items():
        person = await people(name)
        await person.page.context.add_init_script(script=AXE)
        if name != "visitor":
            await person.log_in(node, name, OPERATOR_PASSWORD if name == "olga" else PASSWORD)
        for path, status in visits:
            answer = await person.page.goto(node.base_url + path)
            if answer is None or answer.status != status:
                problems.append(f"{name}: {path} answered {answer and answer.status}, not {status}")
                continue
            await expect(person.page.get_by_role("heading", level=1)).to_have_count(1)
            if (name, path) == ("dora", "/"):
                await titles_shown(person, node, made)
            problems += [f"{name}: {problem}" for problem in await looks_at(person, path, shot_name(path, made))]
    assert not problems, "\n".join(problems)
    await assert_ledger_balances(node)


def shot_name(path: str, made: dict[str, str]) -> str:
    """The page's address as a file name, with what `filled` made named rather than spelled out."""
    for what, value in made.items():
        path = path.replace(value, what)
    return path.strip("/").replace("/", "-").replace("?url=", "-") or "home"
