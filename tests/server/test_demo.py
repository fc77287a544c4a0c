"""`mecene demo` run as a newcomer runs it: a real process, its printed allocation checked against the databases."""

import asyncio
import os
import re
import signal
import subprocess
from pathlib import Path
from urllib.parse import urlsplit

import aiohttp
from sqlalchemy import func, select

from api_client import account
from cli_process import MECENE, ROOT
from config.settings import load
from federation_harness import Federation, eventually
from server import db
from server.demo.run import PASSWORD
from settlement import ledger, statements
from settlement.ledger import AccountKey
from settlement.models import DonorClose, Earning

SITES = ("alpha", "beta", "gamma")
TOPUPS = {"alice": 1000, "bert": 1000, "cleo": 200}
FLATTRED = re.compile(r"^  \w+@\w+ +flattrs \w+@\w+ +http://", re.MULTILINE)
SPENT = re.compile(r"^  (\w+)@(\w+) spent (\d+)\.(\d\d) EUR", re.MULTILINE)
EARNED = re.compile(r"^  (\w+)@(\w+) earned (\d+)\.(\d\d) EUR$", re.MULTILINE)
ESCROWED = re.compile(r"^  zoe@plain has no Mecene: (\d+)\.(\d\d) EUR held in escrow", re.MULTILINE)
URL = re.compile(r"^  (alpha|beta|gamma|plain)\s+(http://127\.0\.0\.\d+:\d+)/", re.MULTILINE)
ADA = re.compile(r"^  ada@alpha +creator +(\S+) +\(thing (\S+)\)$", re.MULTILINE)


def environment() -> dict[str, str]:
    """The demo ignores MECENE_* settings; they are dropped anyway so a developer's own setup cannot leak in."""
    environ = {key: value for key, value in os.environ.items() if not key.startswith("MECENE_")}
    environ["PYTHONPATH"] = str(ROOT)
    return environ


def cents(whole: str, fraction: str) -> int:
    return int(whole) * 100 + int(fraction)


async def recorded(config: Path) -> dict[str, int]:
    """From one instance's database: each donor's spend and wallet, each creator's earnings, the escrow held."""
    engine = db.create_engine(load(config, {}).database.url)
    try:
        async with db.sessionmaker(engine)() as session:
            assert await ledger.check(session) == []
            found = {f"spent {donor}": int(spend)
                     for donor, spend in await session.execute(select(DonorClose.donor, DonorClose.spend))}
            for donor in [key.split()[1] for key in found]:
                found[f"wallet {donor}"] = await ledger.balance(session, AccountKey("wallet", donor, "EUR"))
            found |= {f"earned {creator}": int(amount) for creator, amount in await session.execute(
                select(Earning.creator, func.sum(Earning.amount)).group_by(Earning.creator))}
            found["escrow"] = (await statements.conservation(session, "EUR")).escrow
    finally:
        await engine.dispose()
    return found


async def test_demo_runs_to_completion_and_prints_what_the_databases_hold(tmp_path: Path) -> None:
    data = tmp_path / "demo"
    done = subprocess.run([*MECENE, "demo", "--no-wait", "--data", str(data)], env=environment(), cwd=ROOT,
                          capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    assert len(FLATTRED.findall(out)) == 9 and "closed on every instance" in out
    assert [line.split()[0] for line in out.splitlines() if "ledger balances" in line] == list(SITES)

    found: dict[str, int] = {"escrow": 0}
    for site in SITES:
        here = await recorded(data / site / "mecene.toml")
        found |= {key: value for key, value in here.items() if key != "escrow"}
        found["escrow"] += here["escrow"]
    printed = {f"spent {name}": cents(whole, part) for name, _, whole, part in SPENT.findall(out)}
    printed |= {f"earned {name}": cents(whole, part) for name, _, whole, part in EARNED.findall(out)}
    assert printed == {key: value for key, value in found.items() if key.split()[0] in ("spent", "earned")}
    assert set(printed) == {"spent alice", "spent bert", "spent cleo", "earned ada", "earned bob", "earned carol"}
    [(whole, part)] = ESCROWED.findall(out)
    assert cents(whole, part) == found["escrow"] > 0
    for donor, topup in TOPUPS.items():
        assert found[f"wallet {donor}"] == topup - found[f"spent {donor}"]
    spent = sum(value for key, value in found.items() if key.startswith("spent"))
    earned = sum(value for key, value in found.items() if key.startswith("earned"))
    assert spent == earned + found["escrow"] == 1100

    for site in SITES:
        check = subprocess.run([*MECENE, "--config", str(data / site / "mecene.toml"), "ledger", "check"],
                               env=environment(), cwd=ROOT, capture_output=True, text=True, timeout=60)
        assert check.returncode == 0 and "ledger balances" in check.stdout, check.stderr


async def test_demo_serves_until_interrupted_then_stops_cleanly(federation: Federation) -> None:
    """Handed over, the instances live on hosts of their own and keep real time, as any other server does."""
    process = await asyncio.create_subprocess_exec(*MECENE, "demo", env=environment(), cwd=ROOT,
                                                   stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    try:
        out = await asyncio.wait_for(_read_until(process, "Running until Ctrl-C"), timeout=120)
        assert out.startswith("Mecene demo: ")
        urls = dict(URL.findall(out))
        assert set(urls) == {*SITES, "plain"}
        assert [urlsplit(urls[site]).hostname for site in SITES] == ["127.0.0.1", "127.0.0.2", "127.0.0.3"]
        async with aiohttp.ClientSession() as http:
            for site in SITES:
                async with http.get(f"{urls[site]}/health") as response:
                    assert response.status == 200 and (await response.json())["status"] == "ok"
            async with http.get(f"{urls['plain']}/users/zoe", headers={"Accept": "application/activity+json"}) as r:
                assert r.status == 200
        await _logged_in_to_two_at_once(urls["alpha"], urls["beta"])
        await _flattred_from_an_ordinary_instance(federation, out)
        process.send_signal(signal.SIGINT)
        rest, errors = await asyncio.wait_for(process.communicate(), timeout=30)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert process.returncode == 0, errors.decode()
    assert "Stopping the demo instances." in rest.decode()
    folder = re.search(r"data in (\S+)\)", out)
    assert folder is not None and not Path(folder.group(1)).exists()


async def test_an_interrupt_while_the_demo_sets_up_stops_it_with_exit_130() -> None:
    """The command's last word is one line; SQLAlchemy may still log a connection it could not reset in time."""
    process = await asyncio.create_subprocess_exec(*MECENE, "demo", env=environment(), cwd=ROOT,
                                                   stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    try:
        out = await asyncio.wait_for(_read_until(process, "plain "), timeout=120)
        process.send_signal(signal.SIGINT)
        _, errors = await asyncio.wait_for(process.communicate(), timeout=30)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert process.returncode == 130 and errors.decode().strip().splitlines()[-1] == "mecene: interrupted", errors
    assert "KeyboardInterrupt" not in errors.decode()
    folder = re.search(r"data in (\S+)\)", out)
    assert folder is not None and not Path(folder.group(1)).exists()


async def test_demo_refuses_a_folder_that_is_not_empty(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("mine")
    done = subprocess.run([*MECENE, "demo", "--no-wait", "--data", str(tmp_path)], env=environment(), cwd=ROOT,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 1 and "not an empty folder" in done.stderr
    assert [path.name for path in tmp_path.iterdir()] == ["notes.txt"]


async def _logged_in_to_two_at_once(alpha: str, beta: str) -> None:
    """One browser's cookie jar: logging in to beta leaves alice logged in to alpha."""
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as browser:
        for url, name in ((alpha, "alice"), (beta, "bert")):
            async with browser.get(f"{url}/login") as form:
                csrf = re.search(r'name="csrf" value="([^"]+)"', await form.text())
            assert csrf is not None
            data = {"csrf": csrf.group(1), "next": "/", "username": name, "password": PASSWORD}
            async with browser.post(f"{url}/login", data=data, allow_redirects=False) as answer:
                assert answer.status == 303
        for url, name in ((alpha, "alice"), (beta, "bert")):
            async with browser.get(f"{url}/settings", allow_redirects=False) as page:
                assert page.status == 200 and name in await page.text()


async def _flattred_from_an_ordinary_instance(federation: Federation, out: str) -> None:
    """A server on real time (and the demo's daily periods) flattrs ada's thing: alpha takes its signature, dated
    now, and ada receives it in today's period.
    """
    found = ADA.search(out)
    assert found is not None
    ada_token, thing = found.groups()
    olga = await account(await federation.start("ordinary", MECENE_SETTLEMENT_PERIOD="daily"), "olga")
    assert (await olga.call("POST", "/api/v1/flattrs", {"url": thing})).status == 201

    async def received() -> bool:
        async with aiohttp.ClientSession() as http, http.get(
                thing.split("/things/")[0] + "/api/v1/received", headers={"Authorization": f"Bearer {ada_token}"}
        ) as response:
            flattrs = (await response.json())["flattrs"]
        return any("olga" in flattr["donor"] for flattr in flattrs)

    await eventually(received, what="olga's flattr to reach ada on alpha")


async def _read_until(process: asyncio.subprocess.Process, marker: str) -> str:
    assert process.stdout is not None
    lines = []
    while True:
        line = (await process.stdout.readline()).decode()
        if not line:
            raise AssertionError("the demo ended early:\n" + "".join(lines))
        lines.append(line)
        if marker in line:
            return "".join(lines)
