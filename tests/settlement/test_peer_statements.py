"""Statements between two instances, each on its own real database: what agrees, what differs, what is skipped."""

from datetime import datetime, timedelta

from sqlalchemy import update
from test_statements import AFTER, BOB, CAROL, HERE, NOBODY, THERE, ZOE, Sessions, close, deliver, settle

from settlement import peer_statements
from settlement.models import ReceivedPayout
from settlement.peer_statements import Books, Difference

LATER = AFTER + timedelta(days=2)


async def books(sessions: Sessions, peer: str) -> Books:
    async with sessions() as session:
        return await peer_statements.books(session, peer, "EUR")


async def differences(sessions: Sessions, peer: str, theirs: Books, published: datetime = LATER) -> list[Difference]:
    async with sessions() as session:
        return await peer_statements.compare(session, peer, theirs, published)


async def paid_both_ways(sessions: Sessions, other: Sessions) -> None:
    await close(sessions, HERE, "alice", 900, [CAROL, NOBODY, ZOE])
    await close(other, THERE, "bea", 250, [BOB])
    await settle(sessions, THERE, await deliver(sessions, HERE, other, {CAROL: "carol"}))
    await settle(other, HERE, await deliver(other, THERE, sessions, {BOB: "bob"}))


async def test_two_honest_sides_agree_line_by_line(sessions: Sessions, other: Sessions) -> None:
    await paid_both_ways(sessions, other)
    here, there = await books(sessions, THERE), await books(other, HERE)
    assert (here.owed_to, here.owed_by, there.owed_to, there.owed_by) == (300, 250, 250, 300)
    assert list(here.sent.values()) == [300] and list(here.received.values()) == [250]
    assert await differences(sessions, THERE, there) == []
    assert await differences(other, HERE, here) == []


async def test_a_payout_credited_differently_is_shown_to_both_sides(sessions: Sessions, other: Sessions) -> None:
    await paid_both_ways(sessions, other)
    [payout_id] = (await books(sessions, THERE)).sent
    async with other() as session, session.begin():
        await session.execute(update(ReceivedPayout).where(ReceivedPayout.payout_id == payout_id).values(credited=299))
    there, here = await books(other, HERE), await books(sessions, THERE)
    assert await differences(sessions, THERE, there) == [Difference("payout", payout_id, 299, 300)]
    assert await differences(other, HERE, here) == [Difference("payout", payout_id, 300, 299)]


async def test_a_payout_settled_just_before_the_peer_wrote_is_skipped_not_called_a_difference(
        sessions: Sessions, other: Sessions) -> None:
    await close(sessions, HERE, "alice", 900, [CAROL, NOBODY, ZOE])
    written_before_crediting = await books(other, HERE)
    await settle(sessions, THERE, await deliver(sessions, HERE, other, {CAROL: "carol"}))
    assert await differences(sessions, THERE, written_before_crediting, published=AFTER) == []
    [payout_id] = (await books(sessions, THERE)).sent
    assert await differences(sessions, THERE, written_before_crediting, published=LATER) == [
        Difference("payout", payout_id, None, 300)]


async def test_totals_that_differ_with_no_line_to_explain_them_are_shown(sessions: Sessions, other: Sessions) -> None:
    await paid_both_ways(sessions, other)
    there = await books(other, HERE)
    lying = Books("EUR", there.owed_to + 1, there.owed_by, there.sent, there.received, there.cleared)
    assert await differences(sessions, THERE, lying) == [Difference("total", "", [251, 300], [250, 300])]
