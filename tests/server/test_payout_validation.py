"""Payouts a hostile or broken Mecene peer may send: every field checked before any money moves, and answered.

The sender is a real Mecene instance whose instance actor signs crafted
Payouts; the receiver must credit only what it can read, refuse the rest
line by line, reject a Payout it cannot read at all, and always answer.
"""

import json
from typing import Any

import pytest
from sqlalchemy import select

from agreement_helper import agree
from federation.models import Delivery
from federation.outbox import new_activity_id, publish
from federation.payout_vocab import CONTEXT, MAX_FLATTRS
from federation_harness import Federation, Node, eventually
from server.accounts import INSTANCE_ACTOR, create_user
from settlement import ledger
from settlement.ledger import AccountKey


async def add_user(node: Node, name: str) -> None:
    async with node.live.sessions() as session, session.begin():
        await create_user(session, name, bot_username="flattr", now=node.live.clock())


def payout(sender: Node, receiver: Node, items: list[Any], **fields: Any) -> dict[str, Any]:
    return {"@context": CONTEXT, "id": new_activity_id(sender.live.urls), "type": "Payout",
            "actor": sender.live.urls.actor(INSTANCE_ACTOR), "to": [receiver.live.urls.actor(INSTANCE_ACTOR)],
            "period": "2026-10", "currency": "EUR", "total": "1.00", "items": items,
            "published": "2026-11-01T00:05:00Z"} | fields


def line(receiver: Node, thing: str, amount: str = "0.50", **fields: Any) -> dict[str, Any]:
    return {"creator": f"{receiver.base_url}/users/bob", "object": f"{receiver.base_url}/things/{thing}",
            "amount": amount, "flattrs": 1} | fields


async def send(sender: Node, receiver: Node, document: dict[str, Any]) -> None:
    async with sender.live.sessions() as session, session.begin():
        await publish(session, sender=INSTANCE_ACTOR, activity=document, inboxes=[f"{receiver.base_url}/inbox"],
                      now=sender.live.clock())
    sender.live.delivery.wakeup.set()


async def answer_to(receiver: Node, payout_id: str, timeout: float = 10.0) -> dict[str, Any]:
    """The receiver's answer, once it has queued it."""
    found: dict[str, Any] = {}

    async def answered() -> bool:
        async with receiver.live.sessions() as session:
            for body in await session.scalars(select(Delivery.body)):
                document = json.loads(body)
                if isinstance(document.get("object"), dict) and document["object"].get("id") == payout_id:
                    found.update(document)
                    return True
        return False

    await eventually(answered, timeout=timeout, what=f"an answer to {payout_id}")
    return found


async def bob_earned(receiver: Node) -> int:
    """Paid by Payout, bob's money is pending until the sender clears it."""
    async with receiver.live.sessions() as session:
        assert await ledger.check(session) == []
        return await ledger.balance(session, AccountKey("pending", "bob", "EUR"))


@pytest.fixture
async def pair(federation: Federation) -> tuple[Node, Node]:
    sender, receiver = await federation.start("sender"), await federation.start("receiver")
    await add_user(receiver, "bob")
    await agree(sender, receiver)
    return sender, receiver


@pytest.mark.parametrize("fields, reason", [
    ({"period": "any text at all"}, "invalid_period"),
    ({"period": "2026-10\n"}, "invalid_period"),
    ({"period": "2026-10-01-01"}, "invalid_period"),
    ({"period": 202610}, "invalid_period"),
    ({"items": "everything"}, "invalid_items"),
    ({"items": []}, "invalid_items"),
])
async def test_a_payout_that_cannot_be_read_is_rejected_whole_and_credits_nothing(
        pair: tuple[Node, Node], fields: dict[str, Any], reason: str) -> None:
    sender, receiver = pair
    document = payout(sender, receiver, [line(receiver, "1")]) | fields
    await send(sender, receiver, document)
    answer = await answer_to(receiver, document["id"])
    assert (answer["type"], answer["reason"], answer["refused"]) == ("Reject", reason, [])
    assert await bob_earned(receiver) == 0


@pytest.mark.parametrize("bad", [
    {"flattrs": 10**30}, {"flattrs": MAX_FLATTRS + 1}, {"flattrs": 0}, {"flattrs": True}, {"flattrs": "3"},
    {"object": "https://receiver.example/" + "x" * 3000}, {"object": "javascript:alert(1)"}, {"creator": None},
    {"amount": 50}, {"amount": "1e3"},
])
async def test_a_bad_line_is_refused_alone_and_the_good_one_credited(pair: tuple[Node, Node],
                                                                     bad: dict[str, Any]) -> None:
    sender, receiver = pair
    document = payout(sender, receiver, [line(receiver, "1", **bad), line(receiver, "2")])
    await send(sender, receiver, document)
    answer = await answer_to(receiver, document["id"])
    assert answer["type"] == "Accept"
    assert [item["reason"] for item in answer["refused"]] == ["invalid_line"]
    assert all(len(item["object"]) <= 2048 for item in answer["refused"])
    assert await bob_earned(receiver) == 50
