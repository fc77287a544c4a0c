"""Real headless Chromium (Debian's /usr/bin/chromium) driven by Playwright, against real Mecene instances.

The instances run in-process through `tests/federation_harness.py`, in the
test's own event loop, rather than as `mecene serve` subprocesses:

- the test owns each instance's clock, so it can end a period and watch the
  scheduler close it within seconds, which no subprocess would allow;
- it reads each instance's database to check that what a page claims is what
  happened, and gets a fresh database per instance on SQLite or PostgreSQL
  exactly as the other federation tests do;
- Playwright's async API shares the loop: while the test awaits a click, the
  loop serves the request Chromium sent. Chromium itself is another process,
  talking real HTTP to 127.0.0.1 like any browser.

Every test in this folder is marked `browser`. It runs wherever
/usr/bin/chromium exists (`.ci/run` installs it), and is skipped, saying why,
where it does not. Playwright never downloads a browser of its own.
Screenshots go to test-artifacts/<test>/, kept after the run.
"""

import re
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
from people import Person
from playwright.async_api import Browser, async_playwright

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
HERE = Path(__file__).resolve().parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if HERE in Path(str(item.path)).parents:
            item.add_marker(pytest.mark.browser)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> pytest.TestReport:
    """Kept on the item so that the `people` fixture knows whether to photograph a failure."""
    report = yield
    if report.when == "call":
        item.stash[FAILED] = report.failed
    return report


FAILED = pytest.StashKey[bool]()


@pytest.fixture
async def chromium() -> AsyncIterator[Browser]:
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed at /usr/bin/chromium (`apt-get install -y chromium`; "
                    ".ci/run installs it)")
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=str(CHROMIUM))
        try:
            yield browser
        finally:
            await browser.close()


@pytest.fixture
async def people(chromium: Browser, request: pytest.FixtureRequest) -> AsyncIterator[Callable[..., Awaitable[Person]]]:
    """`await people("dora")`: a person with a browser window of their own (own cookies), photographed as they go.

    `locale="fr-FR"` makes a browser that speaks French: its Accept-Language asks for French first.
    """
    folder = ARTIFACTS / re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.name)
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*.png"):
        old.unlink()
    opened: list[Person] = []

    async def open_window(name: str, *, width: int = 1100, height: int = 800, locale: str | None = None) -> Person:
        context = await chromium.new_context(viewport={"width": width, "height": height}, locale=locale)
        person = Person(name, await context.new_page(), folder)
        opened.append(person)
        return person

    yield open_window
    for person in opened:
        if request.node.stash.get(FAILED, False):
            await person.shot("failure")
        await person.page.context.close()
