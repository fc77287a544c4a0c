"""A person at a browser: the steps they take on Mecene's pages, found by their visible labels and roles.

Each step ends with a screenshot in the test's artifact folder, numbered in
the order taken, so a failed run can be read like a comic strip.
"""

import re
from dataclasses import dataclass
from pathlib import Path

from playwright.async_api import Page, expect

from federation_harness import Node


@dataclass
class Person:
    name: str
    page: Page
    folder: Path
    taken: int = 0

    async def shot(self, what: str) -> Path:
        self.taken += 1
        path = self.folder / f"{self.name}-{self.taken:02d}-{what}.png"
        await self.page.screenshot(path=str(path), full_page=True)
        return path

    async def visit(self, node: Node, path: str) -> None:
        await self.page.goto(node.base_url + path)

    async def sign_up(self, node: Node, username: str, password: str) -> None:
        await self.visit(node, "/signup")
        await self.page.get_by_label("Username").fill(username)
        await self.page.get_by_label("Password", exact=True).fill(password)
        await self.page.get_by_label("Password again").fill(password)
        await self.page.get_by_role("button", name="Sign up").click()
        await expect(self.page.get_by_text(f"Signed in as {username}")).to_be_visible()
        await self.shot("signed-up")

    async def log_in(self, node: Node, username: str, password: str) -> None:
        await self.visit(node, "/login")
        await self.page.get_by_label("Username").fill(username)
        await self.page.get_by_label("Password", exact=True).fill(password)
        await self.page.get_by_role("button", name="Log in").click()
        await expect(self.page.get_by_text(f"Signed in as {username}")).to_be_visible()
        await self.shot("logged-in")

    async def log_out(self) -> None:
        await self.page.get_by_role("button", name="Log out").click()
        await expect(self.page.get_by_role("link", name="Log in", exact=True)).to_be_visible()
        await self.shot("logged-out")

    async def top_up(self, node: Node, username: str, amount: str, reference: str) -> None:
        """As an operator: Operator → Top-ups, the form filled in and sent."""
        await self.visit(node, "/")
        await self.page.get_by_role("link", name="Operator").click()
        await self.page.get_by_role("navigation", name="Operator").get_by_role("link", name="Top-ups").click()
        await self.page.get_by_label("Username").fill(username)
        await self.page.get_by_label(re.compile(r"^Amount")).fill(amount)
        await self.page.get_by_label("Reference").fill(reference)
        await self.page.get_by_role("button", name="Credit wallet").click()
        await expect(self.page.get_by_role("status")).to_contain_text(f"Wallet of {username}:")
        await self.shot("topped-up")
