"""Every page, and every other answer, carries the headers that keep a planted script and a framing site out."""

import re

import aiohttp
import pytest
from sqlalchemy import select

from api_client import account
from federation_harness import Federation, Node
from server.app import create_app
from server.models import Thing
from server.web.security_headers import CONTENT_SECURITY_POLICY

EXPECTED = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "X-Content-Type-Options": "nosniff",
}


def test_the_policy_allows_no_inline_script_and_no_framing() -> None:
    directives = dict(part.strip().split(" ", 1) for part in CONTENT_SECURITY_POLICY.split(";"))
    assert directives["default-src"] == "'none'" and "script-src" not in directives
    assert directives["frame-ancestors"] == "'none'" and directives["base-uri"] == "'none'"
    assert "'unsafe-inline'" not in CONTENT_SECURITY_POLICY and "'unsafe-eval'" not in CONTENT_SECURITY_POLICY


async def every_get_path(node: Node) -> list[str]:
    """Each GET route of the application, its path parameters filled with things that exist."""
    await account(node, "bob")
    async with node.live.sessions() as session:
        token = await session.scalar(select(Thing.token).limit(1))
    values = {"username": "bob", "token": token or "none", "id": "1", "name": "bob"}
    app = create_app(node.live, run_workers=False)
    paths = set()
    for route in app.router.routes():
        if route.method != "GET" or route.resource is None:
            continue
        canonical = route.resource.canonical
        paths.add("/static/mecene.css" if canonical == "/static" else
                  re.sub(r"\{(\w+)[^}]*\}", lambda found: values.get(found.group(1), "x"), canonical))
    return sorted(paths)


@pytest.mark.parametrize("accept", ["text/html", "application/json"])
async def test_every_get_route_answers_with_the_security_headers(federation: Federation, accept: str) -> None:
    node = await federation.start("a")
    paths = await every_get_path(node)
    assert "/" in paths and "/users/bob" in paths and "/flattr-button" in paths and "/login" in paths
    async with aiohttp.ClientSession() as http:
        for path in [*paths, "/no/such/page"]:
            async with http.get(node.base_url + path, headers={"Accept": accept}, allow_redirects=False) as answer:
                for name, value in EXPECTED.items():
                    assert answer.headers.get(name) == value, (path, answer.status, name)


async def test_forms_and_refusals_carry_them_too(federation: Federation) -> None:
    node = await federation.start("a")
    async with aiohttp.ClientSession() as http:
        for path in ("/login", "/signup", "/flattr-button", "/api/v1/me"):
            async with http.post(node.base_url + path, data={"csrf": "wrong"}, allow_redirects=False) as answer:
                assert answer.status >= 400
                for name, value in EXPECTED.items():
                    assert answer.headers.get(name) == value, (path, name)
