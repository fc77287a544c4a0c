"""In Chromium: a donor adds money by card on the wallet pages, with localstripe standing in for Stripe.

The card page loads localstripe's Stripe.js (its card Element is plain
inputs where Stripe's are iframes, its 3-D Secure a modal where Stripe's is a
frame), so what the page and card.js do with it runs in a real browser under
the card page's own Content-Security-Policy: a script, call or frame that the
policy forbids fails the test. The wallet is credited by localstripe's signed
webhook, a second after the charge, and the donor sees it by reloading, as the
page tells them. Every request the page sends to Mecene is watched: no card
number ever reaches it, only the `tok_` token Stripe.js made.
"""

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlsplit

import aiohttp
from people import Person
from playwright.async_api import ConsoleMessage, Error, Request, Response, expect
from sqlalchemy import func, select

from api_client import account
from federation_harness import Federation, Node, eventually
from localstripe_process import SECRET_KEY, LocalStripe
from payments_helper import RECEIPT, came_in, topup_row
from server.views.stripe_webhook import PATH
from server.web.security_headers import CONTENT_SECURITY_POLICY
from server.web.wallet_pages import card_page_policy
from settlement import ledger, wallets
from settlement.models import Earning

People = Callable[..., Awaitable[Person]]
PASSWORD = "dora's long password"
GOOD_CARD = "4242424242424242"
DECLINED_CARD = "4000000000000002"
SECURE_CARD = "4000002500003155"
HOLDS = re.compile(r"^Your wallet holds [0-9.]+ EUR")


@dataclass
class Watched:
    """What the donor's window did that she would not see: what the console said, and what was sent to Mecene."""

    node: Node
    blocked: list[str] = field(default_factory=list)
    crashed: list[str] = field(default_factory=list)
    leaked: list[str] = field(default_factory=list)
    card_posts: list[dict[str, list[str]]] = field(default_factory=list)
    policies: list[tuple[str, str | None]] = field(default_factory=list)

    def console(self, message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text:
            self.blocked.append(message.text)

    def page_error(self, error: Error) -> None:
        self.crashed.append(error.message)

    def request(self, request: Request) -> None:
        if not request.url.startswith(self.node.base_url):
            return
        sent = re.sub(r"\D", "", f"{request.url} {request.post_data or ''}")
        if any(number in sent for number in (GOOD_CARD, DECLINED_CARD, SECURE_CARD)):
            self.leaked.append(request.url)
        if request.method == "POST" and urlsplit(request.url).path.endswith("/card"):
            self.card_posts.append(parse_qs(request.post_data or ""))

    async def response(self, response: Response) -> None:
        if response.request.resource_type == "document" and response.url.startswith(self.node.base_url):
            policy = await response.header_value("Content-Security-Policy")
            self.policies.append((urlsplit(response.url).path, policy))

    def assert_clean(self) -> None:
        """The pages worked under their policies, only the card page relaxed its own, and Mecene saw no card."""
        assert self.blocked == [], "a page needs something its own policy forbids"
        assert self.crashed == [], "a script of the page failed"
        assert self.leaked == [], "a card number was sent to Mecene"
        assert self.card_posts, "the card page never posted a token"
        for posted in self.card_posts:
            assert sorted(posted) == ["csrf", "token"] and posted["token"][0].startswith("tok_"), posted
        payments = self.node.live.settings.payments
        card_policy = card_page_policy(payments.stripe_js_url, payments.stripe_api_base)
        for path, policy in self.policies:
            assert policy in ((CONTENT_SECURITY_POLICY, card_policy) if RECEIPT.search(path) else
                              (CONTENT_SECURITY_POLICY,)), path
        assert card_policy in {policy for _, policy in self.policies}


async def card_instance(federation: Federation, stripe: LocalStripe) -> Node:
    """Instance `a`, taking cards through `stripe`, whose webhooks it receives."""
    node = await federation.start("a", **stripe.settings())
    await stripe.send_webhooks_to(node.base_url + PATH)
    return node


async def donor(people: People, node: Node) -> tuple[Person, Watched]:
    """Dora, signed up on the web, her window watched from the start."""
    dora = await people("dora")
    watched = Watched(node)
    dora.page.on("console", watched.console)
    dora.page.on("pageerror", watched.page_error)
    dora.page.on("request", watched.request)
    dora.page.on("response", watched.response)
    await dora.sign_up(node, "dora", PASSWORD)
    return dora, watched


async def open_card_page(dora: Person, amount: str) -> str:
    """Wallet → Add money, by card: the receipt page of a new top-up, with Stripe's card field; its public id."""
    await dora.page.get_by_role("navigation", name="Main").get_by_role("link", name="Wallet").click()
    await expect(dora.page.get_by_role("heading", level=1)).to_have_text("Wallet")
    await dora.page.get_by_label(re.compile(r"^Amount in")).fill(amount)
    await dora.page.get_by_label("card", exact=True).check()
    await dora.page.get_by_role("button", name="Continue").click()
    await expect(dora.page.get_by_placeholder("number")).to_be_visible()
    await dora.shot("card-page")
    found = RECEIPT.search(dora.page.url)
    assert found, dora.page.url
    return found.group(1)


async def pay(dora: Person, number: str, amount: str) -> None:
    """The card typed into Stripe's field as a donor types it (a future expiry, any cvc), and Pay clicked."""
    await dora.page.get_by_placeholder("number").fill(number)
    await dora.page.get_by_placeholder("exp_month").fill("12")
    await dora.page.get_by_placeholder("exp_year").fill("34")
    await dora.page.get_by_placeholder("cvc").fill("123")
    await dora.page.get_by_placeholder("postal_code").fill("75011")
    await dora.page.get_by_role("button", name=f"Pay {amount} EUR").click()


async def wait_for_confirmation(dora: Person) -> None:
    """The page reloads itself saying it waits for Stripe; reloaded, as it asks, until it says confirmed."""
    await expect(dora.page.get_by_role("status").filter(has_text="Waiting for confirmation from")).to_be_visible()
    await dora.shot("waiting")
    state = dora.page.locator("#state")
    for _ in range(40):
        if await state.inner_text() == "confirmed":
            break
        await dora.page.wait_for_timeout(250)
        await dora.page.reload()
    await expect(state).to_have_text("confirmed")
    await expect(dora.page.get_by_placeholder("number")).to_have_count(0)
    await dora.shot("confirmed")


async def wallet_shows(dora: Person, amount: str) -> None:
    await dora.page.get_by_role("link", name="Back to your wallet").click()
    await expect(dora.page.get_by_text(HOLDS)).to_contain_text(f"{amount} EUR")
    await dora.shot("wallet")


async def intent_status(stripe: LocalStripe, intent: str) -> str:
    """The PaymentIntent as Stripe has it: one waiting for another card is charged nothing, so no credit comes."""
    async with aiohttp.ClientSession() as http, http.get(f"{stripe.base_url}/v1/payment_intents/{intent}",
                                                         headers={"Authorization": f"Bearer {SECRET_KEY}"}) as answer:
        return str((await answer.json())["status"])


async def balance(node: Node) -> int:
    async with node.live.sessions() as session:
        return (await wallets.wallet_balance(session, "dora", "EUR")).amount


async def earned(node: Node, creator: str) -> int:
    async with node.live.sessions() as session:
        return int(await session.scalar(select(func.coalesce(func.sum(Earning.amount), 0))
                                        .where(Earning.creator == creator)) or 0)


async def test_money_added_by_card_is_given_when_the_period_closes(federation: Federation, people: People,
                                                                   localstripe_process: LocalStripe) -> None:
    node = await card_instance(federation, localstripe_process)
    carla = await account(node, "carla")
    song = (await carla.call("POST", "/api/v1/things", {"text": "Carla's song"})).body["object_id"]
    dora, watched = await donor(people, node)

    await open_card_page(dora, "10.00")
    await pay(dora, GOOD_CARD, "10.00")
    await wait_for_confirmation(dora)
    await wallet_shows(dora, "10.00")
    assert await came_in(node, "stripe") == 1000

    await dora.page.get_by_role("link", name="Settings").click()
    await dora.page.get_by_label(re.compile(r"^Amount in")).fill("4.00")
    await dora.page.get_by_role("button", name="Save budget").click()
    await dora.page.get_by_role("link", name="Flattr a URL").click()
    await dora.page.get_by_label("Address").fill(song)
    await dora.page.get_by_role("button", name="Flattr it").click()
    await dora.visit(node, "/")
    await expect(dora.page.get_by_role("row", name="Carla's song")).to_contain_text("4.00 EUR")
    await dora.shot("flattred")

    node.clock.advance(days=40)

    async def closed() -> bool:
        return await earned(node, "carla") > 0
    await eventually(closed, timeout=30, what="the period closed with carla's earnings")
    await dora.log_in(node, "dora", PASSWORD)
    await dora.visit(node, "/wallet")
    await expect(dora.page.get_by_text(HOLDS)).to_contain_text("6.00 EUR")
    await dora.shot("after-close")
    async with node.live.sessions() as session:
        assert await ledger.check(session) == []
    assert (await earned(node, "carla"), await balance(node), await came_in(node, "stripe")) == (400, 600, 1000)
    watched.assert_clean()


async def test_a_declined_card_is_said_so_and_credits_nothing(federation: Federation, people: People,
                                                               localstripe_process: LocalStripe) -> None:
    node = await card_instance(federation, localstripe_process)
    dora, watched = await donor(people, node)
    topup = await open_card_page(dora, "10.00")
    await pay(dora, DECLINED_CARD, "10.00")
    await expect(dora.page.get_by_role("status").filter(has_text="declined")).to_be_visible()
    await expect(dora.page.get_by_role("button", name="Pay 10.00 EUR")).to_be_enabled()
    await dora.shot("declined")
    await dora.page.reload()
    await expect(dora.page.get_by_role("alert")).to_contain_text("declined")
    await expect(dora.page.locator("#state")).to_have_text("failed")
    await wallet_shows(dora, "0.00")
    assert (await topup_row(node, topup)).state == "failed"
    assert (await balance(node), await came_in(node, "stripe")) == (0, 0)
    watched.assert_clean()


async def test_three_d_secure_completed_credits_and_failed_does_not(federation: Federation, people: People,
                                                                     localstripe_process: LocalStripe) -> None:
    node = await card_instance(federation, localstripe_process)
    dora, watched = await donor(people, node)

    await open_card_page(dora, "25.00")
    await pay(dora, SECURE_CARD, "25.00")
    await expect(dora.page.get_by_role("button", name="Complete authentication")).to_be_visible()
    await dora.shot("3ds-asked")
    assert await balance(node) == 0
    await dora.page.get_by_role("button", name="Complete authentication").click()
    await wait_for_confirmation(dora)
    await wallet_shows(dora, "25.00")

    topup = await open_card_page(dora, "5.00")
    await pay(dora, SECURE_CARD, "5.00")
    await dora.page.get_by_role("button", name="Fail authentication").click()
    await expect(dora.page.get_by_role("status").filter(has_text="not authenticated")).to_be_visible()
    await expect(dora.page.get_by_role("button", name="Pay 5.00 EUR")).to_be_enabled()
    await dora.shot("3ds-failed")
    row = await topup_row(node, topup)
    assert row.state != "confirmed" and row.reference is not None
    assert await intent_status(localstripe_process, row.reference) == "requires_payment_method"
    await wallet_shows(dora, "25.00")
    assert (await balance(node), await came_in(node, "stripe")) == (2500, 2500)
    watched.assert_clean()
