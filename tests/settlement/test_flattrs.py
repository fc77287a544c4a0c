"""A donor's flattr records: one per thing and period, undone only by their donor."""

import asyncio
from datetime import UTC, datetime

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from settlement import flattrs, ledger

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
THING = "https://social.example/@carol/1"
AUTHOR = "https://social.example/users/carol"


async def flattr(session: AsyncSession, donor: str = "alice", thing: str = THING, period: str = "2026-11",
                 activity: str = "https://here.example/activities/1", **extra: str):  # type: ignore[no-untyped-def]
    return await flattrs.record(session, donor=donor, thing_uri=thing, author_uri=AUTHOR, period=period,
                                activity_id=activity, now=NOW, **extra)


async def test_record_and_read_back(session: AsyncSession) -> None:
    row, created = await flattr(session, like_activity_id="https://here.example/activities/like-1")
    await session.commit()
    assert created
    assert (row.donor, row.thing_uri, row.author_uri, row.period) == ("alice", THING, AUTHOR, "2026-11")
    assert row.like_activity_id == "https://here.example/activities/like-1"
    assert row.created_at == NOW
    assert await flattrs.get(session, row.id) is row
    assert await flattrs.get(session, row.id + 1) is None
    assert await ledger.check(session) == []


async def test_flattring_twice_returns_the_first(session: AsyncSession) -> None:
    first, _ = await flattr(session)
    again, created = await flattr(session, activity="https://here.example/activities/2")
    await session.commit()
    assert not created
    assert again.id == first.id and again.activity_id == "https://here.example/activities/1"
    assert await flattrs.count_for_period(session, "alice", "2026-11") == 1
    assert await ledger.check(session) == []


async def test_concurrent_flattrs_of_one_thing_make_one_row(sessions: async_sessionmaker[AsyncSession]) -> None:
    async def once(n: int) -> tuple[int, bool]:
        async with sessions() as session:
            row, created = await flattr(session, activity=f"https://here.example/activities/{n}")
            await session.commit()
            return row.id, created

    results = await asyncio.gather(once(1), once(2))
    assert sorted(created for _, created in results) == [False, True]
    assert results[0][0] == results[1][0]
    async with sessions() as session:
        assert await flattrs.count_for_period(session, "alice", "2026-11") == 1
        assert await ledger.check(session) == []


async def test_a_new_period_is_a_new_flattr(session: AsyncSession) -> None:
    november, _ = await flattr(session)
    december, created = await flattr(session, period="2026-12", activity="https://here.example/activities/2")
    assert created and december.id != november.id
    assert await ledger.check(session) == []


async def test_a_reused_activity_id_is_refused(session: AsyncSession) -> None:
    await flattr(session)
    with pytest.raises(ValueError):
        await flattr(session, thing="https://social.example/@carol/2")
    assert await flattrs.count_for_period(session, "alice", "2026-11") == 1
    assert await ledger.check(session) == []


async def test_for_period_lists_the_donors_flattrs_in_order(session: AsyncSession) -> None:
    things = [f"https://social.example/@carol/{n}" for n in range(3)]
    for n, thing in enumerate(things):
        await flattr(session, thing=thing, activity=f"https://here.example/activities/{n}")
    await flattr(session, donor="bob", activity="https://here.example/activities/bob")
    await flattr(session, period="2026-12", activity="https://here.example/activities/dec")
    await session.commit()
    assert [row.thing_uri for row in await flattrs.for_period(session, "alice", "2026-11")] == things
    assert await flattrs.count_for_period(session, "alice", "2026-11") == 3
    assert await flattrs.count_for_period(session, "bob", "2026-11") == 1
    assert await flattrs.for_period(session, "carol", "2026-11") == []
    assert await flattrs.count_for_period(session, "carol", "2026-11") == 0
    assert await ledger.check(session) == []


async def test_undo_by_the_donor(session: AsyncSession) -> None:
    row, _ = await flattr(session)
    await session.commit()
    undone = await flattrs.undo(session, donor="alice", flattr_id=row.id)
    await session.commit()
    assert undone is not None and undone.id == row.id and undone.thing_uri == THING
    assert await flattrs.get(session, row.id) is None
    assert await flattrs.undo(session, donor="alice", flattr_id=row.id) is None
    again, created = await flattr(session, activity="https://here.example/activities/2")
    assert created and again.id != row.id
    assert await ledger.check(session) == []


async def test_undo_by_another_donor_changes_nothing(session: AsyncSession) -> None:
    row, _ = await flattr(session)
    await session.commit()
    assert await flattrs.undo(session, donor="bob", flattr_id=row.id) is None
    assert await flattrs.undo(session, donor="alice", flattr_id=row.id + 1) is None
    await session.commit()
    assert await flattrs.count_for_period(session, "alice", "2026-11") == 1
    assert await ledger.check(session) == []


async def test_undo_racing_with_itself_returns_the_row_once(sessions: async_sessionmaker[AsyncSession]) -> None:
    async with sessions() as session:
        row, _ = await flattr(session)
        await session.commit()

    async def undo() -> bool:
        async with sessions() as session:
            undone = await flattrs.undo(session, donor="alice", flattr_id=row.id)
            await session.commit()
            return undone is not None

    assert sorted(await asyncio.gather(undo(), undo())) == [False, True]
    async with sessions() as session:
        assert await flattrs.count_for_period(session, "alice", "2026-11") == 0
        assert await ledger.check(session) == []
