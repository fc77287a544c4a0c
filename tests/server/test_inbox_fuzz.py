"""A property-based fuzz of the inbox: signed activities of any shape never get a 5xx, and a refusal stores nothing.

The bodies are signed with the sender's real key, so they get past the
signature to the parsing, the origin rule and the handlers; the property
must hold for every shape Hypothesis tries, on SQLite and PostgreSQL. It is
bounded in examples, so it stays in the default suite.
"""

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from federation.models import InboxItem
from federation_harness import Federation, Node
from test_inbox_security import add_user, cavage_headers, post, private_key, stored

TYPES = ["Like", "Follow", "Undo", "Flattr", "Payout", "Create", "Announce", "Delete", "Accept", "Reject"]
SCALARS = (st.none() | st.booleans() | st.integers(min_value=-(2**70), max_value=2**70)
           | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=40))
JSON = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=4)
                    | st.dictionaries(st.sampled_from(["id", "type", "object", "items", "period", "amount",
                                                       "flattrs", "creator", "content", "to", "x"]), inner,
                                      max_size=5), max_leaves=12)


@pytest.fixture
async def pair(federation: Federation) -> tuple[Node, Node, Any]:
    receiver, sender = await federation.start("receiver"), await federation.start("sender")
    await add_user(receiver, "rita")
    await add_user(sender, "sam")
    return receiver, sender, await private_key(sender, "sam")


def activity(sender: Node, suffix: str, kind: str, extra: dict[str, Any]) -> dict[str, Any]:
    actor = f"{sender.base_url}/users/sam"
    return {**extra, "id": f"{actor}/fuzz/{suffix}", "type": kind, "actor": actor}


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(kind=st.sampled_from(TYPES) | st.text(max_size=10), extra=st.dictionaries(
    st.sampled_from(["object", "items", "period", "currency", "to", "cc", "content", "refused"]), JSON, max_size=4),
    suffix=st.text(max_size=20))
async def test_signed_activities_of_any_shape_get_no_5xx(pair: tuple[Node, Node, Any], kind: str,
                                                          extra: dict[str, Any], suffix: str) -> None:
    receiver, sender, key = pair
    url = f"{receiver.base_url}/inbox"
    document = activity(sender, suffix, kind, extra)
    body = json.dumps(document).encode()
    before = await stored(receiver)
    status, answer = await post(url, body, cavage_headers(key, f"{sender.base_url}/users/sam#main-key", url, body))
    assert status < 500, answer
    if status >= 400:
        assert await stored(receiver) == before and answer["error"]
    else:
        assert await kept(receiver, document["id"]) or answer == {"status": "ignored"}


async def kept(node: Node, activity_id: str) -> bool:
    async with node.live.sessions() as session:
        return await session.scalar(select(InboxItem.id).where(InboxItem.activity_id == activity_id)) is not None
