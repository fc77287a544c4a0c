"""localstripe, Stripe's stand-in, as a real process on loopback: one per pytest worker, emptied for each test.

It keeps Stripe's objects in memory, charges the magic test cards as Stripe
would (4242… succeeds, 4000000000000002 is declined, 4000002500003155 asks
for 3-D Secure), serves a Stripe.js for Elements at /js.stripe.com/v3/, and
posts signed webhooks to every endpoint registered with it.
"""

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass

import aiohttp
import pytest

from federation_harness import free_port

SECRET_KEY = "sk_test_mecene"
PUBLISHABLE_KEY = "pk_test_mecene"
WEBHOOK_SECRET = "whsec_mecene_tests"


@dataclass(frozen=True)
class LocalStripe:
    port: int

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def settings(self, **overrides: str) -> dict[str, str]:
        """The instance overrides that point its Stripe at this process."""
        return {"MECENE_PAYMENTS_PROVIDERS": "stripe,bank", "MECENE_PAYMENTS_STRIPE_SECRET_KEY": SECRET_KEY,
                "MECENE_PAYMENTS_STRIPE_PUBLISHABLE_KEY": PUBLISHABLE_KEY,
                "MECENE_PAYMENTS_STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
                "MECENE_PAYMENTS_STRIPE_API_BASE": self.base_url,
                "MECENE_PAYMENTS_STRIPE_JS_URL": f"{self.base_url}/js.stripe.com/v3/",
                "MECENE_PAYMENTS_BANK_ACCOUNT_HOLDER": "Mecene community",
                "MECENE_PAYMENTS_BANK_IBAN": "FR14 2004 1010 0505 0001 3M02 606",
                "MECENE_PAYMENTS_BANK_BIC": "PSSTFRPPLIL", **overrides}

    async def send_webhooks_to(self, url: str) -> None:
        """Every event from now on goes to `url`, signed with the tests' webhook secret."""
        async with aiohttp.ClientSession() as session:
            async with session.delete(f"{self.base_url}/_config/data") as emptied:
                assert emptied.status == 200, await emptied.text()
            async with session.post(f"{self.base_url}/_config/webhooks/mecene",
                                    data={"url": url, "secret": WEBHOOK_SECRET}) as registered:
                assert registered.status == 200, await registered.text()

    async def card_token(self, number: str) -> str:
        """What Stripe.js's createToken gives a page for a card typed into Elements."""
        fields = {"card[number]": number, "card[exp_month]": "12", "card[exp_year]": "2034", "card[cvc]": "123",
                  "key": PUBLISHABLE_KEY}
        async with aiohttp.ClientSession() as session:
            async with session.post(f"{self.base_url}/v1/tokens", data=fields) as answer:
                body = await answer.json()
                assert answer.status == 200, body
                return str(body["id"])

    async def authenticate(self, intent: str, client_secret: str, *, success: bool) -> int:
        """What Stripe.js does when the donor completes (or fails) 3-D Secure."""
        async with aiohttp.ClientSession() as session:
            async with session.post(f"{self.base_url}/v1/payment_intents/{intent}/_authenticate",
                                    params={"success": "true" if success else "false"},
                                    json={"key": PUBLISHABLE_KEY, "client_secret": client_secret}) as answer:
                return answer.status


@pytest.fixture(scope="session")
def localstripe_process() -> Iterator[LocalStripe]:
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "localstripe", "--port", str(port), "--from-scratch"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        _wait_for(port, process)
        yield LocalStripe(port)
    finally:
        process.terminate()
        process.wait(timeout=10)


def _wait_for(port: int, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"localstripe exited with {process.returncode}")
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError("localstripe did not listen within 30 s")
