"""Credit limits and clearing between real instances on loopback.

B lets A owe it at most 3.00 EUR. A donor on A flattrs two notes of bob's on
B; the close sends both lines, B credits the first (pending for bob) and
refuses the second (`credit_limit`), which A holds. A's operator pays what A
owes by bank and records it; B's operator confirms it arrived; both books
move, bob's pending money becomes available, and the held line leaves again
and is credited. Money is conserved on each instance and across both, and
the two sides agree at every step.
"""

import asyncio
import json
import subprocess
from collections.abc import Awaitable
from functools import partial
from pathlib import Path

from sqlalchemy import select
from test_agreements import cli_env
from test_payouts_between_peers import (
    answer_to,
    balances,
    books_hold,
    close_on,
    conserved,
    flattr,
    funded_donor,
    rows,
    send,
    thing_of,
)

from agreement_helper import agree
from api_client import account
from cli_process import mecene, run_here
from federation import clearing_vocab
from federation.delivery_queue import DEAD
from federation.models import Delivery
from federation_harness import Federation, Node, eventually
from server import clearing
from server.accounts import INSTANCE_ACTOR
from server.refusal import Refusal
from settlement import clearings, statements
from settlement.destinations import HELD
from settlement.models import AwaitedPayout, Clearing, Payout, ReceivedPayout, Share, StatementCheck
from settlement.money import Money, format_amount
from settlement.sent_payouts import SETTLED


async def clearing_state(node: Node, peer: Node) -> str | None:
    async with node.live.sessions() as session:
        return await session.scalar(select(Clearing.state).where(Clearing.peer_host == peer.host)
                                    .order_by(Clearing.id.desc()).limit(1))


async def in_federation(a: Node, b: Node) -> None:
    """Each side's books hold, the pair agrees on what each owes the other, and every cent is somewhere."""
    on_a, on_b = await balances(a), await balances(b)
    assert conserved(on_a) and conserved(on_b)
    for node in (a, b):
        await books_hold(node)
    assert on_a.get(f"due_to:{b.host}", 0) == -on_b.get(f"due_from:{a.host}", 0)
    assert on_a.get(f"cleared_out:{b.host}", 0) == -on_b.get(f"cleared_in:{a.host}", 0)
    async with a.live.sessions() as one, b.live.sessions() as other:
        total = await statements.conservation(one, "EUR") + await statements.conservation(other, "EUR")
    assert total.funded == total.held


def eur(minor: int) -> str:
    return format_amount(Money(minor, "EUR"))


async def test_a_line_past_the_credit_limit_waits_for_a_clearing_and_then_is_paid(federation: Federation) -> None:
    a, b = await federation.start("a"), await federation.start("b")
    await agree(a, b, b_limit="3.00")
    alice = await funded_donor(a, "alice", "10.00", "5.00")
    bob = await account(b, "bob")
    notes = [await thing_of(bob, "A first note by bob"), await thing_of(bob, "A second note by bob")]
    for note in notes:
        label = await flattr(alice, note)
    await close_on(a, label, b)

    await eventually(lambda: _all_settled(a), what="the period payout answered")
    [received] = await rows(b, ReceivedPayout)
    [refusal] = received.refused
    assert refusal["reason"] == "credit_limit"
    first = received.credited
    on_a, on_b = await balances(a), await balances(b)
    held = on_a[f"awaiting_peer:{b.host}"]
    assert 0 < first <= 300 < first + held and on_a[f"due_to:{b.host}"] == first
    assert on_b == {"pending:bob": first, f"due_from:{a.host}": -first}
    assert {share.destination for share in await rows(a, Share) if share.thing_uri == refusal["object"]} == {HELD}
    await in_federation(a, b)

    [standing] = await clearing.standings(a.live)
    assert (standing.host, standing.to_pay, standing.reference) == (b.host, first, f"MECENE {a.host} 1")
    await clearing.record_paid(a.live, b.host, eur(first), "EUR", standing.reference)
    await eventually(lambda: _is(clearing_state(b, a), clearings.NOTIFIED), what="B told of A's transfer")
    assert await balances(b) == on_b and await balances(a) == on_a
    await clearing.confirm(b.live, a.host, "EUR")
    await eventually(lambda: _is(clearing_state(a, b), "confirmed"), what="A told B received it")

    async def resent() -> bool:
        return [payout.state for payout in await rows(a, AwaitedPayout)] == [SETTLED]

    await eventually(resent, what="the held line sent again and answered")
    on_a, on_b = await balances(a), await balances(b)
    assert on_a[f"due_to:{b.host}"] == held and on_a[f"cleared_out:{b.host}"] == first
    assert f"awaiting_peer:{b.host}" not in on_a
    assert on_b == {"creator:bob": first, "pending:bob": held, f"due_from:{a.host}": -held,
                    f"cleared_in:{a.host}": -first}
    await in_federation(a, b)
    for node, peer in ((a, b), (b, a)):
        await eventually(partial(_checked, node, peer), what=f"{node.name} checks {peer.name}'s statement")
        assert {check.result for check in await rows(node, StatementCheck)} == {"agree"}


async def test_a_disputed_transfer_moves_nothing_and_a_stranger_cannot_notify(federation: Federation) -> None:
    a, b, stranger = await federation.start("a"), await federation.start("b"), await federation.start("stranger")
    await agree(a, b)
    alice = await funded_donor(a, "alice", "10.00", "5.00")
    label = await flattr(alice, await thing_of(await account(b, "bob"), "A note by bob"))
    await close_on(a, label, b, stranger)
    await eventually(lambda: _all_settled(a), what="the period payout answered")
    before_a, before_b = await balances(a), await balances(b)
    assert before_a[f"due_to:{b.host}"] == 500

    try:
        await clearing.record_paid(b.live, a.host, "1.00", "EUR", "MECENE b 1")
    except Refusal as refusal:
        assert refusal.code == clearings.MORE_THAN_OWED
    else:
        raise AssertionError("B owes A nothing, yet recorded paying it")

    notice = clearing_vocab.notice(stranger.live.urls.actor(INSTANCE_ACTOR), b.live.urls.actor(INSTANCE_ACTOR),
                                   clearing_vocab.Notice(f"{stranger.base_url}/clearings/x", "EUR", "5.00", "0.00",
                                                         "MECENE stranger 1"), stranger.live.clock())
    await send(stranger, b, notice)
    answer = await answer_to(b, notice["id"])
    assert (answer["type"], answer["reason"]) == ("Reject", clearings.NO_AGREEMENT)

    await clearing.record_paid(a.live, b.host, "1.00", "EUR", "MECENE a 1")
    await eventually(lambda: _is(clearing_state(b, a), clearings.NOTIFIED), what="B told of A's transfer")
    await clearing.dispute(b.live, a.host, "EUR")
    await eventually(lambda: _is(clearing_state(a, b), "disputed"), what="A told B disputes it")
    assert await balances(a) == before_a and await balances(b) == before_b
    await in_federation(a, b)


async def test_a_confirmation_lost_on_the_way_comes_back_when_the_notice_is_sent_again(
        federation: Federation) -> None:
    quick = {"MECENE_SETTLEMENT_PAYOUT_RESEND_MINUTES": "0.02", "MECENE_DELIVERY_MAX_ATTEMPTS": "2"}
    a, b = await federation.start("a", **quick), await federation.start("b", **quick)
    await agree(a, b)
    alice = await funded_donor(a, "alice", "10.00", "5.00")
    label = await flattr(alice, await thing_of(await account(b, "bob"), "A note by bob"))
    await close_on(a, label, b)
    await eventually(lambda: _all_settled(a), what="the period payout answered")
    owed = (await balances(a))[f"due_to:{b.host}"]
    await clearing.record_paid(a.live, b.host, eur(owed), "EUR", f"MECENE {a.host} 1")
    await eventually(lambda: _is(clearing_state(b, a), clearings.NOTIFIED), what="B told of A's transfer")

    await federation.stop("a")
    await clearing.confirm(b.live, a.host, "EUR")
    await eventually(lambda: _answer_given_up(b), what="B giving its Accept up, A being down")
    a = await federation.start("a")
    await eventually(lambda: _is(clearing_state(a, b), "confirmed"),
                     what="A sending its notice again and hearing B's answer again")
    assert (await balances(a))[f"cleared_out:{b.host}"] == owed
    assert (await balances(b))[f"cleared_in:{a.host}"] == -owed
    await in_federation(a, b)


async def _answer_given_up(node: Node) -> bool:
    async with node.live.sessions() as session:
        bodies = await session.scalars(select(Delivery.body).where(Delivery.state == DEAD))
    return any(json.loads(body)["type"] == "Accept" for body in bodies)


async def test_operators_clear_from_the_command_line(federation: Federation, tmp_path: Path) -> None:
    a, b = await federation.start("a"), await federation.start("b")
    await agree(a, b)
    alice = await funded_donor(a, "alice", "10.00", "5.00")
    label = await flattr(alice, await thing_of(await account(b, "bob"), "A note by bob"))
    await close_on(a, label, b)
    await eventually(lambda: _all_settled(a), what="the period payout answered")
    on_a, on_b = await balances(a), await balances(b)
    owed = on_a[f"due_to:{b.host}"]
    a_env, b_env = cli_env(a, tmp_path), cli_env(b, tmp_path)

    listed = await asyncio.to_thread(mecene, a_env, "clearing", "list")
    assert listed.returncode == 0, listed.stderr
    reference = f"MECENE {a.host} 1"
    assert f"pay {eur(owed)} EUR" in listed.stdout and f"Pay b by hand, reference {reference!r}" in listed.stdout
    for bad, why in (("12.345", "decimals"), ("0", "more than zero"), (eur(owed + 1), "We owe")):
        refused = await clearing_cli(a_env, "paid", b.host, bad, "--reference", reference)
        assert refused.returncode == 1 and why in refused.stderr, (bad, refused.stderr)
    assert await rows(a, Clearing) == []

    paid = await clearing_cli(a_env, "paid", b.host, eur(owed), "--reference", reference)
    assert paid.returncode == 0, paid.stderr
    await eventually(lambda: _is(clearing_state(b, a), clearings.NOTIFIED), what="B told of A's transfer")
    waiting = await clearing_cli(b_env, "list")
    assert f"they say they paid {eur(owed)} EUR (reference {reference!r})" in waiting.stdout
    confirmed = await clearing_cli(b_env, "confirm", a.host)
    assert confirmed.returncode == 0, confirmed.stderr
    await eventually(lambda: _is(clearing_state(a, b), "confirmed"), what="A told B received it")
    assert (await clearing_cli(b_env, "confirm", a.host)).returncode == 1
    on_a, on_b = await balances(a), await balances(b)
    assert on_a[f"cleared_out:{b.host}"] == owed and f"due_to:{b.host}" not in on_a
    assert on_b == {"creator:bob": owed, f"cleared_in:{a.host}": -owed}
    await in_federation(a, b)


async def clearing_cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """`mecene clearing …`, while this event loop keeps serving the instances it talks to."""
    return await run_here(env, "clearing", *args)


async def _is(value: Awaitable[object], expected: object) -> bool:
    return await value == expected


async def _checked(node: Node, peer: Node) -> bool:
    return any(check.peer_host == peer.host for check in await rows(node, StatementCheck))


async def _all_settled(node: Node) -> bool:
    return [payout.state for payout in await rows(node, Payout)] == [SETTLED]
