"""Login limits: every attempt is counted before its password is checked, and per address first.

Requests come over real HTTP; a second client address is another loopback
address (127.0.0.2), as a second person elsewhere would be.
"""

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import aiohttp
import pytest

from federation_harness import Federation, Node
from server.web import account_pages
from server.web.login_limits import PER_ACCOUNT, PER_ADDRESS, PER_PAIR, LoginLimits
from web_client import Browser

SIGNUP = {"username": "alice", "display_name": "Alice", "password": "correct horse", "confirm": "correct horse"}
WRONG = {"username": "alice", "password": "wrong horse!"}
RIGHT = {"username": "alice", "password": "correct horse"}


async def from_address(node: Node, address: str) -> Browser:
    """A visitor whose connections leave from `address`."""
    visitor = Browser(node)
    await visitor.session.close()
    visitor.session = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True),
                                            connector=aiohttp.TCPConnector(local_addr=(address, 0)))
    return visitor


@pytest.fixture
async def node(federation: Federation) -> AsyncIterator[Node]:
    node = await federation.start("a")
    first = Browser(node)
    await first.submit("/signup", "/signup", SIGNUP)
    await first.close()
    yield node


@pytest.fixture
def checked(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The passwords the login page checked against a hash, each check slowed so that requests overlap."""
    seen: list[str] = []
    verify = account_pages.verify_password

    async def counting(stored: str | None, password: str) -> bool:
        seen.append(password)
        await asyncio.sleep(0.05)
        return await verify(stored, password)

    monkeypatch.setattr(account_pages, "verify_password", counting)
    return seen


async def test_concurrent_wrong_passwords_are_counted_before_any_is_checked(node: Node, checked: list[str]) -> None:
    visitor = Browser(node)
    try:
        csrf = (await visitor.get("/login")).hidden("csrf")
        answers = await asyncio.gather(*[visitor.post("/login", {"csrf": csrf, **WRONG}) for _ in range(30)])
    finally:
        await visitor.close()
    statuses = sorted(answer.status for answer in answers)
    assert len(checked) == PER_PAIR and statuses == [400] * PER_PAIR + [429] * (30 - PER_PAIR)


async def test_a_locked_out_address_leaves_other_addresses_their_own_tries(node: Node, checked: list[str]) -> None:
    guesser, owner = await from_address(node, "127.0.0.1"), await from_address(node, "127.0.0.2")
    try:
        for _ in range(PER_PAIR):
            assert (await guesser.submit("/login", "/login", WRONG)).status == 400
        refused = await guesser.submit("/login", "/login", RIGHT)
        assert refused.status == 429 and "Too many failed attempts" in refused.html
        assert len(checked) == PER_PAIR

        page = await owner.submit("/login", "/login", RIGHT)
        assert page.status == 200 and "Signed in as <strong>alice</strong>" in page.html
        assert (await guesser.submit("/login", "/login", RIGHT)).status == 429

        node.clock.advance(minutes=16)
        page = await guesser.submit("/login", "/login", RIGHT)
        assert page.status == 200 and "Signed in as <strong>alice</strong>" in page.html
    finally:
        await guesser.close()
        await owner.close()


def test_an_account_has_a_ceiling_over_all_addresses_and_an_address_over_all_accounts() -> None:
    limits, now = LoginLimits(), datetime(2026, 12, 1, tzinfo=UTC)
    assert PER_ACCOUNT >= 5 * PER_PAIR
    for index in range(PER_ACCOUNT):
        assert limits.admit("alice", f"10.0.{index // PER_PAIR}.1", now)
    assert not limits.admit("alice", "10.9.9.9", now) and limits.admit("bob", "10.9.9.9", now)
    assert limits.admit("alice", "10.9.9.9", now + timedelta(minutes=16))

    for index in range(PER_ADDRESS - 1):
        assert limits.admit(f"user{index}", "10.8.8.8", now)
    assert limits.admit("carol", "10.8.8.8", now) and not limits.admit("dave", "10.8.8.8", now)


def test_a_right_password_is_not_a_failure() -> None:
    limits, now = LoginLimits(), datetime(2026, 12, 1, tzinfo=UTC)
    for _ in range(PER_PAIR - 1):
        assert limits.admit("alice", "10.0.0.1", now)
    assert limits.admit("alice", "10.0.0.1", now)
    limits.succeeded("alice", "10.0.0.1", now)
    for _ in range(PER_PAIR):
        assert limits.admit("alice", "10.0.0.1", now)
    assert not limits.admit("alice", "10.0.0.1", now)
