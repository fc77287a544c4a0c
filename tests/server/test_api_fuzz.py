"""A property-based fuzz of the JSON API: no request gets a 5xx, and a refused one (4xx) changes no row.

Every route of `server/api/routes.py` is called with bodies, path ids, query
values and tokens of any shape Hypothesis tries, on an instance with things,
a flattr, money and a linked account, so that valid ids and plausible bodies
reach the handlers' own validation. Every table is read before and after each
request (`rows`): a refusal must leave them all as they were, on SQLite and
PostgreSQL alike. URLs point only at this instance or at a closed local port,
never at a host to look up. Bounded in examples, it stays in the default suite.
"""

import json
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import quote

import aiohttp
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Table, select

from api_client import Api, account
from federation.addresses import http_url
from federation.httpsig import dump_public_key, generate_private_key
from federation.models import Base as FederationBase
from federation.models import RemoteActor
from federation_harness import Federation, Node, free_port
from server.models import Base as ServerBase
from server.models import LinkedAccount
from settlement import ledger
from settlement.models import Base as SettlementBase

#: Columns the workers move on their own (a delivery's attempts) or that a read records (a token's last use).
MOVING = {"api_tokens": {"last_used_at"},
          "fed_deliveries": {"state", "attempts", "next_attempt_at", "locked_until", "locked_by", "last_status",
                             "last_error", "finished_at"}}
#: What other servers told us, kept to spare a fetch: no request of a client is refused for writing it.
CACHES = {"fed_host_health", "fed_instances", "fed_remote_actors"}
TABLES: list[Table] = [table for base in (ServerBase, FederationBase, SettlementBase)
                       for table in base.metadata.sorted_tables if table.name not in CACHES]

TEXT = st.text(max_size=24)
#: Text a JSON body carries to the handlers: the strict reader refuses a NUL or a lone surrogate before them
#: (`RAW_BODIES` sends both).
JSON_TEXT = st.text(st.characters(exclude_categories=["Cs"], exclude_characters="\x00"), max_size=24)
AMOUNTS = st.sampled_from(["5.00", "0", "0.00", "-1", "1e3", "0.001", "12.5", " 3 ", "١٢", "99999999999999999999",
                           "5,00", ""]) | JSON_TEXT
CURRENCIES = st.sampled_from(["EUR", "eur", "USD", "XXX", "", "€"]) | JSON_TEXT
SCALARS = (st.none() | st.booleans() | st.integers(min_value=-(2**70), max_value=2**70)
           | st.floats(allow_nan=False, allow_infinity=False) | JSON_TEXT)
IDS = (st.sampled_from(["1", "2", "3", "١٢", "²", "0", "-1", "01", "1e3", " 1", str(2**31), str(2**63)])
       | st.integers(min_value=-(2**70), max_value=2**70).map(str) | TEXT)
PERIODS = st.none() | st.sampled_from(["2020-01", "2026-13", "9999-12", "0000-01", "١٢٣٤-٠١", "2026-1"]) | TEXT
RAW_BODIES = st.binary(max_size=40) | st.sampled_from([b"", b"[]", b"null", b'{"amount": NaN}', b'{"url": "\\u0000"}',
                                                       b'{"title": "\\ud800"}', b'{"aliases": {"a": 1}}'])


@dataclass(frozen=True, repr=False)
class Shop:
    """An instance with something behind each id: alice's thing, bob's thing she flattred, her linked account."""

    node: Node
    alice: Api
    admin: Api
    tokens: list[str]
    closed: str


def url_strategy(shop: Shop) -> st.SearchStrategy[str]:
    """Addresses of this instance (its things, live or not) and of a closed port; any other text names no host."""
    base = shop.node.base_url
    return (st.sampled_from([f"{base}/things/{token}" for token in shop.tokens]
                            + [f"{base}/users/alice", f"{base}/things/", f"{shop.closed}/users/mona",
                               f"{shop.closed}/notes/1", "ftp://example.org/a", "http://[::1"])
            | JSON_TEXT.map(lambda tail: f"{base}/things/{tail}")
            | JSON_TEXT.filter(lambda text: http_url(text.strip()) is None))


def body_strategy(shop: Shop) -> st.SearchStrategy[Any]:
    """Mostly objects with the fields the routes read, each of any shape; now and then no JSON object at all."""
    urls = url_strategy(shop)
    fields = st.fixed_dictionaries({}, optional={
        "amount": AMOUNTS | SCALARS, "currency": CURRENCIES | SCALARS, "reference": SCALARS,
        "url": urls | SCALARS, "title": SCALARS, "text": SCALARS,
        "aliases": st.lists(urls | SCALARS, max_size=12) | SCALARS,
        "also_send_like": st.booleans() | SCALARS, "auto_flattr_boosts": st.booleans() | SCALARS,
        "extra": SCALARS})
    others = st.lists(SCALARS, max_size=3) | SCALARS | RAW_BODIES
    return st.integers(min_value=0, max_value=4).flatmap(lambda pick: fields if pick else others)


#: (method, path) of every API route that reads a body, as its caller sends it: alice, or the operator.
BODY_ROUTES = [
    ("PATCH", "/api/v1/me"), ("PUT", "/api/v1/me/budget"), ("PUT", "/api/v1/me/aliases"), ("POST", "/api/v1/things"),
    ("POST", "/api/v1/flattrs"), ("POST", "/api/v1/admin/users/alice/topups"), ("PATCH", "/api/v1/links/1"),
]
#: (method, path) of every API route; {id} and {username} are filled by the fuzz.
ROUTES = [
    ("GET", "/api/v1/me"), ("PATCH", "/api/v1/me"), ("PUT", "/api/v1/me/budget"), ("GET", "/api/v1/me/aliases"),
    ("PUT", "/api/v1/me/aliases"), ("POST", "/api/v1/things"), ("GET", "/api/v1/things"),
    ("DELETE", "/api/v1/things/{id}"), ("GET", "/api/v1/received"), ("POST", "/api/v1/flattrs"),
    ("GET", "/api/v1/flattrs"), ("GET", "/api/v1/flattrs/{id}"), ("DELETE", "/api/v1/flattrs/{id}"),
    ("GET", "/api/v1/earnings"), ("POST", "/api/v1/admin/users/{username}/topups"),
    ("GET", "/api/v1/admin/statements"), ("POST", "/api/v1/links/codes"), ("GET", "/api/v1/links"),
    ("PATCH", "/api/v1/links/{id}"), ("DELETE", "/api/v1/links/{id}"),
]
#: Bodies that each route above would take, so that what is refused is the path, the query or the token.
PLAIN_BODIES = st.sampled_from([{}, {"amount": "1.00"}, {"also_send_like": True}, {"auto_flattr_boosts": False},
                                {"aliases": []}, {"text": "a note"}])


@pytest.fixture
async def shop(federation: Federation) -> Shop:
    return await open_shop(federation)


async def open_shop(federation: Federation) -> Shop:
    node = await federation.start("a")
    alice, bob = await account(node, "alice"), await account(node, "bob")
    admin = await account(node, "root_op", admin=True)
    assert (await admin.call("POST", "/api/v1/admin/users/alice/topups", {"amount": "50.00"})).status == 201
    assert (await alice.call("PUT", "/api/v1/me/budget", {"amount": "10.00"})).status == 200
    theirs = await bob.call("POST", "/api/v1/things", {"url": "https://example.org/post", "title": "Post"})
    ours = await alice.call("POST", "/api/v1/things", {"text": "A note"})
    assert (await alice.call("POST", "/api/v1/flattrs", {"url": theirs.body["object_id"]})).status == 201
    closed = f"http://127.0.0.1:{free_port()}"
    await linked(node, "alice", f"{closed}/users/mona")
    tokens = [thing.body["object_id"].rsplit("/", 1)[1] for thing in (theirs, ours)]
    return Shop(node, alice, admin, tokens, closed)


async def linked(node: Node, username: str, actor: str) -> None:
    """A Mastodon account linked to `username`, its actor already known: unlinking it needs no fetch."""
    key = dump_public_key(generate_private_key().public_key())
    now = node.live.clock()
    async with node.live.sessions() as session, session.begin():
        session.add(RemoteActor(uri=actor, key_id=f"{actor}#main-key", public_key_pem=key, inbox=f"{actor}/inbox",
                                document={"id": actor, "type": "Person", "inbox": f"{actor}/inbox"}, fetched_at=now))
        session.add(LinkedAccount(username=username, actor_uri=actor, linked_at=now - timedelta(days=1)))


async def rows(node: Node) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table but the caches, without the columns that move by themselves."""
    async with node.live.sessions() as session:
        return {table.name: [tuple(row) for row in await session.execute(
            select(*[column for column in table.columns if column.name not in MOVING.get(table.name, set())])
            .order_by(*table.primary_key.columns))] for table in TABLES}


async def call(shop: Shop, method: str, path: str, token: str | None, body: Any) -> tuple[int, Any]:
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    payload = body if isinstance(body, bytes) else json.dumps(body).encode()
    async with aiohttp.ClientSession() as http, http.request(
            method, shop.node.base_url + path, data=payload, headers={**headers, "Content-Type": "application/json"},
            allow_redirects=False) as response:
        return response.status, await response.json(content_type=None)


def token_of(shop: Shop, path: str) -> str | None:
    return shop.admin.token if "/admin/" in path else shop.alice.token


async def check(shop: Shop, method: str, path: str, token: str | None, body: Any) -> None:
    """The property: no 5xx; a refusal is the API's JSON error and leaves every row as it was; the books balance."""
    before = await rows(shop.node)
    status, answer = await call(shop, method, path, token, body)
    assert status < 500, answer
    if status >= 400:
        assert set(answer) == {"error", "reason"}, answer
        assert await rows(shop.node) == before
    async with shop.node.live.sessions() as session:
        assert await ledger.check(session) == []


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
async def test_no_api_body_gets_a_5xx_and_a_refused_one_changes_nothing(shop: Shop, data: st.DataObject) -> None:
    method, path = data.draw(st.sampled_from(BODY_ROUTES), label="route")
    await check(shop, method, path, token_of(shop, path), data.draw(body_strategy(shop), label="body"))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
async def test_no_api_path_query_or_token_gets_a_5xx_and_a_refused_one_changes_nothing(
        shop: Shop, data: st.DataObject) -> None:
    method, template = data.draw(st.sampled_from(ROUTES), label="route")
    path = template.format(id=quote(data.draw(IDS, label="id"), safe=""), username=quote(
        data.draw(st.sampled_from(["alice", "bob", "nobody", "al\x00ice"]) | TEXT, label="username"), safe=""))
    period = data.draw(PERIODS, label="period")
    if period is not None and method == "GET":
        path += f"?period={quote(period, safe='')}"
    token = data.draw(st.sampled_from([token_of(shop, path)] * 6 + [shop.alice.token, None, "mecene_unknown",
                                                                    "not a token"]), label="token")
    await check(shop, method, path, token, data.draw(PLAIN_BODIES, label="body"))
