"""`mecene demo`: three Mecene instances and a plain fediverse server on loopback, sample flattrs, one period settled.

Everything goes through the paths a real deployment uses: accounts and tokens
as `mecene user add` and `mecene token create` make them, top-ups, budgets,
things and flattrs through the JSON API over HTTP, federation with signed
requests, agreements between the instances proposed and accepted as their
operators would (`mecene peers`), and the close by each instance's own
scheduler. The story is told on a shared clock set back to a day that has
already ended; it then catches up with real time, which lets that day close
and leaves instances that any other server's signatures, dated now, reach.
"""

import asyncio
import itertools
import shutil
import signal
import tempfile
from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import aiohttp
from sqlalchemy import func, select

from config.settings import load
from server import peering
from server.accounts import create_user
from server.demo.plain_peer import PlainPeer
from server.demo.report import Cast, where_the_money_went
from server.demo.sites import ShiftedClock, Site, clock_in_an_ended_day, serving
from server.peering import Typed
from server.tokens import create_token
from server.web.passwords import hash_password
from settlement import agreements
from settlement.closing import CLOSED
from settlement.models import Agreement, Payout, PeriodClose
from settlement.sent_payouts import SETTLED

#: Per instance: donor, wallet top-up, budget, creator and the creator's thing.
SITES = {
    "alpha": ("alice", "10.00", "6.00", "ada", "Ada's notes on federated accounting"),
    "beta": ("bert", "10.00", "3.00", "bob", "Bob's field recordings from the harbour"),
    "gamma": ("cleo", "2.00", "5.00", "carol", "Carol's sock knitting pattern"),
}
#: Each instance's loopback address: one host each, so a browser keeps each one's login cookie apart.
ADDRESSES = {"alpha": "127.0.0.1", "beta": "127.0.0.2", "gamma": "127.0.0.3"}
PLAIN_CREATOR = "zoe"
#: Who flattrs whom: a creator on the same instance, on the others, and on the server without Mecene.
FLATTRS = {"alice": ["ada", "bob", "carol", PLAIN_CREATOR], "bert": ["ada", "carol", PLAIN_CREATOR],
           "cleo": ["ada", "bob"]}
WAIT_SECONDS = 60.0
#: How long an interrupted demo keeps trying to remove its temporary folder.
REMOVE_SECONDS = 5.0
#: The most each instance lets each other one owe it, in every agreement of the demo.
CREDIT_LIMIT = "100.00"
#: Every sample account's password, for the web pages; the demo lives on loopback and in a throwaway folder.
PASSWORD = "flattr-demo"


class DemoFailed(Exception):
    """The demo could not go on; the message says what stopped it, for the person watching."""


def say(text: str = "") -> None:
    print(text, flush=True)


@dataclass
class Member:
    """A sample account and the token that speaks for it over the API."""

    name: str
    site: Site
    token: str

    @property
    def handle(self) -> str:
        return f"{self.name}@{self.site.name}"


async def run(data: Path | None, wait: bool) -> int:
    root = _data_root(data)
    try:
        async with AsyncExitStack() as stack:
            clock = clock_in_an_ended_day(timedelta(minutes=load(None, {}).settlement.close_delay_minutes))
            say(f"Mecene demo: three instances and a plain fediverse server on loopback (data in {root})\n"
                f"Their clocks are set back to {clock():%Y-%m-%d %H:%M} UTC, a day that has already ended, "
                "until its period closes.\n")
            sites = [await _start(stack, root, name, address, clock) for name, address in ADDRESSES.items()]
            peer = await stack.enter_async_context(await PlainPeer.start())
            peer.clock = clock
            await _play(sites, peer, clock)
            if wait:
                say("\nRunning until Ctrl-C: click around the URLs above.")
                await _until_interrupted()
    finally:
        if data is None:
            await _remove(root)
    return 0


async def _start(stack: AsyncExitStack, root: Path, name: str, address: str, clock: ShiftedClock) -> Site:
    """Said before it starts: migrating a new database takes a few seconds, which would otherwise pass in silence."""
    say(f"  starting {name} on {address} ...")
    return await stack.enter_async_context(serving(root, name, address, clock))


async def _remove(root: Path) -> None:
    """The temporary folder, removed even when Ctrl-C cut a database statement short while an instance started:
    its SQLite thread may write a journal beside the removed files a moment longer, and keep the folder alive.
    """
    deadline = asyncio.get_running_loop().time() + REMOVE_SECONDS
    shutil.rmtree(root, ignore_errors=True)
    while root.exists() and asyncio.get_running_loop().time() < deadline:
        await asyncio.sleep(0.1)
        shutil.rmtree(root, ignore_errors=True)


def _data_root(data: Path | None) -> Path:
    """A fresh temporary folder by default; a given folder must be new or empty, so no earlier demo is mixed in."""
    if data is None:
        return Path(tempfile.mkdtemp(prefix="mecene-demo-"))
    if data.exists() and (not data.is_dir() or any(data.iterdir())):
        raise DemoFailed(f"{data} is not an empty folder; give a new one to --data")
    data.mkdir(parents=True, exist_ok=True)
    return data


async def _play(sites: list[Site], peer: PlainPeer, clock: ShiftedClock) -> None:
    _print_sites(sites, peer)
    await _agree_all(sites)
    async with aiohttp.ClientSession() as http:
        members = await _enrol_all(http, sites)
        peer.add_account(PLAIN_CREATOR)
        zoe_note = peer.add_note(PLAIN_CREATOR, "<p>Zoe's photo of the harbour at dawn</p>")
        things = members.things | {PLAIN_CREATOR: zoe_note.url}
        _print_members(members, peer, things)
        await _flattr_all(http, members, things)
        await _until(lambda: _all_received(http, members, peer), "every flattr to reach its author's server")
    label = await _close(sites, clock)
    cast = Cast(sites, {m.site.instance.urls.actor(m.name): m.handle for m in members.people.values()}
                | {peer.actor_uri(PLAIN_CREATOR): f"{PLAIN_CREATOR}@plain"})
    if not await where_the_money_went(cast, label, say):
        raise DemoFailed("a ledger does not balance or money is not conserved (see above)")
    ada = members.people["ada"]
    say(f"\nTry: curl -H 'Authorization: Bearer {ada.token}' {ada.site.base_url}/api/v1/earnings")


@dataclass
class Members:
    people: dict[str, Member]
    operators: list[Member]
    things: dict[str, str]


async def _enrol_all(http: aiohttp.ClientSession, sites: list[Site]) -> Members:
    say("\nCreating the sample accounts, topping up the donors' wallets and offering the creators' things ...")
    members, password_hash = Members({}, [], {}), await hash_password(PASSWORD)
    for site in sites:
        donor, wallet, budget, creator, text = SITES[site.name]
        operator = await _enrol(site, "operator", "Operator", password_hash, admin=True)
        members.operators.append(operator)
        members.people[donor] = await _enrol(site, donor, donor.capitalize(), password_hash)
        members.people[creator] = await _enrol(site, creator, creator.capitalize(), password_hash)
        await _call(http, operator, "POST", f"/api/v1/admin/users/{donor}/topups",
                    {"amount": wallet, "reference": "demo-topup"})
        await _call(http, members.people[donor], "PUT", "/api/v1/me/budget", {"amount": budget})
        thing = await _call(http, members.people[creator], "POST", "/api/v1/things", {"text": text})
        members.things[creator] = thing["object_id"]
    return members


async def _enrol(site: Site, name: str, display_name: str, password_hash: str, admin: bool = False) -> Member:
    """As `mecene user add` and `mecene token create` do it, with the sign-up page's password hash."""
    instance = site.instance
    async with instance.sessions() as session, session.begin():
        user = await create_user(session, name, bot_username=instance.settings.instance.bot_username,
                                 now=instance.clock(), display_name=display_name)
        user.is_admin, user.password_hash = admin, password_hash
        token = await create_token(session, user, "mecene demo", instance.clock())
    return Member(name, site, token)


async def _call(http: aiohttp.ClientSession, member: Member, method: str, path: str, body: Any = None) -> Any:
    headers = {"Authorization": f"Bearer {member.token}"}
    async with http.request(method, f"{member.site.base_url}{path}", json=body, headers=headers) as response:
        answer = await response.json(content_type=None)
    if response.status >= 300:
        raise DemoFailed(f"{member.handle}: {method} {path} answered {response.status}: {answer}")
    return answer


async def _flattr_all(http: aiohttp.ClientSession, members: Members, things: dict[str, str]) -> None:
    label = members.people["alice"].site.instance.current_period().label
    say(f"\nFlattrs in period {label} (POST /api/v1/flattrs as each donor)")
    for donor, creators in FLATTRS.items():
        for creator in creators:
            await _call(http, members.people[donor], "POST", "/api/v1/flattrs", {"url": things[creator]})
            target = members.people[creator].handle if creator in members.people else f"{creator}@plain"
            say(f"  {members.people[donor].handle:12} flattrs {target:12} {things[creator]}")


async def _all_received(http: aiohttp.ClientSession, members: Members, peer: PlainPeer) -> bool:
    for creator in ("ada", "bob", "carol"):
        expected = sum(creator in creators for creators in FLATTRS.values())
        received = await _call(http, members.people[creator], "GET", "/api/v1/received")
        if len(received["flattrs"]) < expected:
            return False
    return len(peer.activities("Flattr")) >= sum(PLAIN_CREATOR in c for c in FLATTRS.values())


async def _agree_all(sites: list[Site]) -> None:
    """Every pair of instances agrees, as two operators would: Payouts flow only under an agreement in force."""
    currency = sites[0].instance.settings.instance.currency
    say("\nEvery pair of instances makes an agreement, as their operators would with `mecene peers` ...")
    for first, second in itertools.combinations(sites, 2):
        await _agree(first, second, currency)
    pairs = ", ".join(f"{first.name}–{second.name}" for first, second in itertools.combinations(sites, 2))
    say(f"\nAgreements in force ({currency}, each instance lets the other owe it up to {CREDIT_LIMIT}): {pairs}")


async def _agree(first: Site, second: Site, currency: str) -> None:
    await peering.propose(first.instance, second.instance.urls.host,
                          Typed(currency, CREDIT_LIMIT, instructions=f"Pay {first.name} by hand"))
    await _until(lambda: _agreement_is(second, first, agreements.OFFERED), f"{second.name} to get the offer")
    await peering.accept(second.instance, first.instance.urls.host,
                         Typed(currency, CREDIT_LIMIT, instructions=f"Pay {second.name} by hand"))
    await _until(lambda: _agreement_is(first, second, agreements.IN_FORCE), f"{first.name} to get the answer")


async def _agreement_is(site: Site, peer: Site, state: str) -> bool:
    async with site.instance.sessions() as session:
        found = await session.scalar(select(Agreement.state).where(Agreement.peer_host == peer.instance.urls.host))
    return found == state


async def _close(sites: list[Site], clock: ShiftedClock) -> str:
    """The shared clock catches up with real time, past the period's end and its close delay; the schedulers do
    the rest, and the instances keep real time afterwards.
    """
    period = sites[0].instance.current_period()
    jump = clock.catch_up()
    say(f"\nClosing period {period.label}, which has ended: the instances' clocks catch up {_duration(jump)} "
        f"with real time ({clock():%Y-%m-%d %H:%M} UTC),\nso each instance's scheduler closes the period and "
        "sends its Payouts.")
    await _until(lambda: _settled(sites, period.label), f"period {period.label} to close and its payouts to settle")
    say(f"  period {period.label} closed on every instance; every Payout answered")
    return period.label


async def _settled(sites: list[Site], label: str) -> bool:
    for site in sites:
        async with site.instance.sessions() as session:
            state = await session.scalar(select(PeriodClose.state).where(PeriodClose.period == label))
            unsettled = await session.scalar(select(func.count(Payout.id)).where(Payout.state != SETTLED))
        if state != CLOSED or unsettled:
            return False
    return True


async def _until(check: Callable[[], Awaitable[bool]], what: str) -> None:
    deadline = asyncio.get_running_loop().time() + WAIT_SECONDS
    while not await check():
        if asyncio.get_running_loop().time() > deadline:
            raise DemoFailed(f"gave up waiting for {what} after {WAIT_SECONDS:.0f} s")
        await asyncio.sleep(0.2)


async def _until_interrupted() -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for number in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(number, stop.set)
    try:
        await stop.wait()
    finally:
        for number in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(number)
    say("Stopping the demo instances.")


def _duration(span: timedelta) -> str:
    minutes = int(span.total_seconds()) // 60
    return f"{minutes // 60} h {minutes % 60:02d} min"


def _print_sites(sites: list[Site], peer: PlainPeer) -> None:
    say("")
    for site in sites:
        say(f"  {site.name:6} {site.base_url}/   mecene --config {site.config_file} ...")
    say(f"  {'plain':6} {peer.base_url}/   a fediverse server without Mecene, like a Mastodon")


def _print_members(members: Members, peer: PlainPeer, things: dict[str, str]) -> None:
    say(f"\nSample accounts: log in at URL/login with password {PASSWORD!r}, or call the API with a token:\n"
        "curl -H 'Authorization: Bearer TOKEN' URL/api/v1/me")
    for operator in members.operators:
        say(f"  {operator.handle:14} operator  {operator.token}")
    currency = members.operators[0].site.instance.settings.instance.currency
    for name, wallet, budget, creator, _ in SITES.values():
        say(f"  {members.people[name].handle:14} donor     {members.people[name].token}  "
            f"(wallet {wallet} {currency}, budget {budget} {currency} per period)")
        say(f"  {members.people[creator].handle:14} creator   {members.people[creator].token}  "
            f"(thing {things[creator]})")
    say(f"  {PLAIN_CREATOR + '@plain':14} creator on the plain server: {peer.actor_uri(PLAIN_CREATOR)}")
