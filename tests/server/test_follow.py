"""Three instances follow each other over loopback with real signatures."""

from functools import partial

from sqlalchemy import func, select

from federation.models import Follower, Following, InboxItem, RemoteActor
from federation.outbox import new_activity_id, publish
from federation.vocab import activity
from federation_harness import Federation, Node, eventually
from server.accounts import create_user
from server.social import follow_account, unfollow_actor


async def add_user(node: Node, name: str) -> None:
    async with node.live.sessions() as session, session.begin():
        await create_user(session, name, bot_username="flattr", now=node.live.clock())


async def count(node: Node, query) -> int:  # type: ignore[no-untyped-def]
    async with node.live.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(query.subquery())) or 0)


async def accepted(node: Node, username: str, target: str) -> bool:
    query = select(Following).where(Following.local_username == username, Following.target_uri == target,
                                    Following.accepted.is_(True))
    return await count(node, query) == 1


async def test_three_instances_follow_each_other(federation: Federation) -> None:
    nodes = [await federation.start(name) for name in ("a", "b", "c")]
    users = {"a": "alice", "b": "bob", "c": "carol"}
    for node in nodes:
        await add_user(node, users[node.name])
    for follower in nodes:
        for followed in nodes:
            if follower is not followed:
                await follow_account(follower.live, users[follower.name], f"{users[followed.name]}@{followed.host}")
    for follower in nodes:
        for followed in nodes:
            if follower is not followed:
                target = f"{followed.base_url}/users/{users[followed.name]}"
                await eventually(partial(accepted, follower, users[follower.name], target),
                                 what=f"{follower.name} accepted by {followed.name}")
    for node in nodes:
        assert await count(node, select(Follower).where(Follower.local_username == users[node.name])) == 2


async def test_repeated_follow_is_idempotent_and_undo_removes_it(federation: Federation) -> None:
    a, b = await federation.start("a"), await federation.start("b")
    await add_user(a, "alice")
    await add_user(b, "bob")
    bob = f"{b.base_url}/users/bob"
    first = await follow_account(a.live, "alice", f"bob@{b.host}")
    assert await follow_account(a.live, "alice", f"bob@{b.host}") == first
    await eventually(lambda: accepted(a, "alice", bob), what="accept")
    assert await count(b, select(Follower)) == 1
    assert await unfollow_actor(a.live, "alice", bob)
    await eventually(lambda: _no_followers(b), what="undo processed")
    assert await count(a, select(Following)) == 0


async def _no_followers(node: Node) -> bool:
    return await count(node, select(Follower)) == 0


async def test_actor_deleting_itself_is_forgotten(federation: Federation) -> None:
    a, b = await federation.start("a"), await federation.start("b")
    await add_user(a, "alice")
    await add_user(b, "bob")
    alice = f"{a.base_url}/users/alice"
    await follow_account(a.live, "alice", f"bob@{b.host}")
    await eventually(lambda: accepted(a, "alice", f"{b.base_url}/users/bob"), what="accept")
    async with a.live.sessions() as session, session.begin():
        deletion = activity(new_activity_id(a.live.urls), "Delete", alice, alice)
        await publish(session, sender="alice", activity=deletion, inboxes=[f"{b.base_url}/inbox"], now=a.live.clock())
    a.live.delivery.wakeup.set()
    await eventually(lambda: _no_followers(b), what="delete processed")
    assert await count(b, select(RemoteActor).where(RemoteActor.uri == alice)) == 0
    assert await count(b, select(InboxItem).where(InboxItem.state == "done")) == 2
