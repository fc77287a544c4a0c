"""Agreements in the table: one unfinished per (peer, currency), every move made once and only from its state."""

import asyncio
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from settlement import agreements
from settlement.agreement_terms import Terms, terms
from settlement.models import Agreement

NOW = datetime(2026, 11, 2, 10, tzinfo=UTC)
OURS = terms("EUR", "500.00", iban="DE89370400440532013000", account_holder="Mecene A e.V.")
THEIRS = terms("EUR", "300.00", instructions="PayPal")


async def propose(session: AsyncSession, number: int, host: str = "b.example", ours: Terms = OURS) -> bool:
    return await agreements.propose(session, uri=f"https://a.example/agreements/{number}", host=host, ours=ours,
                                    offer_id=f"https://a.example/activities/{number}", now=NOW)


async def test_one_unfinished_agreement_per_peer_and_currency(session: AsyncSession) -> None:
    assert await propose(session, 1)
    assert not await propose(session, 2)
    assert not await agreements.receive_offer(session, uri="https://b.example/agreements/9", host="b.example",
                                              theirs=THEIRS, offer_id="https://b.example/activities/9", now=NOW)
    assert await propose(session, 3, ours=terms("USD", "10", instructions="cash"))
    assert await propose(session, 4, host="c.example")
    first = await agreements.open_agreement(session, "b.example", "EUR")
    assert first is not None
    assert await agreements.end(session, first, "https://a.example/activities/end", NOW) is not None
    assert await propose(session, 5)
    await session.commit()
    assert [(row.peer_host, row.currency, row.state) for row in await agreements.listed(session)] == [
        ("b.example", "EUR", "proposed"), ("b.example", "EUR", "withdrawn"), ("b.example", "USD", "proposed"),
        ("c.example", "EUR", "proposed")]


async def test_two_proposals_at_once_make_one(sessions: async_sessionmaker[AsyncSession]) -> None:
    async with sessions() as first, sessions() as second:
        assert await propose(first, 1)
        racing = asyncio.create_task(propose(second, 2))
        await asyncio.sleep(0.2)
        await first.commit()
        assert not await racing
        await second.commit()
    async with sessions() as session:
        assert [row.uri for row in await agreements.listed(session)] == ["https://a.example/agreements/1"]


async def test_an_answer_moves_only_our_offer_to_that_host_while_it_waits(session: AsyncSession) -> None:
    await propose(session, 1)
    offer, uri = "https://a.example/activities/1", "https://a.example/agreements/1"

    async def accepted(host: str = "b.example", offer_id: str = offer, agreement: str = uri,
                       theirs: Terms = THEIRS) -> Agreement | None:
        return await agreements.accepted(session, host=host, offer_id=offer_id, uri=agreement, theirs=theirs,
                                         answer_id="https://b.example/activities/yes", now=NOW)

    assert await accepted(host="c.example") is None
    assert await accepted(offer_id="https://a.example/activities/2") is None
    assert await accepted(agreement="https://a.example/agreements/2") is None
    assert await accepted(theirs=terms("USD", "1", instructions="x")) is None
    done = await accepted()
    assert done is not None and (done.state, done.peer_credit_limit, done.peer_instructions) == (
        "in_force", 30000, "PayPal")
    assert await accepted() is None
    assert await agreements.declined(session, host="b.example", offer_id=offer, reason="declined",
                                     answer_id="https://b.example/activities/no", now=NOW) is None
    assert await agreements.left(session, host="c.example", uri=uri, end_id="https://c.example/x", now=NOW) is None
    ended = await agreements.left(session, host="b.example", uri=uri, end_id="https://b.example/x", now=NOW)
    assert ended is not None and (ended.state, ended.ended_by_us) == ("ended", False)
    assert await agreements.left(session, host="b.example", uri=uri, end_id="https://b.example/y", now=NOW) is None


async def test_a_leave_that_overtook_its_accept_ends_our_proposal(session: AsyncSession) -> None:
    await propose(session, 1)
    uri = "https://a.example/agreements/1"
    ended = await agreements.left(session, host="b.example", uri=uri, end_id="https://b.example/leave", now=NOW)
    assert ended is not None and ended.state == "ended"
    assert await agreements.accepted(session, host="b.example", offer_id="https://a.example/activities/1", uri=uri,
                                     theirs=THEIRS, answer_id="https://b.example/yes", now=NOW) is None


async def test_an_offer_we_answered_cannot_be_answered_again(session: AsyncSession) -> None:
    assert await agreements.receive_offer(session, uri="https://b.example/agreements/1", host="b.example",
                                          theirs=THEIRS, offer_id="https://b.example/activities/1", now=NOW)
    offered = await agreements.open_agreement(session, "b.example", "EUR")
    assert offered is not None and (offered.state, offered.credit_limit) == ("offered", None)
    assert agreements.our_payment(offered) is None and agreements.peer_payment(offered) is not None
    done = await agreements.accept(session, offered, OURS, "https://a.example/activities/yes", NOW)
    assert done is not None and (done.state, done.credit_limit, done.iban) == (
        "in_force", 50000, "DE89370400440532013000")
    assert await agreements.decline(session, done, "https://a.example/activities/no", NOW) is None
    assert await agreements.accept(session, done, OURS, "https://a.example/activities/again", NOW) is None
