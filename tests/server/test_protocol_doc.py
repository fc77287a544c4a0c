"""docs/protocol.md is the contract: its examples are what the code builds, and a server accepts them."""

import json
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from agreement_helper import agree
from api_client import account
from federation import agreement_vocab, clearing_vocab, flattr_vocab, payout_vocab, statement_vocab
from federation.outbox import publish
from federation_harness import Federation, Node, eventually
from plain_peer import PlainPeer
from server.accounts import INSTANCE_ACTOR
from server.models import ReceivedFlattr
from server.settling.agreement_inbox import settled_terms
from server.settling.sending import claim_payout_id
from settlement.models import Agreement, Clearing
from settlement.money import Money, format_amount, parse_amount

DOC = Path(__file__).resolve().parents[2] / "docs" / "protocol.md"
POST = "https://author.example/users/bob/statuses/113525045423398741"


def examples() -> dict[str, Any]:
    blocks = re.findall(r"^```json (\w+)\n(.*?)^```", DOC.read_text(), flags=re.M | re.S)
    return {label: json.loads(text) for label, text in blocks}


def test_the_documented_context_is_the_one_sent() -> None:
    assert examples()["context"] == flattr_vocab.CONTEXT


def test_the_builders_produce_exactly_the_documented_activities() -> None:
    doc = examples()
    flattr = flattr_vocab.flattr(doc["flattr"]["id"], "https://donor.example/users/alice", POST,
                                 "https://author.example/users/bob", "2026-11", datetime(2026, 11, 24, 12, tzinfo=UTC))
    assert flattr == doc["flattr"]
    like = flattr_vocab.like(doc["like"]["id"], "https://donor.example/users/alice", POST,
                             "https://author.example/users/bob")
    assert like == doc["like"]
    assert flattr_vocab.undo(doc["undo"]["id"], "https://donor.example/users/alice", flattr) == doc["undo"]


@pytest.fixture
async def peer() -> AsyncIterator[PlainPeer]:
    async with await PlainPeer.start() as started:
        yield started


async def test_a_server_accepts_the_documented_flattr_and_undo(federation: Federation, peer: PlainPeer) -> None:
    node = await federation.start("b")
    bob = await account(node, "bob")
    thing = (await bob.call("POST", "/api/v1/things", {"text": "Flattr me"})).body["object_id"]
    peer.add_account("alice")

    def localised(example: dict[str, Any]) -> dict[str, Any]:
        text = json.dumps(example).replace(POST, thing).replace("https://author.example", node.base_url)
        return json.loads(text.replace("https://donor.example", peer.base_url))

    flattr, undo = localised(examples()["flattr"]), localised(examples()["undo"])
    assert await peer.deliver("alice", f"{node.base_url}/users/bob/inbox", flattr) == 202
    await eventually(lambda: _recorded(node, [flattr["id"]]), what="the documented Flattr recorded")
    assert await peer.deliver("alice", f"{node.base_url}/users/bob/inbox", undo) == 202
    await eventually(lambda: _recorded(node, []), what="the documented Undo applied")


async def _recorded(node: Node, expected: list[str]) -> bool:
    async with node.live.sessions() as session:
        return list(await session.scalars(select(ReceivedFlattr.activity_id))) == expected


def test_the_documented_payout_and_answer_are_what_the_code_reads_and_builds() -> None:
    doc = examples()
    built = payout_vocab.payout(
        doc["payout"]["id"], "https://source.example/users/instance", "https://destination.example/users/instance",
        period="2026-10", currency="EUR", total="4.13", items=payout_vocab.read_payout(doc["payout"]).items,
        published=datetime(2026, 11, 1, 0, 5, tzinfo=UTC))
    assert built == doc["payout"]
    total = sum(parse_amount(item["amount"], "EUR").amount for item in built["items"])
    assert format_amount(Money(total, "EUR")) == built["total"]
    answer = payout_vocab.answer(doc["accept"]["id"], "Accept", "https://destination.example/users/instance",
                                 "https://source.example/users/instance", built["id"], doc["accept"]["refused"])
    assert answer == doc["accept"]
    refused = [(line["creator"], line["object"]) for line in doc["accept"]["refused"]]
    assert refused and payout_vocab.read_answer(answer) == payout_vocab.ReceivedAnswer(built["id"], refused)


def test_the_documented_claim_payout_is_what_the_code_reads_and_builds() -> None:
    example = examples()["claim_payout"]
    built = payout_vocab.payout(
        example["id"], "https://source.example/users/instance", "https://destination.example/users/instance",
        period="2026-10", currency="EUR", total="5.00", items=payout_vocab.read_payout(example).items,
        published=datetime(2026, 11, 3, 9, 12, tzinfo=UTC))
    assert built == example
    assert example["id"] == claim_payout_id("https://source.example", 17)
    assert all(item["creator"].startswith("https://destination.example/") for item in example["items"])


def test_the_documented_agreement_activities_are_what_the_code_reads_and_builds() -> None:
    doc = examples()
    assert doc["agreement_context"] == agreement_vocab.CONTEXT
    a, b = "https://a.example/users/instance", "https://b.example/users/instance"
    offer, accept, reject, leave = (doc[f"agreement_{kind}"] for kind in ("offer", "accept", "reject", "leave"))
    proposed = agreement_vocab.read_offer(offer)
    assert agreement_vocab.offer(offer["id"], a, b, proposed, datetime(2026, 11, 2, 10, tzinfo=UTC)) == offer
    accepted = agreement_vocab.read_answer(accept)
    assert accepted.offer_id == offer["id"] and accepted.terms is not None
    assert accepted.terms.agreement_id == proposed.agreement_id
    assert agreement_vocab.accept(accept["id"], b, a, offer["id"], accepted.terms,
                                  datetime(2026, 11, 2, 14, 30, tzinfo=UTC)) == accept
    assert agreement_vocab.read_answer(reject) == agreement_vocab.ReceivedAnswer(offer["id"], None, "declined")
    assert agreement_vocab.reject(reject["id"], b, a, offer["id"], "declined",
                                  datetime(2026, 11, 2, 14, 30, tzinfo=UTC)) == reject
    assert agreement_vocab.read_leave(leave) == proposed.agreement_id
    assert agreement_vocab.leave(leave["id"], b, a, proposed.agreement_id, datetime(2027, 3, 1, 9, tzinfo=UTC)) == leave
    ours, theirs = settled_terms(proposed), settled_terms(accepted.terms)
    assert (ours.credit_limit.amount, ours.payment.iban, theirs.credit_limit.amount) == (
        50000, "DE89370400440532013000", 30000)


async def test_a_server_takes_the_documented_offer(federation: Federation) -> None:
    a, b = await federation.start("a"), await federation.start("b")
    text = json.dumps(examples()["agreement_offer"]).replace("https://a.example", a.base_url)
    offer = json.loads(text.replace("https://b.example", b.base_url))
    async with a.live.sessions() as session, session.begin():
        await publish(session, sender=INSTANCE_ACTOR, activity=offer, inboxes=[f"{b.base_url}/users/instance/inbox"],
                      now=a.live.clock())
    a.live.delivery.wakeup.set()

    async def offered() -> bool:
        async with b.live.sessions() as session:
            found = await session.scalar(select(Agreement))
        return found is not None and (found.state, found.peer_credit_limit, found.peer_iban) == (
            "offered", 50000, "DE89370400440532013000")

    await eventually(offered, what="the documented Offer kept, waiting for the operator")


def test_the_documented_clearing_and_its_answer_are_what_the_code_reads_and_builds() -> None:
    doc = examples()
    assert doc["clearing_context"] == clearing_vocab.CONTEXT
    a, b = "https://a.example/users/instance", "https://b.example/users/instance"
    notice, accept = doc["clearing"], doc["clearing_accept"]
    read = clearing_vocab.read_notice(notice)
    assert (read.currency, read.amount, read.netted, read.reference) == ("EUR", "120.00", "30.00", "MECENE a.example 3")
    assert clearing_vocab.notice(a, b, read, datetime(2026, 12, 1, 10, tzinfo=UTC)) == notice
    assert clearing_vocab.read_answer(accept) == clearing_vocab.Answer(notice["id"], True, None)
    assert clearing_vocab.answer(accept["id"], b, a, notice["id"], None,
                                 datetime(2026, 12, 3, 8, 15, tzinfo=UTC)) == accept


async def test_a_server_keeps_the_documented_clearing_for_its_operator(federation: Federation) -> None:
    a, b = await federation.start("a"), await federation.start("b")
    await agree(a, b)
    text = json.dumps(examples()["clearing"]).replace("https://a.example", a.base_url)
    notice = json.loads(text.replace("https://b.example", b.base_url))
    async with a.live.sessions() as session, session.begin():
        await publish(session, sender=INSTANCE_ACTOR, activity=notice, inboxes=[f"{b.base_url}/users/instance/inbox"],
                      now=a.live.clock())
    a.live.delivery.wakeup.set()

    async def notified() -> bool:
        async with b.live.sessions() as session:
            found = await session.scalar(select(Clearing))
        return found is not None and (found.state, found.amount, found.netted, found.reference) == (
            "notified", 12000, 3000, "MECENE a.example 3")

    await eventually(notified, what="the documented Clearing kept, waiting for the operator")


def test_the_documented_statement_is_what_the_code_reads_and_builds() -> None:
    example = examples()["statement"]
    assert example["@context"] == statement_vocab.CONTEXT
    read = statement_vocab.read_statement(example)
    assert (read.period, read.owed_to, read.owed_by, len(read.payouts), len(read.clearings)) == (
        "2026-11", "30.00", "12.40", 2, 1)
    assert statement_vocab.statement("https://a.example/users/instance", "https://b.example/users/instance",
                                     read) == example
