"""A browser without a screen: cookies, forms and their CSRF fields, over real HTTP to a test instance."""

from dataclasses import dataclass, field
from html.parser import HTMLParser

import aiohttp

from federation_harness import Node


@dataclass
class Page:
    status: int
    url: str
    html: str
    language: str = ""

    def hidden(self, name: str) -> str:
        """The value of the first input called `name` on the page, e.g. the form's CSRF token."""
        inputs = _Inputs()
        inputs.feed(self.html)
        for found, value in inputs.values:
            if found == name:
                return value
        raise AssertionError(f"no input {name!r} on {self.url}")


class _Inputs(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.values: list[tuple[str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        named = dict(attrs)
        if tag == "input" and named.get("name"):
            self.values.append((named["name"] or "", named.get("value") or ""))


@dataclass
class Browser:
    """One visitor with a cookie jar; `submit` posts a form with the CSRF token of the page it came from."""

    node: Node
    accept_language: str | None = None
    session: aiohttp.ClientSession = field(init=False)

    def __post_init__(self) -> None:
        self.session = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))

    async def get(self, path: str) -> Page:
        async with self.session.get(self.node.base_url + path, headers=self._headers()) as response:
            return await _page(response)

    async def submit(self, form_page: str, action: str, data: dict[str, str]) -> Page:
        csrf = (await self.get(form_page)).hidden("csrf")
        return await self.post(action, {"csrf": csrf, **data})

    async def post(self, action: str, data: dict[str, str]) -> Page:
        async with self.session.post(self.node.base_url + action, data=data, headers=self._headers()) as response:
            return await _page(response)

    def _headers(self) -> dict[str, str]:
        wanted = {"Accept": "text/html"}
        if self.accept_language:
            wanted["Accept-Language"] = self.accept_language
        return wanted

    async def close(self) -> None:
        await self.session.close()


async def _page(response: aiohttp.ClientResponse) -> Page:
    return Page(response.status, str(response.url), await response.text(), response.headers.get("Content-Language", ""))
