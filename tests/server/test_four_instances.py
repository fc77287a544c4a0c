"""Money between four real instances on loopback, across currencies, with a hostile server beside them.

A and C keep euros; B keeps Swiss francs and also accepts euros; D keeps
euros and has no agreement with anyone; H says in its NodeInfo that it runs
Mecene, and has no agreement either. A, B and C agree in euros (B lets A owe
it at most 3.00). Donors on A, B and C flattr creators elsewhere, and the
period closes: euros reach B's creator as euros, A's line past B's limit
waits on A, D's shares wait for an agreement, B's francs for A's creator are
held in escrow (A accepts no francs, so no agreement can pay them), and H's
Payouts credit nothing. A clears with B,
which frees the waiting line; D agrees with A and is paid what waited. After
every step each ledger balances, both sides of every pair agree, and every
cent is somewhere, per currency, across the federation.
"""

from typing import Any

from sqlalchemy import select
from test_payouts_between_peers import (
    answer_to,
    balances,
    books_hold,
    close_on,
    crafted_payout,
    flattr,
    funded_donor,
    rows,
    send,
    thing_of,
)

from agreement_helper import agree
from api_client import account
from federation_harness import Federation, Node, eventually
from server import clearing
from settlement import statements
from settlement.models import AwaitedPayout, Clearing, Payout, ReceivedPayout, StatementCheck
from settlement.money import Money, format_amount
from settlement.sent_payouts import SETTLED

SWISS = {"MECENE_INSTANCE_CURRENCY": "CHF", "MECENE_INSTANCE_ACCEPTED_CURRENCIES": "CHF,EUR"}


async def conserved(nodes: list[Node]) -> None:
    """Every ledger balances and, per currency, what came in is somewhere and every pair's books mirror each other."""
    for node in nodes:
        await books_hold(node)
    for currency in ("EUR", "CHF"):
        parts = []
        for node in nodes:
            async with node.live.sessions() as session:
                part = await statements.conservation(session, currency)
            assert part.holds, (node.name, part)
            parts.append(part)
        total = sum(parts[1:], parts[0])
        assert total.funded == total.held, (currency, total)
        assert total.cleared_in == total.cleared_out, (currency, total)
    for node in nodes:
        mine = await balances(node)
        for peer in nodes:
            theirs = await balances(peer)
            assert mine.get(f"due_to:{peer.host}", 0) == -theirs.get(f"due_from:{node.host}", 0), (node.name, peer.name)


async def settled(node: Node) -> bool:
    payouts = [*await rows(node, Payout), *await rows(node, AwaitedPayout)]
    return all(payout.state == SETTLED for payout in payouts)


async def clearing_state(node: Node) -> str | None:
    async with node.live.sessions() as session:
        return await session.scalar(select(Clearing.state).order_by(Clearing.id.desc()).limit(1))


def text(minor: int) -> str:
    return format_amount(Money(minor, "EUR"))


async def test_four_instances_pay_clear_and_conserve_every_cent_per_currency(federation: Federation) -> None:
    a, c, d, h = [await federation.start(name) for name in ("a", "c", "d", "h")]
    b = await federation.start("b", **SWISS)
    nodes = [a, b, c, d]
    await agree(a, b, b_limit="3.00")
    await agree(a, c)
    await agree(c, b)
    creators = {node.name: await account(node, f"maker{node.name}") for node in nodes}
    notes = {name: await thing_of(creator, f"A note by the maker on {name}") for name, creator in creators.items()}
    second_on_b = await thing_of(creators["b"], "Another note by the maker on b")
    alice = await funded_donor(a, "alice", "20.00", "8.00")
    for note in (notes["b"], second_on_b, notes["c"], notes["d"]):
        label = await flattr(alice, note)
    cleo = await funded_donor(c, "cleo", "10.00", "4.00")
    for name in ("a", "b"):
        await flattr(cleo, notes[name])
    bert = await funded_donor(b, "bert", "10.00", "2.00")
    await flattr(bert, notes["a"])
    await close_on(a, label, b, c, d, h)
    for node in (b, c):
        await close_on(node, label, days=0)
    await eventually(lambda: _all(settled, nodes), timeout=30, what="every payout answered")
    await conserved(nodes)

    on_a, on_b = await balances(a), await balances(b)
    held, waiting_for_d = on_a[f"awaiting_peer:{b.host}"], on_a[f"awaiting_peer:{d.host}"]
    assert (on_a[f"due_to:{b.host}"], held, waiting_for_d) == (200, 200, 200)
    assert on_b[f"escrow:{a.base_url}/users/makera"] == 200, "A accepts no francs: B holds them in escrow"
    async with b.live.sessions() as session:
        euros = await statements.conservation(session, "EUR")
        francs = await statements.conservation(session, "CHF")
    assert euros.pending == on_b["pending:makerb"] > 0 and euros.funded == 0
    assert francs.funded == 1000 and francs.pending == 0
    assert await rows(d, ReceivedPayout) == []

    forged = crafted_payout(h, b)
    await send(h, b, forged)
    answer = await answer_to(b, forged["id"])
    assert (answer["type"], answer["reason"]) == ("Reject", "no_agreement")
    assert await balances(b) == on_b

    [standing] = [one for one in await clearing.standings(a.live) if one.host == b.host]
    await clearing.record_paid(a.live, b.host, text(standing.to_pay), "EUR", standing.reference)
    await eventually(lambda: _is(clearing_state(b), "notified"), what="B told of A's transfer")
    await clearing.confirm(b.live, a.host, "EUR")
    await eventually(lambda: _is(clearing_state(a), "confirmed"), what="A hears B confirm")
    await eventually(lambda: _sent_again(a, b), timeout=30, what="the held line sent again and answered")
    on_a, on_b = await balances(a), await balances(b)
    assert on_a[f"due_to:{b.host}"] == 200 and on_a[f"cleared_out:{b.host}"] == standing.to_pay == 200
    assert on_b["creator:makerb"] >= standing.to_pay
    await conserved(nodes)

    await agree(d, a)
    await eventually(lambda: _sent_again(a, d), timeout=30, what="D paid what waited for it")
    assert (await balances(d))["pending:makerd"] == waiting_for_d
    await conserved(nodes)
    for node in nodes:
        assert {check.result for check in await rows(node, StatementCheck)} <= {"agree"}, node.name
    assert await balances(h) == {}


async def _sent_again(sender: Node, peer: Node) -> bool:
    """Nothing waits on `sender` for `peer` any more, and every payout is answered."""
    return f"awaiting_peer:{peer.host}" not in await balances(sender) and await settled(sender)


async def _all(check: Any, nodes: list[Node]) -> bool:
    return all([await check(node) for node in nodes])


async def _is(value: Any, expected: object) -> bool:
    return await value == expected
