"""Sign-ups under load: many at once never fail with a server error, and one address gets only so many."""

import asyncio

import aiohttp
from sqlalchemy import func, select

from federation_harness import Federation, Node
from server.models import User


async def sign_up(node: Node, username: str, address: str, forwarded_for: str | None = None) -> int:
    """One visitor from `address`: the form, then the sign-up it carries, over a connection of their own."""
    headers = {"X-Forwarded-For": forwarded_for} if forwarded_for else {}
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True), headers=headers,
                                     connector=aiohttp.TCPConnector(local_addr=(address, 0))) as http:
        async with http.get(node.base_url + "/signup") as form:
            html = await form.text()
        csrf = html.split('name="csrf" value="', 1)[1].split('"', 1)[0]
        async with http.post(node.base_url + "/signup", allow_redirects=False, data={
                "csrf": csrf, "username": username, "password": "correct horse", "confirm": "correct horse"}) as answer:
            return answer.status


async def users(node: Node) -> int:
    async with node.live.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(User)) or 0)


async def test_forty_sign_ups_at_once_all_succeed(federation: Federation) -> None:
    node = await federation.start("a")
    statuses = await asyncio.gather(*[sign_up(node, f"user{index}", f"127.0.1.{index + 1}") for index in range(40)])
    assert statuses == [303] * 40
    assert await users(node) == 40


async def test_one_name_asked_for_at_once_is_given_once(federation: Federation) -> None:
    node = await federation.start("a")
    statuses = await asyncio.gather(*[sign_up(node, "alice", f"127.0.2.{index + 1}") for index in range(6)])
    assert sorted(statuses) == [303] + [400] * 5
    assert await users(node) == 1


async def test_one_address_makes_only_so_many_accounts_however_it_sends_them(federation: Federation) -> None:
    node = await federation.start("a", MECENE_INSTANCE_SIGNUPS_PER_ADDRESS="3",
                                  MECENE_INSTANCE_SIGNUP_WINDOW_MINUTES="30")
    assert await sign_up(node, "admin", "127.0.3.1") == 400
    statuses = await asyncio.gather(*[sign_up(node, f"user{index}", "127.0.3.1") for index in range(8)])
    assert sorted(statuses) == [303] * 3 + [429] * 5
    assert await users(node) == 3
    assert await sign_up(node, "other", "127.0.3.2") == 303

    node.clock.advance(minutes=31)
    assert await sign_up(node, "later", "127.0.3.1") == 303
    assert await users(node) == 5


async def test_behind_the_trusted_proxy_each_forwarded_client_counts_alone(federation: Federation) -> None:
    node = await federation.start("a", MECENE_INSTANCE_SIGNUPS_PER_ADDRESS="1",
                                  MECENE_SERVER_TRUSTED_PROXY="127.0.0.1")
    assert await sign_up(node, "ann", "127.0.0.1", "198.51.100.1") == 303
    assert await sign_up(node, "ben", "127.0.0.1", "198.51.100.2") == 303
    assert await sign_up(node, "cat", "127.0.0.1", "198.51.100.7, 198.51.100.1") == 429
    assert await sign_up(node, "dan", "127.0.0.3", "198.51.100.3") == 303
    assert await sign_up(node, "eve", "127.0.0.3", "198.51.100.4") == 429
    assert await users(node) == 3
