"""Calling an instance's JSON API over real HTTP, as a client app or a web page would."""

from dataclasses import dataclass
from typing import Any

import aiohttp
from sqlalchemy import select

from federation_harness import Node
from server.accounts import create_user
from server.models import User
from server.tokens import create_token
from settlement import ledger


@dataclass
class Answer:
    status: int
    body: Any


@dataclass
class Api:
    node: Node
    token: str | None

    async def call(self, method: str, path: str, json: Any = None, **kwargs: Any) -> Answer:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        async with aiohttp.ClientSession() as http, http.request(
                method, f"{self.node.base_url}{path}", json=json, headers=headers, **kwargs) as resp:
            body = await resp.json(content_type=None)
            return Answer(resp.status, body)


async def account(node: Node, username: str, *, admin: bool = False) -> Api:
    """A local account with a personal access token, ready to call the API."""
    async with node.live.sessions() as session, session.begin():
        user = await create_user(session, username, bot_username="flattr", now=node.live.clock())
        user.is_admin = admin
        token = await create_token(session, user, "tests", node.live.clock())
    return Api(node, token)


async def user(node: Node, username: str) -> User:
    async with node.live.sessions() as session:
        return await session.scalar(select(User).where(User.username == username))


async def assert_ledger_balances(node: Node) -> None:
    async with node.live.sessions() as session:
        assert await ledger.check(session) == []
