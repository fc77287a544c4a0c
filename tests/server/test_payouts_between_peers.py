"""Payouts only between peers: real instances on loopback, with and without an agreement in force.

A donor on A flattrs a creator on B. Without an agreement the close parks the
share on `awaiting_peer:{B}` and B hears of no money; once the operators
agree, the tick sends it as an awaited payout and B credits it; if they never
agree within the claim window it goes back to the donors, exactly. A server
that claims Mecene but has no agreement with B is rejected `no_agreement`.
"""

import asyncio
import json
from typing import Any
from urllib.parse import quote

from sqlalchemy import func, select

from agreement_helper import agree
from api_client import Api, account
from federation import delivery_queue
from federation.delivery_queue import DELIVERED
from federation.models import Delivery
from federation.outbox import new_activity_id, publish
from federation.payout_vocab import CONTEXT, NO_AGREEMENT
from federation_harness import Federation, Node, eventually
from server import peering
from server.accounts import INSTANCE_ACTOR
from settlement import agreements, awaited_payouts, ledger, statements
from settlement.allocation import allocate, share_seed
from settlement.awaited_payouts import AWAITED
from settlement.destinations import AWAITING
from settlement.escrow import RETURNED
from settlement.ledger import AccountKey
from settlement.models import Account, Agreement, AwaitedPayout, Entry, Payout, PeriodClose, ReceivedPayout, Share
from settlement.sent_payouts import SETTLED


async def balances(node: Node) -> dict[str, int]:
    """Every account's balance, as `kind:owner`."""
    async with node.live.sessions() as session:
        rows = await session.execute(select(Account.kind, Account.owner, func.sum(Entry.amount))
                                     .join(Entry, Entry.account_id == Account.id).group_by(Account.kind, Account.owner))
        return {f"{kind}:{owner}": int(total) for kind, owner, total in rows if total}


async def rows(node: Node, model: Any) -> list[Any]:
    async with node.live.sessions() as session:
        return list(await session.scalars(select(model)))


async def funded_donor(node: Node, name: str, wallet: str, budget: str) -> Api:
    operator = await account(node, f"op{name}", admin=True)
    donor = await account(node, name)
    assert (await operator.call("POST", f"/api/v1/admin/users/{name}/topups", {"amount": wallet})).status == 201
    assert (await donor.call("PUT", "/api/v1/me/budget", {"amount": budget})).status == 200
    return donor


async def thing_of(creator: Api, text: str) -> str:
    return str((await creator.call("POST", "/api/v1/things", {"text": text})).body["object_id"])


async def flattr(donor: Api, url: str) -> str:
    answer = await donor.call("POST", "/api/v1/flattrs", {"url": url})
    assert answer.status == 201, answer.body
    return str((await donor.call("GET", "/api/v1/me")).body["period"]["label"])


async def closed(node: Node, label: str) -> bool:
    async with node.live.sessions() as session:
        return await session.scalar(select(PeriodClose.state).where(PeriodClose.period == label)) == "closed"


async def close_on(node: Node, label: str, *others: Node, days: int = 40) -> None:
    """Every clock moves on together: signatures carry their date, and a peer refuses one from another time."""
    for each in (node, *others):
        each.clock.advance(days=days)
    await eventually(lambda: closed(node, label), what=f"{node.name} closes {label}")


async def books_hold(node: Node) -> None:
    """Every transaction balances, and what waits for an agreement is what its shares say."""
    async with node.live.sessions() as session:
        assert await ledger.check(session) == []
        assert await awaited_payouts.mismatches(session) == []


def conserved(found: dict[str, int]) -> bool:
    """funded + owed by instances + cleared in = everything held + owed to instances + cleared out + paid out."""
    def total(kind: str) -> int:
        return sum(amount for key, amount in found.items() if key.startswith(f"{kind}:"))

    held = sum(total(kind) for kind in ("wallet", "creator", "payable", "pending", "fee", "escrow", "awaiting_peer",
                                        "in_flight"))
    return (-total("payin") - total("due_from") - total("cleared_in")
            == held + total("due_to") + total("cleared_out") + total("payout"))


async def test_a_share_waits_for_an_agreement_and_is_paid_once_one_is_in_force(federation: Federation) -> None:
    a, b = await federation.start("a"), await federation.start("b")
    alice = await funded_donor(a, "alice", "10.00", "5.00")
    bob = await thing_of(await account(b, "bob"), "A note by bob")
    label = await flattr(alice, bob)
    await close_on(a, label, b)

    parked = await balances(a)
    assert parked[f"awaiting_peer:{b.host}"] == 500 and parked["wallet:alice"] == 500
    assert f"in_flight:{b.host}" not in parked and conserved(parked)
    assert await rows(a, Payout) == [] and await rows(a, AwaitedPayout) == []
    assert {share.destination for share in await rows(a, Share)} == {AWAITING}
    assert await rows(b, ReceivedPayout) == [] and await balances(b) == {}
    await books_hold(a)

    await agree(a, b)

    async def paid() -> bool:
        sent = await rows(a, AwaitedPayout)
        return len(sent) == 1 and sent[0].state == SETTLED

    await eventually(paid, what="the awaited payout sent and answered")
    [awaited] = await rows(a, AwaitedPayout)
    assert awaited.payout_id == f"{a.base_url}/payouts/awaited/{label}/{quote(b.host, safe='')}"
    assert awaited.total == 500
    on_a, on_b = await balances(a), await balances(b)
    assert on_a == {"payin:manual": -1000, "wallet:alice": 500, f"due_to:{b.host}": 500}
    assert on_b == {"pending:bob": 500, f"due_from:{a.host}": -500}
    assert {share.destination for share in await rows(a, Share)} == {AWAITED}
    for node in (a, b):
        await books_hold(node)
        async with node.live.sessions() as session:
            assert (await statements.conservation(session, "EUR")).holds
    async with a.live.sessions() as session:
        ours = await statements.statement(session, "EUR")
    async with b.live.sessions() as session:
        theirs = await statements.statement(session, "EUR")
    assert [(p.host, p.owed_to, p.in_flight) for p in ours.positions] == [(b.host, 500, 0)]
    assert [(p.host, p.owed_by) for p in theirs.positions] == [(a.host, 500)]
    assert [(line.period, line.sent, line.accepted, line.received) for line in ours.positions[0].periods] == [
        (label, 500, 500, None)]


async def test_shares_still_waiting_after_the_claim_window_go_back_to_their_donors_exactly(
        federation: Federation) -> None:
    a, b = await federation.start("a"), await federation.start("b")
    donors = {"alice": await funded_donor(a, "alice", "10.00", "5.00"),
              "ann": await funded_donor(a, "ann", "3.00", "2.99")}
    things = [await thing_of(await account(a, "ada"), "A note by ada"),
              await thing_of(await account(b, "bob"), "A note by bob"),
              await thing_of(await account(b, "bea"), "A note by bea")]
    for donor in donors.values():
        for thing in things:
            label = await flattr(donor, thing)
    await close_on(a, label, b)
    waiting = {name: sum(amount for thing, amount in allocate(
        budget=budget, wallet=wallet, things=things, fee_basis_points=0, seed=share_seed(label, name)).shares.items()
        if thing != things[0]) for name, budget, wallet in (("alice", 500, 1000), ("ann", 299, 300))}
    parked = await balances(a)
    assert parked[f"awaiting_peer:{b.host}"] == sum(waiting.values())
    assert parked["creator:ada"] == 500 + 299 - sum(waiting.values())

    await close_on(a, label, b, days=200)

    async def returned() -> bool:
        return f"awaiting_peer:{b.host}" not in await balances(a)

    await eventually(returned, what="the waiting shares returned after the claim window")
    after = await balances(a)
    assert after["wallet:alice"] == 1000 - 500 + waiting["alice"]
    assert after["wallet:ann"] == 300 - 299 + waiting["ann"]
    assert {share.destination for share in await rows(a, Share) if share.host == b.host} == {RETURNED}
    assert conserved(after)
    await books_hold(a)

    await agree(a, b)
    await asyncio.sleep(1)
    assert await rows(a, AwaitedPayout) == [] and await rows(b, ReceivedPayout) == []


async def test_an_agreement_that_ended_sends_no_new_payouts(federation: Federation) -> None:
    a, b = await federation.start("a"), await federation.start("b")
    await agree(a, b)
    await peering.end(a.live, b.host, "EUR")

    async def ended_on_b() -> bool:
        states = [row.state for row in await rows(b, Agreement)]
        return states == [agreements.ENDED]

    await eventually(ended_on_b, what="b sees the agreement ended")
    alice = await funded_donor(a, "alice", "10.00", "5.00")
    label = await flattr(alice, await thing_of(await account(b, "bob"), "A note by bob"))
    await close_on(a, label, b)
    assert await rows(a, Payout) == []
    assert (await balances(a))[f"awaiting_peer:{b.host}"] == 500
    assert await rows(b, ReceivedPayout) == []


async def test_a_payout_from_a_mecene_server_without_an_agreement_is_rejected_and_credits_nothing(
        federation: Federation) -> None:
    b, stranger = await federation.start("b"), await federation.start("stranger")
    await account(b, "bob")
    document = crafted_payout(stranger, b)
    await send(stranger, b, document)

    answer = await answer_to(b, document["id"])
    assert (answer["type"], answer["reason"], answer["refused"]) == ("Reject", NO_AGREEMENT, [])
    assert await rows(b, ReceivedPayout) == []
    assert await earned_from(b, stranger) == (0, 0)


async def test_a_payout_credited_under_an_agreement_since_ended_is_answered_again_as_the_first_time(
        federation: Federation) -> None:
    b, peer = await federation.start("b"), await federation.start("peer")
    await account(b, "bob")
    await agree(peer, b)
    document = crafted_payout(peer, b)
    await send(peer, b, document)
    first = await answer_to(b, document["id"])
    assert (first["type"], first["refused"]) == ("Accept", [])
    assert await earned_from(b, peer) == (500, 500)

    await peering.end(b.live, peer.host, "EUR")
    await eventually(lambda: delivered(peer, document["id"]), what="the first copy delivered")
    async with peer.live.sessions() as session, session.begin():
        assert await delivery_queue.send_again(session, document["id"], peer.live.clock()) == 1
    peer.live.delivery.wakeup.set()

    async def answered_twice() -> bool:
        return len(await answers(b, document["id"])) == 2

    await eventually(answered_twice, what="the copy answered")
    assert [(body["type"], body["refused"]) for body in await answers(b, document["id"])] == [("Accept", [])] * 2
    assert await earned_from(b, peer) == (500, 500)
    assert len(await rows(b, ReceivedPayout)) == 1


def crafted_payout(sender: Node, receiver: Node) -> dict[str, Any]:
    """5.00 EUR for bob on `receiver`, signed by `sender`'s instance actor, whatever `sender` owes."""
    return {"@context": CONTEXT, "id": new_activity_id(sender.live.urls), "type": "Payout",
            "actor": sender.live.urls.actor(INSTANCE_ACTOR), "to": [receiver.live.urls.actor(INSTANCE_ACTOR)],
            "period": "2026-10", "currency": "EUR", "total": "5.00",
            "items": [{"creator": f"{receiver.base_url}/users/bob", "object": f"{receiver.base_url}/things/x",
                       "amount": "5.00", "flattrs": 1}], "published": "2026-11-01T00:05:00Z"}


async def send(sender: Node, receiver: Node, document: dict[str, Any]) -> None:
    async with sender.live.sessions() as session, session.begin():
        await publish(session, sender=INSTANCE_ACTOR, activity=document, inboxes=[f"{receiver.base_url}/inbox"],
                      now=sender.live.clock())
    sender.live.delivery.wakeup.set()


async def delivered(sender: Node, activity_id: str) -> bool:
    async with sender.live.sessions() as session:
        return await session.scalar(select(Delivery.state).where(Delivery.activity_id == activity_id)) == DELIVERED


async def earned_from(receiver: Node, sender: Node) -> tuple[int, int]:
    """bob's pending balance on `receiver` (paid by Payout), and what `receiver` books `sender` as owing it."""
    await books_hold(receiver)
    async with receiver.live.sessions() as session:
        return (await ledger.balance(session, AccountKey("pending", "bob", "EUR")),
                -await ledger.balance(session, AccountKey("due_from", sender.host, "EUR")))


async def answers(receiver: Node, payout_id: str) -> list[dict[str, Any]]:
    """Every answer the receiver queued to `payout_id`, oldest first."""
    async with receiver.live.sessions() as session:
        bodies = [json.loads(body) for body in await session.scalars(select(Delivery.body).order_by(Delivery.id))]
    return [body for body in bodies if isinstance(body.get("object"), dict) and body["object"].get("id") == payout_id]


async def answer_to(receiver: Node, payout_id: str) -> dict[str, Any]:
    """The receiver's first answer to `payout_id`, once queued."""
    found: list[dict[str, Any]] = []

    async def answered() -> bool:
        found[:] = await answers(receiver, payout_id)
        return bool(found)

    await eventually(answered, what=f"an answer to {payout_id}")
    return found[0]
