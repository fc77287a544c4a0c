"""The API's contract: tokens, errors with a stable shape, bad input refused with nothing changed, OpenAPI."""

import pytest
from sqlalchemy import func, select

from api_client import Api, account, assert_ledger_balances
from federation_harness import Federation, Node
from server.app import create_app
from server.models import Thing
from settlement.models import Budget, Entry, Flattr


async def rows(node: Node, model: type) -> int:
    async with node.live.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def test_openapi_document_lists_exactly_the_routes(federation: Federation) -> None:
    node = await federation.start("a")
    answer = await Api(node, None).call("GET", "/api/v1/openapi.json")
    assert answer.status == 200
    assert answer.body["servers"] == [{"url": node.base_url}]
    documented = {(method.upper(), path) for path, item in answer.body["paths"].items() for method in item}
    app = create_app(node.live, run_workers=False)
    served = {(route.method, route.resource.canonical) for route in app.router.routes()
              if route.resource is not None and route.resource.canonical.startswith("/api/")
              and route.method != "HEAD"}
    assert documented == served


async def test_requests_without_a_valid_token_get_401(federation: Federation) -> None:
    node = await federation.start("a")
    await account(node, "alice")
    for token in (None, "mecene_not-a-token"):
        answer = await Api(node, token).call("GET", "/api/v1/me")
        assert answer.status == 401
        assert set(answer.body) == {"error", "reason"} and answer.body["error"] == "unauthorized"


async def test_topup_needs_an_admin_and_credits_once_per_reference(federation: Federation) -> None:
    node = await federation.start("a")
    admin, alice = await account(node, "root_op", admin=True), await account(node, "alice")
    path = "/api/v1/admin/users/alice/topups"
    assert (await alice.call("POST", path, {"amount": "10.00"})).status == 403
    first = await admin.call("POST", path, {"amount": "10.00", "reference": "bank-1"})
    assert first.status == 201 and first.body["wallet"] == {"amount": "10.00", "minor_units": 1000, "currency": "EUR"}
    again = await admin.call("POST", path, {"amount": "10.00", "reference": "bank-1"})
    assert again.status == 200 and again.body["wallet"]["minor_units"] == 1000
    assert (await admin.call("POST", "/api/v1/admin/users/nobody/topups", {"amount": "1"})).status == 404
    assert (await alice.call("GET", "/api/v1/me")).body["wallet"]["minor_units"] == 1000
    await assert_ledger_balances(node)


@pytest.mark.parametrize(("body", "code"), [
    ({"amount": "5,00"}, "comma_decimal"),
    ({"amount": "-5"}, "negative_amount"),
    ({"amount": "0"}, "zero_amount"),
    ({"amount": "5.001"}, "too_many_decimals"),
    ({"amount": "5.00", "currency": "USD"}, "wrong_currency"),
    ({"amount": "5.00", "currency": "XYZ"}, "unknown_currency"),
    ({"amount": 5}, "invalid_amount"),
    ({"amount": "five"}, "invalid_amount"),
])
async def test_bad_topups_are_refused_and_change_nothing(federation: Federation, body: dict, code: str) -> None:
    node = await federation.start("a")
    admin = await account(node, "root_op", admin=True)
    await account(node, "alice")
    answer = await admin.call("POST", "/api/v1/admin/users/alice/topups", body)
    assert (answer.status, answer.body["error"]) == (400, code), answer.body
    assert await rows(node, Entry) == 0
    await assert_ledger_balances(node)


async def test_budget_accepts_zero_and_refuses_bad_amounts(federation: Federation) -> None:
    node = await federation.start("a")
    alice = await account(node, "alice")
    assert (await alice.call("PUT", "/api/v1/me/budget", {"amount": "5"})).body["budget"]["minor_units"] == 500
    for bad in ("-1", "5,5", "1.234", ""):
        answer = await alice.call("PUT", "/api/v1/me/budget", {"amount": bad})
        assert answer.status == 400, bad
    assert (await alice.call("GET", "/api/v1/me")).body["budget"]["amount"] == "5.00"
    assert (await alice.call("PUT", "/api/v1/me/budget", {"amount": "0"})).status == 200
    assert await rows(node, Budget) == 1


@pytest.mark.parametrize(("body", "status", "code"), [
    ({"url": "not a url"}, 400, "invalid_url"),
    ({"url": "ftp://example.org/x"}, 400, "invalid_url"),
    ({}, 400, "invalid_field"),
    ({"url": "http://127.0.0.1:9/nothing-listens-here"}, 422, "unreachable"),
])
async def test_bad_flattr_urls_are_refused_and_change_nothing(federation: Federation, body: dict, status: int,
                                                              code: str) -> None:
    node = await federation.start("a")
    alice = await account(node, "alice")
    answer = await alice.call("POST", "/api/v1/flattrs", body)
    assert (answer.status, answer.body["error"]) == (status, code), answer.body
    assert await rows(node, Flattr) == 0


async def test_flattring_your_own_thing_is_refused(federation: Federation) -> None:
    node = await federation.start("a")
    bob = await account(node, "bob")
    thing = (await bob.call("POST", "/api/v1/things", {"text": "A note of mine"})).body
    answer = await bob.call("POST", "/api/v1/flattrs", {"url": thing["object_id"]})
    assert (answer.status, answer.body["error"]) == (400, "own_thing")
    assert await rows(node, Flattr) == 0


async def test_malformed_bodies_get_400_with_the_error_shape(federation: Federation) -> None:
    node = await federation.start("a")
    alice = await account(node, "alice")
    for data in (b"{not json", b"[1, 2]"):
        answer = await alice.call("POST", "/api/v1/things", data=data)
        assert (answer.status, answer.body["error"]) == (400, "invalid_json")
    answer = await alice.call("POST", "/api/v1/things", {"url": "https://example.org/x"})
    assert (answer.status, answer.body["error"]) == (400, "missing_title")
    assert (await alice.call("PATCH", "/api/v1/me", {"also_send_lke": True})).body["error"] == "unknown_field"
    assert (await alice.call("GET", "/api/v1/flattrs?period=2026-13")).body["error"] == "invalid_period"
    assert await rows(node, Thing) == 0
