"""Agreements between two real instances, as their operators and their peers make them.

Instance A's operator proposes by `mecene peers` run against A's database
while A serves; B's operator answers on B's /admin/peers page.
The Offer, the Accept or Reject and the Leave travel as signed activities
between the instance actors, so each side ends up with its own limit and the
other's payment details, in the same state.
"""

import asyncio
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, update

from cli_process import ROOT, mecene, run_here
from federation import agreement_vocab
from federation.models import Delivery, InboxItem, OutboxItem
from federation.outbox import new_activity_id, publish
from federation_harness import Federation, Node, eventually
from plain_peer import PlainPeer
from server import peering
from server.accounts import INSTANCE_ACTOR, create_user
from server.models import User
from server.peering import Typed
from server.refusal import Refusal
from server.web.passwords import hash_password
from settlement import agreement_terms
from settlement.models import Agreement
from web_client import Browser

PASSWORD = "operator horse"
IBAN = "DE89370400440532013000"
A_TERMS = Typed("EUR", "500.00", iban=IBAN, account_holder="Mecene A e.V.")
B_TERMS = Typed("EUR", "300.00", instructions="PayPal to treasurer@b.example\nreference: your host")


async def operator(node: Node, name: str = "olga", admin: bool = True) -> Browser:
    """An administrator of `node` (or, without `admin`, one of its members), signed in on its pages."""
    async with node.live.sessions() as session, session.begin():
        user = await create_user(session, name, bot_username="flattr", now=node.live.clock())
        user.is_admin = admin
    async with node.live.sessions() as session, session.begin():
        await session.execute(update(User).where(User.username == name).values(
            password_hash=await hash_password(PASSWORD)))
    browser = Browser(node)
    page = await browser.submit("/login", "/login", {"username": name, "password": PASSWORD})
    assert page.status == 200 and f"Signed in as <strong>{name}</strong>" in page.html
    return browser


def cli_env(node: Node, tmp_path: Path) -> dict[str, str]:
    """`mecene` as this node's operator runs it: its database and domain, no configuration file."""
    return {"MECENE_DATABASE_URL": node.database_url, "MECENE_INSTANCE_DOMAIN": node.host,
            "MECENE_DEV_INSECURE": "true", "MECENE_DATA_DIR": str(tmp_path / f"cli-{node.name}"),
            "PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"}


async def peers(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """`mecene peers …`, while this event loop keeps serving the instances it talks to."""
    return await run_here(env, "peers", *args)


async def agreements_of(node: Node) -> list[Agreement]:
    async with node.live.sessions() as session:
        return list(await session.scalars(select(Agreement).order_by(Agreement.id)))


async def latest(node: Node, peer: Node) -> Agreement | None:
    async with node.live.sessions() as session:
        return await session.scalar(select(Agreement).where(Agreement.peer_host == peer.host)
                                    .order_by(Agreement.id.desc()).limit(1))


async def reaches(node: Node, peer: Node, state: str) -> Agreement:
    """The newest agreement of `node` with `peer`, once it is in `state`."""
    found: list[Agreement] = []

    async def there() -> bool:
        row = await latest(node, peer)
        found[:] = [row] if row is not None else []
        return row is not None and row.state == state

    await eventually(there, what=f"{node.name}'s agreement with {peer.name} {state}")
    return found[0]


async def sent(node: Node) -> int:
    """Activities this node queued: what a refusal must not add to."""
    async with node.live.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(OutboxItem)) or 0)


@pytest.fixture
async def pair(federation: Federation) -> tuple[Node, Node]:
    return await federation.start("a"), await federation.start("b")


async def in_force(a: Node, b: Node) -> None:
    """A proposed, B accepted, both in force: the services the command and the page call."""
    await peering.propose(a.live, b.host, A_TERMS)
    await reaches(b, a, "offered")
    await peering.accept(b.live, a.host, B_TERMS)
    await reaches(a, b, "in_force")


async def test_proposed_by_command_and_accepted_on_the_page_both_sides_hold_their_own_terms(
        pair: tuple[Node, Node], tmp_path: Path) -> None:
    a, b = pair
    env = cli_env(a, tmp_path)
    proposed = await asyncio.to_thread(mecene, env, "peers", "propose", b.host, "--currency", "EUR",
                                       "--credit-limit", "500.00", "--iban", "DE89 3704 0044 0532 0130 00",
                                       "--holder", "Mecene A e.V.")
    assert proposed.returncode == 0, proposed.stderr
    assert f"Proposed to {b.host} in EUR: they may owe you at most 500.00 EUR" in proposed.stdout
    await reaches(a, b, "proposed")

    offered = await reaches(b, a, "offered")
    assert (offered.peer_credit_limit, offered.peer_iban, offered.peer_account_holder) == (
        50000, IBAN, "Mecene A e.V.")
    assert offered.credit_limit is None and not offered.proposed_by_us
    olga = await operator(b)
    try:
        shown = await olga.get("/admin/peers")
        assert shown.status == 200 and a.host in shown.html and "offered" in shown.html
        assert "IBAN DE89 3704 0044 0532 0130 00 (Mecene A e.V.)" in shown.html
        accepted = await olga.submit("/admin/peers", "/admin/peers/accept", {
            "host": a.host, "currency": "EUR", "credit_limit": "300.00", "iban": "", "holder": "",
            "instructions": "PayPal to treasurer@b.example\r\nreference: your host"})
        assert accepted.status == 200 and f"The agreement with {a.host} in EUR is in force." in accepted.html
    finally:
        await olga.close()

    on_a = await reaches(a, b, "in_force")
    on_b = await latest(b, a)
    assert on_b is not None and on_b.state == "in_force"
    assert (on_a.credit_limit, on_a.iban, on_a.account_holder, on_a.instructions) == (
        50000, IBAN, "Mecene A e.V.", None)
    assert (on_a.peer_credit_limit, on_a.peer_iban, on_a.peer_instructions) == (
        30000, None, "PayPal to treasurer@b.example\nreference: your host")
    assert (on_b.credit_limit, on_b.instructions, on_b.peer_credit_limit, on_b.peer_iban) == (
        30000, "PayPal to treasurer@b.example\nreference: your host", 50000, IBAN)
    assert on_a.uri == on_b.uri and on_a.offer_activity_id == on_b.offer_activity_id
    assert on_a.answer_activity_id == on_b.answer_activity_id is not None

    listed = await peers(env, "list")
    assert listed.returncode == 0, listed.stderr
    row = listed.stdout.splitlines()[1].split("\t")
    assert row[:6] == [b.host, "EUR", "in_force", "us", "500.00 EUR", "300.00 EUR"]
    assert row[6] == "IBAN DE89 3704 0044 0532 0130 00 (Mecene A e.V.)"
    assert row[7] == "PayPal to treasurer@b.example reference: your host"


async def test_an_offer_declined_by_command_is_declined_on_both_sides(pair: tuple[Node, Node],
                                                                      tmp_path: Path) -> None:
    a, b = pair
    olga = await operator(a)
    try:
        page = await olga.submit("/admin/peers", "/admin/peers", {
            "host": b.base_url, "currency": "EUR", "credit_limit": "0", "instructions": "Cash at our meetings"})
        assert page.status == 200 and f"Proposed to {b.host} in EUR" in page.html
    finally:
        await olga.close()
    await reaches(b, a, "offered")
    declined = await peers(cli_env(b, tmp_path), "decline", a.host)
    assert declined.returncode == 0, declined.stderr
    assert f"Declined the offer of {a.host} in EUR" in declined.stdout
    on_a = await reaches(a, b, "declined")
    assert on_a.reason == "declined" and on_a.credit_limit == 0 and on_a.peer_credit_limit is None
    await reaches(b, a, "declined")
    again = await peers(cli_env(b, tmp_path), "accept", a.host, "--credit-limit", "1", "--instructions", "x")
    assert again.returncode == 1 and "nothing to accept" in again.stderr


@pytest.mark.parametrize("ender", ["proposer by command", "acceptor on the page"])
async def test_either_side_ends_an_agreement_and_a_new_one_may_follow(pair: tuple[Node, Node], ender: str,
                                                                      tmp_path: Path) -> None:
    a, b = pair
    await in_force(a, b)
    if ender == "proposer by command":
        leaving, other = a, b
        done = await peers(cli_env(a, tmp_path), "end", b.host, "--currency", "EUR")
        assert done.returncode == 0 and f"Ended the agreement with {b.host} in EUR" in done.stdout, done.stderr
    else:
        leaving, other = b, a
        olga = await operator(b)
        try:
            page = await olga.submit("/admin/peers", "/admin/peers/end", {"host": a.host, "currency": "EUR"})
            assert page.status == 200 and f"Ended the agreement with {a.host} in EUR" in page.html
        finally:
            await olga.close()
    ended = await reaches(leaving, other, "ended")
    assert ended.ended_by_us
    on_other = await reaches(other, leaving, "ended")
    assert on_other.ended_by_us is False and on_other.end_activity_id == ended.end_activity_id
    assert on_other.peer_credit_limit is not None, "what was agreed stays on the books"

    await in_force(a, b)
    assert [row.state for row in await agreements_of(a)] == ["ended", "in_force"]
    assert [row.state for row in await agreements_of(b)] == ["ended", "in_force"]


async def test_a_proposal_withdrawn_before_its_answer_cannot_be_accepted(pair: tuple[Node, Node]) -> None:
    a, b = pair
    await peering.propose(a.live, b.host, A_TERMS)
    await reaches(b, a, "offered")
    withdrawn = await peering.end(a.live, b.host, "EUR")
    assert withdrawn.state == "withdrawn"
    await reaches(b, a, "withdrawn")
    with pytest.raises(Refusal, match="nothing to accept"):
        await peering.accept(b.live, a.host, B_TERMS)
    await reaches(a, b, "withdrawn")


async def test_bad_command_line_input_exits_non_zero_and_stores_nothing(pair: tuple[Node, Node],
                                                                        tmp_path: Path) -> None:
    a, b = pair
    env = cli_env(a, tmp_path)
    terms = ["--credit-limit", "500.00", "--iban", IBAN, "--holder", "Mecene A e.V."]
    refused = [
        (["propose", b.host, "--credit-limit", "5,00", "--iban", IBAN, "--holder", "A"], 1, 'rather than "5,00"'),
        (["propose", b.host, "--credit-limit", "-1", "--iban", IBAN, "--holder", "A"], 1, "cannot be negative"),
        (["propose", b.host, "--credit-limit", "1.234", "--iban", IBAN, "--holder", "A"], 1, "at most 2 decimals"),
        (["propose", b.host, "--currency", "XYZ", *terms], 1, "not a known ISO 4217 currency"),
        (["propose", b.host, "--credit-limit", "5", "--iban", "DE89370400440532013001", "--holder", "A"], 1,
         "not a valid IBAN"),
        (["propose", b.host, "--credit-limit", "5", "--iban", IBAN], 1, "IBAN with its account holder"),
        (["propose", b.host, "--credit-limit", "5", "--instructions", "x", "--holder", "A"], 1, "not both"),
        (["propose", b.host, "--credit-limit", "5", "--iban", IBAN, "--instructions", "x"], 2, "not allowed with"),
        (["propose", b.host, "--iban", IBAN, "--holder", "A"], 2, "--credit-limit"),
        (["propose", "not a host", *terms], 1, "is not a host"),
        (["propose", a.host, *terms], 1, "That is this instance"),
        (["propose", "127.0.0.1:9", *terms], 1, "Could not ask 127.0.0.1:9"),
        (["accept", b.host, "--credit-limit", "5", "--instructions", "x"], 1, "nothing to accept"),
        (["decline", b.host], 1, "nothing to decline"),
        (["end", b.host], 1, "nothing to end"),
    ]
    for args, code, message in refused:
        done = await peers(env, *args)
        assert done.returncode == code and message in done.stderr, (args, done.stderr)
    assert await agreements_of(a) == [] and await sent(a) == 0

    assert (await peers(env, "propose", b.host, *terms)).returncode == 0
    twice = await peers(env, "propose", b.host, "--credit-limit", "9", "--instructions", "again")
    assert twice.returncode == 1 and f"An agreement with {b.host} in EUR is not finished yet" in twice.stderr
    assert len(await agreements_of(a)) == 1 and await sent(a) == 1


async def test_a_host_whose_nodeinfo_names_no_mecene_is_refused(federation: Federation) -> None:
    a = await federation.start("a")
    async with await PlainPeer.start(software="mastodon") as mastodon:
        with pytest.raises(Refusal, match="does not run Mecene"):
            await peering.propose(a.live, mastodon.host, A_TERMS)
    assert await agreements_of(a) == [] and await sent(a) == 0


async def test_the_page_refuses_bad_input_a_form_without_its_token_and_anyone_but_an_operator(
        pair: tuple[Node, Node]) -> None:
    a, b = pair
    olga = await operator(a)
    try:
        bad = await olga.submit("/admin/peers", "/admin/peers", {
            "host": b.host, "currency": "EUR", "credit_limit": "500.00", "iban": "DE00 1234", "holder": "A"})
        assert bad.status == 400 and 'role="alert"' in bad.html and "is not a valid IBAN" in bad.html
        assert 'value="DE00 1234"' in bad.html, "what was typed is shown again"
        forged = await olga.post("/admin/peers", {"csrf": "forged", "host": b.host, "currency": "EUR",
                                                  "credit_limit": "5", "instructions": "x"})
        assert forged.status == 403
        nothing = await olga.submit("/admin/peers", "/admin/peers/end", {"host": b.host, "currency": "EUR"})
        assert nothing.status == 404 and "nothing to end" in nothing.html
    finally:
        await olga.close()
    pat = await operator(a, "pat", admin=False)
    try:
        assert (await pat.get("/admin/peers")).status == 403
        posted = await pat.submit("/settings", "/admin/peers", {"host": b.host, "currency": "EUR",
                                                               "credit_limit": "5", "instructions": "x"})
        assert posted.status == 403 and "Only the operators" in posted.html
    finally:
        await pat.close()
    assert await agreements_of(a) == [] and await sent(a) == 0


async def test_redelivered_and_repeated_activities_change_nothing(pair: tuple[Node, Node]) -> None:
    a, b = pair
    await in_force(a, b)
    before = [await agreements_of(a), await agreements_of(b)]
    sent_before = [await sent(a), await sent(b)]
    for node in (a, b):
        async with node.live.sessions() as session, session.begin():
            await session.execute(update(Delivery).values(state="queued", attempts=0,
                                                          next_attempt_at=node.live.clock()))
        node.live.delivery.wakeup.set()
    await eventually(lambda: nothing_queued(a, b), what="every activity delivered again")
    offer, answer = await published(a, "Offer"), await published(b, "Accept")
    await resend(a, b, {**offer, "id": new_activity_id(a.live.urls)})
    await resend(b, a, {**answer, "id": new_activity_id(b.live.urls)})
    await eventually(lambda: nothing_queued(a, b), what="the copies with new ids delivered")
    await eventually(lambda: all_processed(a, b), what="every copy handled")

    assert [recorded(row) for row in await agreements_of(a)] == [recorded(row) for row in before[0]]
    assert [recorded(row) for row in await agreements_of(b)] == [recorded(row) for row in before[1]]
    assert [await sent(a), await sent(b)] == [sent_before[0] + 1, sent_before[1] + 1], "no Reject of the copy"

    await peering.end(a.live, b.host, "EUR")
    ended = await reaches(b, a, "ended")
    await resend(a, b, {**await published(a, "Leave"), "id": new_activity_id(a.live.urls)})
    await resend(b, a, {**answer, "id": new_activity_id(b.live.urls)})
    await eventually(lambda: nothing_queued(a, b), what="the late copies delivered")
    await eventually(lambda: all_processed(a, b), what="the late copies handled")
    assert recorded(await reaches(b, a, "ended")) == recorded(ended)
    assert (await reaches(a, b, "ended")).end_activity_id == ended.end_activity_id


def recorded(row: Agreement) -> tuple[object, ...]:
    return (row.state, row.offer_activity_id, row.answer_activity_id, row.end_activity_id, row.credit_limit,
            row.peer_credit_limit)


async def published(node: Node, kind: str) -> dict[str, Any]:
    async with node.live.sessions() as session:
        for activity in await session.scalars(select(OutboxItem.activity)):
            if activity["type"] == kind:
                return activity
    raise AssertionError(f"{node.name} published no {kind}")


async def resend(sender: Node, receiver: Node, activity: dict[str, Any]) -> None:
    """`activity` signed again by the sender's instance actor, to the receiver's."""
    async with sender.live.sessions() as session, session.begin():
        await publish(session, sender=INSTANCE_ACTOR, activity=activity,
                      inboxes=[receiver.live.urls.inbox(INSTANCE_ACTOR)], now=sender.live.clock())
    sender.live.delivery.wakeup.set()


async def nothing_queued(*nodes: Node) -> bool:
    for node in nodes:
        async with node.live.sessions() as session:
            if await session.scalar(select(func.count()).select_from(Delivery).where(Delivery.state == "queued")):
                return False
    return True


async def all_processed(*nodes: Node) -> bool:
    for node in nodes:
        async with node.live.sessions() as session:
            if await session.scalar(select(func.count()).select_from(InboxItem).where(InboxItem.state != "done")):
                return False
    return True


async def test_only_the_peers_own_instance_actor_may_propose_answer_or_end(federation: Federation) -> None:
    a, b, c = await federation.start("a"), await federation.start("b"), await federation.start("c")
    async with b.live.sessions() as session, session.begin():
        await create_user(session, "bob", bot_username="flattr", now=b.live.clock())
    proposed = await peering.propose(a.live, b.host, A_TERMS)
    await reaches(b, a, "offered")
    to_a = a.live.urls.actor(INSTANCE_ACTOR)
    answer = agreement_vocab.accept("", "", to_a, proposed.offer_activity_id, peering.wire_terms(
        proposed.uri, agreement_terms.terms("EUR", "300.00", instructions="cash")), a.live.clock())
    async with await PlainPeer.start(software="mastodon") as third:
        third.add_account("mallory")
        forged = [await forge(b, "bob", a, answer), await forge(c, INSTANCE_ACTOR, a, answer),
                  await forge_from(third, a, answer),
                  await forge(b, "bob", a, offer_from(b.base_url, to_a)),
                  await forge_from(third, a, offer_from(third.base_url, to_a))]
        await eventually(lambda: handled(a, forged), what="the forged answers and offers handled")
        assert [row.state for row in await agreements_of(a)] == ["proposed"]
        assert await sent(a) == 1, "nothing answered to a forgery"

        await peering.accept(b.live, a.host, B_TERMS)
        agreed = await reaches(a, b, "in_force")
        leave = agreement_vocab.leave("", "", to_a, agreed.uri, a.live.clock())
        forged = [await forge(b, "bob", a, leave), await forge(c, INSTANCE_ACTOR, a, leave),
                  await forge_from(third, a, leave)]
        await eventually(lambda: handled(a, forged), what="the forged Leaves handled")
        assert third.activities("Reject") == []
    assert [row.state for row in await agreements_of(a)] == ["in_force"]
    assert await agreements_of(c) == []


def offer_from(base_url: str, recipient: str) -> dict[str, Any]:
    """An Offer in USD of an agreement minted on `base_url`, its id and actor to be set by whoever forges it."""
    terms = agreement_vocab.Terms(f"{base_url}/agreements/forged", "USD", "10.00",
                                  agreement_vocab.PaymentDetails(instructions="cash"))
    return agreement_vocab.offer("", "", recipient, terms, datetime.now(UTC))


async def forge(sender: Node, name: str, receiver: Node, activity: dict[str, Any]) -> str:
    """`activity` as `name` on `sender` would send it, signed with that actor's own key: a new id, its actor."""
    forged = {**activity, "id": new_activity_id(sender.live.urls), "actor": sender.live.urls.actor(name)}
    async with sender.live.sessions() as session, session.begin():
        await publish(session, sender=name, activity=forged, inboxes=[receiver.live.urls.inbox(INSTANCE_ACTOR)],
                      now=sender.live.clock())
    sender.live.delivery.wakeup.set()
    return forged["id"]


async def forge_from(peer: PlainPeer, receiver: Node, activity: dict[str, Any]) -> str:
    """The same from a server that is no Mecene instance, signed by its account mallory."""
    forged = {**activity, "id": f"{peer.base_url}/activities/{new_activity_id(receiver.live.urls)[-22:]}",
              "actor": peer.actor_uri("mallory")}
    assert await peer.deliver("mallory", receiver.live.urls.inbox(INSTANCE_ACTOR), forged) == 202
    return forged["id"]


async def handled(node: Node, activity_ids: list[str]) -> bool:
    async with node.live.sessions() as session:
        states = list(await session.scalars(select(InboxItem.state).where(InboxItem.activity_id.in_(activity_ids))))
    return states == ["done"] * len(activity_ids)


def crafted(sender: Node, receiver: Node, **changes: Any) -> dict[str, Any]:
    """An Offer from the sender's instance actor, its Agreement changed as given (None removes a field)."""
    terms = agreement_vocab.Terms(f"{sender.base_url}/agreements/{new_activity_id(sender.live.urls)[-22:]}", "EUR",
                                  "500.00", agreement_vocab.PaymentDetails(IBAN, "Mecene A e.V."))
    agreement = {**terms.as_object(), **changes}
    document = agreement_vocab.offer(new_activity_id(sender.live.urls), sender.live.urls.actor(INSTANCE_ACTOR),
                                     receiver.live.urls.actor(INSTANCE_ACTOR), terms, sender.live.clock())
    return {**document, "object": {key: value for key, value in agreement.items() if value is not None}}


async def answer_to(node: Node, offer_id: str) -> dict[str, Any]:
    """What `node` answered to the Offer `offer_id`, once it has queued it."""
    found: list[dict[str, Any]] = []

    async def answered() -> bool:
        async with node.live.sessions() as session:
            found[:] = [activity for activity in await session.scalars(select(OutboxItem.activity))
                        if activity["type"] in ("Accept", "Reject") and activity["object"]["id"] == offer_id]
        return bool(found)

    await eventually(answered, what=f"{node.name}'s answer to {offer_id}")
    return found[0]


@pytest.mark.parametrize(("changes", "reason"), [
    ({"currency": "EURO"}, "invalid_currency"),
    ({"currency": "XYZ"}, "invalid_currency"),
    ({"currency": None}, "invalid_currency"),
    ({"creditLimit": 500}, "invalid_credit_limit"),
    ({"creditLimit": "5,00"}, "invalid_credit_limit"),
    ({"creditLimit": "0.001"}, "invalid_credit_limit"),
    ({"creditLimit": "-1"}, "invalid_credit_limit"),
    ({"creditLimit": "1" * 40}, "invalid_credit_limit"),
    ({"paymentDetails": {"iban": "DE89370400440532013001", "accountHolder": "A"}}, "invalid_iban"),
    ({"paymentDetails": {"iban": "DE89 3704 0044 0532 0130 00", "accountHolder": "A"}}, "invalid_payment_details"),
    ({"paymentDetails": {"iban": IBAN}}, "invalid_payment_details"),
    ({"paymentDetails": {"iban": IBAN, "accountHolder": "A" * 71}}, "invalid_payment_details"),
    ({"paymentDetails": {"iban": IBAN, "accountHolder": "A\\nB".replace("\\n", "\n")}}, "invalid_payment_details"),
    ({"paymentDetails": {"iban": IBAN, "accountHolder": "A", "instructions": "cash"}}, "invalid_payment_details"),
    ({"paymentDetails": {"instructions": "x" * 1001}}, "invalid_payment_details"),
    ({"paymentDetails": {"instructions": ["cash"]}}, "invalid_payment_details"),
    ({"paymentDetails": "IBAN DE89"}, "invalid_payment_details"),
    ({"id": "https://elsewhere.example/agreements/1"}, "invalid_agreement"),
    ({"id": "urn:agreement:1"}, "invalid_agreement"),
])
async def test_an_offer_that_cannot_be_read_is_rejected_with_its_reason_and_stores_nothing(
        pair: tuple[Node, Node], changes: dict[str, Any], reason: str) -> None:
    a, b = pair
    offer = crafted(a, b, **changes)
    await resend(a, b, offer)
    answer = await answer_to(b, offer["id"])
    assert (answer["type"], answer["reason"], answer["actor"]) == ("Reject", reason,
                                                                   b.live.urls.actor(INSTANCE_ACTOR))
    assert await agreements_of(b) == []


async def test_an_offer_while_one_is_unfinished_is_rejected_even_when_the_offers_cross(
        pair: tuple[Node, Node]) -> None:
    a, b = pair
    first = crafted(a, b)
    await resend(a, b, first)
    await reaches(b, a, "offered")
    second = crafted(a, b, creditLimit="1.00")
    await resend(a, b, second)
    assert (await answer_to(b, second["id"]))["reason"] == "agreement_exists"
    await peering.decline(b.live, a.host, "EUR")
    await peering.propose(b.live, a.host, B_TERMS)
    crossing = crafted(a, b, creditLimit="2.00")
    await resend(a, b, crossing)
    assert (await answer_to(b, crossing["id"]))["reason"] == "agreement_exists"
    assert [(row.offer_activity_id == first["id"], row.state) for row in await agreements_of(b)] == [
        (True, "declined"), (False, "proposed")]


async def test_an_accept_given_up_while_the_proposer_was_down_comes_back_when_the_offer_is_sent_again(
        federation: Federation) -> None:
    quick = {"MECENE_SETTLEMENT_PAYOUT_RESEND_MINUTES": "0.02", "MECENE_DELIVERY_MAX_ATTEMPTS": "2"}
    a, b = await federation.start("a", **quick), await federation.start("b", **quick)
    await peering.propose(a.live, b.host, Typed("EUR", "100.00", instructions="Pay a by hand"))
    await eventually(lambda: _state_of(b, "offered"), what="B offered by A")
    await federation.stop("a")
    await peering.accept(b.live, a.host, Typed("EUR", "200.00", instructions="Pay b by hand"))

    async def accept_given_up() -> bool:
        async with b.live.sessions() as session:
            return bool(await session.scalar(select(func.count(Delivery.id)).where(Delivery.state == "dead")))

    await eventually(accept_given_up, what="B giving its Accept up, A being down")
    a = await federation.start("a")
    await eventually(lambda: _state_of(a, "in_force"), what="A sending its Offer again and hearing B's Accept again")
    [ours], [theirs] = await agreements_of(a), await agreements_of(b)
    assert (ours.credit_limit, ours.peer_credit_limit) == (theirs.peer_credit_limit, theirs.credit_limit) == (
        10000, 20000)
    assert ours.answer_activity_id == theirs.answer_activity_id


async def _state_of(node: Node, state: str) -> bool:
    return [row.state for row in await agreements_of(node)] == [state]
