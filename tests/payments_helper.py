"""A donor paying on a real instance whose Stripe is a real localstripe process: the steps the pages take."""

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from sqlalchemy import select

from federation_harness import Federation, Node
from localstripe_process import LocalStripe
from server.views.stripe_webhook import PATH
from settlement import ledger, topups, wallets
from settlement.models import TopUp
from web_client import Browser, Page

SIGNUP = {"username": "alice", "display_name": "Alice", "password": "correct horse", "confirm": "correct horse"}
RECEIPT = re.compile(r"/wallet/receipts/(T[0-9a-f]+)$")


@dataclass
class Donor:
    node: Node
    browser: Browser

    async def add_money(self, amount: str, provider: str) -> Page:
        return await self.browser.submit("/wallet", "/wallet/topups", {"amount": amount, "provider": provider})

    async def start_topup(self, amount: str, provider: str) -> str:
        """The public id of a new top-up, read from the receipt page the form leads to."""
        page = await self.add_money(amount, provider)
        found = RECEIPT.search(page.url)
        assert page.status == 200 and found, (page.status, page.url)
        return found.group(1)

    async def pay(self, public_id: str, token: str) -> tuple[int, dict[str, str]]:
        """What the card page's script posts once Stripe.js made a token."""
        csrf = (await self.browser.get(f"/wallet/receipts/{public_id}")).hidden("csrf")
        async with self.browser.session.post(f"{self.node.base_url}/wallet/receipts/{public_id}/card",
                                             data={"csrf": csrf, "token": token}) as answer:
            return answer.status, await answer.json()

    async def wallet(self) -> int:
        async with self.node.live.sessions() as session:
            return (await wallets.wallet_balance(session, "alice", "EUR")).amount


async def topup_row(node: Node, public_id: str) -> TopUp:
    async with node.live.sessions() as session:
        found = await session.scalar(select(TopUp).where(TopUp.public_id == public_id))
        assert found is not None
        return found


async def came_in(node: Node, provider: str) -> int:
    """What came in through `provider`, net of what went back: the ledger checked to balance first."""
    async with node.live.sessions() as session:
        assert await ledger.check(session) == []
        return -await ledger.balance(session, topups.payin_key(provider, "EUR"))


@asynccontextmanager
async def donor_at(federation: Federation, stripe: LocalStripe, *, webhooks: bool = True,
                   **overrides: str) -> AsyncIterator[Donor]:
    """Alice signed up on instance `a`, whose payments go to `stripe` and (with `webhooks`) whose webhook it calls."""
    node = await federation.start("a", **stripe.settings(**overrides))
    if webhooks:
        await stripe.send_webhooks_to(node.base_url + PATH)
    browser = Browser(node)
    page = await browser.submit("/signup", "/signup", SIGNUP)
    assert page.status == 200, page.html
    try:
        yield Donor(node, browser)
    finally:
        await browser.close()
