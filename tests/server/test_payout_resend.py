"""A Payout left unanswered is sent again, with the same id, until the destination answers; it is credited once.

Two real instances close a real period. The destination's handling of the
Payout fails until its item is given up (a fault injected, then taken away);
the sender, hearing nothing, sends it again once its clock has passed
`settlement.payout_resend_minutes`, and the copy is what gets it answered.
The clocks move past that wait only after the receiver has given up, so
the copy cannot overtake the first one's last attempt on a slow machine.
"""

from typing import Any

from sqlalchemy import func, select

from agreement_helper import agree
from api_client import account
from federation.models import INBOX_ATTEMPTS, InboxItem
from federation_harness import Federation, Node, eventually
from settlement import ledger
from settlement.models import Account, Entry, Payout, ReceivedPayout


async def balances(node: Node) -> dict[str, int]:
    async with node.live.sessions() as session:
        assert await ledger.check(session) == []
        rows = await session.execute(select(Account.kind, func.sum(Entry.amount))
                                     .join(Entry, Entry.account_id == Account.id).group_by(Account.kind))
        return {kind: int(total) for kind, total in rows}


async def payout_state(node: Node) -> str | None:
    async with node.live.sessions() as session:
        return await session.scalar(select(Payout.state))


async def test_an_unanswered_payout_is_sent_again_and_settles_once(federation: Federation) -> None:
    sender = await federation.start("sender", MECENE_SETTLEMENT_PAYOUT_RESEND_MINUTES="60")
    receiver = await federation.start("receiver")
    await agree(sender, receiver)
    operator, donor = await account(sender, "op", admin=True), await account(sender, "alice")
    creator = await account(receiver, "bob")
    assert (await operator.call("POST", "/api/v1/admin/users/alice/topups", {"amount": "10.00"})).status == 201
    assert (await donor.call("PUT", "/api/v1/me/budget", {"amount": "4.00"})).status == 200
    thing = (await creator.call("POST", "/api/v1/things", {"text": "A note by bob"})).body["object_id"]
    assert (await donor.call("POST", "/api/v1/flattrs", {"url": thing})).status == 201

    handlers = receiver.live.processor._handlers
    real = handlers["Payout"]
    calls = 0

    async def broken(*args: Any) -> None:
        nonlocal calls
        calls += 1
        raise ValueError("a bug in the Payout handler")

    handlers["Payout"] = broken
    for node in (sender, receiver):
        node.clock.advance(days=40)

    async def given_up() -> bool:
        async with receiver.live.sessions() as session:
            return await session.scalar(select(InboxItem.state).where(InboxItem.activity["type"].as_string()
                                                                       == "Payout")) == "failed"

    await eventually(given_up, timeout=30, what="the receiver giving the Payout up")
    assert calls == INBOX_ATTEMPTS and await payout_state(sender) == "sent"
    handlers["Payout"] = real
    for node in (sender, receiver):
        node.clock.advance(minutes=61)

    async def settled() -> bool:
        return await payout_state(sender) == "settled"

    await eventually(settled, timeout=30, what="the payout, sent again, answered and settled")
    here, there = await balances(sender), await balances(receiver)
    assert there["pending"] == 400 and there["due_from"] == -400
    assert here["due_to"] == 400 and here.get("in_flight", 0) == 0 and here["wallet"] == 600
    assert -here["payin"] == here["wallet"] + there["pending"] == 1000
    async with receiver.live.sessions() as session:
        assert await session.scalar(select(func.count(ReceivedPayout.id))) == 1
