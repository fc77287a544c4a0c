"""The forgery matrix: every request the inbox must refuse, refused with a reason and nothing stored.

The sender is a real second instance whose user's key the receiver fetches
over loopback; forged variants are built by hand here, independently of the
signing code under test.
"""

import asyncio
import base64
import hashlib
import json
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import aiohttp
import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from sqlalchemy import Text, cast, func, select

from federation.httpsig import dump_private_key, dump_public_key, generate_private_key, load_private_key, sign_rfc9421
from federation.models import InboxItem, LocalActor
from federation_harness import Federation, Node, eventually
from server.accounts import create_user


async def add_user(node: Node, name: str) -> None:
    async with node.live.sessions() as session, session.begin():
        await create_user(session, name, bot_username="flattr", now=node.live.clock())


async def private_key(node: Node, name: str) -> Any:
    async with node.live.sessions() as session:
        pem = await session.scalar(select(LocalActor.private_key_pem).where(LocalActor.username == name))
    return load_private_key(pem)


def note_activity(sender: Node, name: str, suffix: str = "1", **extra: Any) -> dict[str, Any]:
    actor = f"{sender.base_url}/users/{name}"
    return {"@context": "https://www.w3.org/ns/activitystreams", "id": f"{actor}/activities/{suffix}",
            "type": "Like", "actor": actor, "object": f"{actor}/notes/1", **extra}


def cavage_headers(key: Any, key_id: str, url: str, body: bytes, *, signed: str = "(request-target) host date digest",
                   when: datetime | None = None, algorithm: str = "rsa-sha256", digest_body: bytes | None = None,
                   extra_params: str = "") -> dict[str, str]:
    """A draft-cavage signature made with `cryptography` alone, with every knob a forger has."""
    parts = aiohttp.client.URL(url)
    values = {
        "host": f"{parts.host}:{parts.port}",
        "date": format_datetime(when or datetime.now(UTC), usegmt=True),
        "digest": "SHA-256=" + base64.b64encode(hashlib.sha256(digest_body if digest_body is not None
                                                                 else body).digest()).decode(),
        "content-type": "application/activity+json",
    }
    lines = [f"(request-target): post {parts.raw_path}" if h == "(request-target)" else f"{h}: {values[h]}"
             for h in signed.split()]
    signature = base64.b64encode(key.sign("\n".join(lines).encode(), padding.PKCS1v15(), hashes.SHA256())).decode()
    header = f'keyId="{key_id}",algorithm="{algorithm}",headers="{signed}",signature="{signature}"{extra_params}'
    return {"Host": values["host"], "Date": values["date"], "Digest": values["digest"],
            "Content-Type": values["content-type"], "Signature": header}


async def post(url: str, body: bytes, headers: dict[str, str]) -> tuple[int, dict[str, Any]]:
    async with aiohttp.ClientSession() as http, http.post(url, data=body, headers=headers) as response:
        return response.status, await response.json(content_type=None)


async def stored(node: Node) -> int:
    async with node.live.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(InboxItem)) or 0)


@pytest.fixture
async def pair(federation: Federation) -> tuple[Node, Node, Any]:
    receiver, sender = await federation.start("receiver"), await federation.start("sender")
    await add_user(receiver, "rita")
    await add_user(sender, "sam")
    await add_user(sender, "sid")
    return receiver, sender, await private_key(sender, "sam")


async def test_a_well_signed_activity_is_stored_once(pair: tuple[Node, Node, Any]) -> None:
    receiver, sender, key = pair
    body = json.dumps(note_activity(sender, "sam")).encode()
    url = f"{receiver.base_url}/users/rita/inbox"
    for _ in range(2):
        status, _ = await post(url, body, cavage_headers(key, f"{sender.base_url}/users/sam#main-key", url, body))
        assert status == 202
    assert await stored(receiver) == 1


async def test_rfc9421_signature_is_accepted(pair: tuple[Node, Node, Any]) -> None:
    receiver, sender, key = pair
    body = json.dumps(note_activity(sender, "sam")).encode()
    url = f"{receiver.base_url}/inbox"
    headers = sign_rfc9421(method="POST", url=url, key_id=f"{sender.base_url}/users/sam#main-key",
                           private_key=key, now=datetime.now(UTC), body=body,
                           content_type="application/activity+json")
    status, answer = await post(url, body, headers)
    assert status == 202, answer
    assert await stored(receiver) == 1


FORGERIES: dict[str, tuple[int, str, dict[str, Any]]] = {
    "no_signature": (401, "no_signature", dict(strip="Signature")),
    "unknown_algorithm": (401, "unknown_algorithm", dict(algorithm="rsa-sha1")),
    "too_few_headers": (401, "weak_signature", dict(signed="(request-target) host date")),
    "date_too_old": (401, "stale_signature", dict(skew=-timedelta(minutes=66))),
    "date_in_future": (401, "stale_signature", dict(skew=timedelta(minutes=61))),
    "digest_mismatch": (401, "digest_mismatch", dict(digest_body=b'{"other": "body"}')),
    "actor_is_not_key_owner": (401, "actor_mismatch", dict(key_name="sam", actor_name="sid")),
    "duplicate_key_id": (400, "malformed_signature", dict(extra_params=',keyId="x"')),
}


@pytest.mark.parametrize("case", sorted(FORGERIES))
async def test_forgeries_are_refused_and_nothing_is_stored(pair: tuple[Node, Node, Any], case: str) -> None:
    receiver, sender, key = pair
    expected_status, expected_code, knobs = FORGERIES[case]
    knobs = dict(knobs)
    if "skew" in knobs:
        knobs["when"] = datetime.now(UTC) + knobs.pop("skew")
    strip = knobs.pop("strip", None)
    actor_name = knobs.pop("actor_name", "sam")
    key_id = f"{sender.base_url}/users/{knobs.pop('key_name', 'sam')}#main-key"
    body = json.dumps(note_activity(sender, actor_name)).encode()
    url = f"{receiver.base_url}/users/rita/inbox"
    headers = cavage_headers(key, key_id, url, body, **knobs)
    headers.pop(strip or "", None)
    status, answer = await post(url, body, headers)
    assert (status, answer["error"]) == (expected_status, expected_code), answer
    assert answer["reason"]
    assert await stored(receiver) == 0


async def test_bad_signature_fails_after_one_refetch(pair: tuple[Node, Node, Any]) -> None:
    receiver, sender, _ = pair
    wrong_key = generate_private_key()
    body = json.dumps(note_activity(sender, "sam")).encode()
    url = f"{receiver.base_url}/inbox"
    status, answer = await post(url, body, cavage_headers(wrong_key, f"{sender.base_url}/users/sam#main-key",
                                                          url, body))
    assert (status, answer["error"]) == (401, "invalid_signature")
    assert await stored(receiver) == 0


async def test_rotated_key_is_refetched_once(pair: tuple[Node, Node, Any]) -> None:
    receiver, sender, key = pair
    key_id = f"{sender.base_url}/users/sam#main-key"
    url = f"{receiver.base_url}/inbox"
    first = json.dumps(note_activity(sender, "sam", "1")).encode()
    assert (await post(url, first, cavage_headers(key, key_id, url, first)))[0] == 202
    rotated = generate_private_key()
    async with sender.live.sessions() as session, session.begin():
        actor = await session.scalar(select(LocalActor).where(LocalActor.username == "sam"))
        actor.private_key_pem, actor.public_key_pem = dump_private_key(rotated), dump_public_key(rotated.public_key())
    second = json.dumps(note_activity(sender, "sam", "2")).encode()
    status, answer = await post(url, second, cavage_headers(rotated, key_id, url, second))
    assert (status, answer["error"]) == (401, "invalid_signature"), "refetch is throttled right after a fetch"
    receiver.clock.advance(seconds=31)
    third = json.dumps(note_activity(sender, "sam", "3")).encode()
    status, answer = await post(url, third, cavage_headers(rotated, key_id, url, third))
    assert status == 202, answer
    assert await stored(receiver) == 2


@pytest.mark.parametrize(("body", "code"), [
    (b"{not json", "invalid_json"), (b"[1, 2]", "invalid_json"), (b'{"type": "Like"}', "invalid_activity"),
    (b'{"a": ' + b"[" * 5000 + b"]" * 5000 + b"}", "invalid_json"),
])
async def test_malformed_bodies_get_400_before_any_key_fetch(pair: tuple[Node, Node, Any], body: bytes,
                                                             code: str) -> None:
    receiver, sender, key = pair
    url = f"{receiver.base_url}/inbox"
    status, answer = await post(url, body, cavage_headers(key, f"{sender.base_url}/users/sam#main-key", url, body))
    assert (status, answer["error"]) == (400, code)
    assert await stored(receiver) == 0


async def test_nan_in_an_activity_gets_400_and_spoils_no_one_elses_commit(pair: tuple[Node, Node, Any]) -> None:
    """Python's json reads NaN; PostgreSQL's json type refuses it, which would fail every activity of its batch."""
    receiver, sender, key = pair
    url, key_id = f"{receiver.base_url}/inbox", f"{sender.base_url}/users/sam#main-key"
    bodies = [json.dumps(note_activity(sender, "sam", str(n))).encode() for n in range(20)]
    poisoned = json.dumps(note_activity(sender, "sam", "nan", rating=float("nan"))).encode()
    answers = await asyncio.gather(*(post(url, body, cavage_headers(key, key_id, url, body))
                                     for body in [poisoned, *bodies]))
    status, answer = answers[0]
    assert (status, answer["error"]) == (400, "invalid_json") and "NaN" in answer["reason"]
    assert [status for status, _ in answers[1:]] == [202] * 20
    assert await stored(receiver) == 20


@pytest.mark.parametrize("where, poison, reason", [
    ("suffix", "\ud800", "unpaired surrogate"),
    ("suffix", "nul\u0000", "NUL"),
    ("content", "\udfff after", "unpaired surrogate"),
    ("content", "before \u0000", "NUL"),
])
async def test_text_no_database_can_store_gets_400_and_spoils_no_one_elses_commit(
        pair: tuple[Node, Node, Any], where: str, poison: str, reason: str) -> None:
    """A lone surrogate or a NUL failed the group commit at the database: 503 for every activity of its batch."""
    receiver, sender, key = pair
    url, key_id = f"{receiver.base_url}/inbox", f"{sender.base_url}/users/sam#main-key"
    bodies = [json.dumps(note_activity(sender, "sam", str(n))).encode() for n in range(20)]
    activity = (note_activity(sender, "sam", poison) if where == "suffix"
                else note_activity(sender, "sam", "poisoned", content=poison))
    poisoned = json.dumps(activity).encode()
    answers = await asyncio.gather(*(post(url, body, cavage_headers(key, key_id, url, body))
                                     for body in [poisoned, *bodies]))
    status, answer = answers[0]
    assert (status, answer["error"]) == (400, "invalid_json") and reason in answer["reason"]
    assert [status for status, _ in answers[1:]] == [202] * 20
    assert await stored(receiver) == 20


async def test_an_id_longer_than_its_column_gets_400(pair: tuple[Node, Node, Any]) -> None:
    receiver, sender, key = pair
    url = f"{receiver.base_url}/inbox"
    body = json.dumps(note_activity(sender, "sam", "x" * 2100)).encode()
    status, answer = await post(url, body, cavage_headers(key, f"{sender.base_url}/users/sam#main-key", url, body))
    assert (status, answer["error"]) == (400, "too_long")
    assert await stored(receiver) == 0


async def test_oversized_body_gets_413(pair: tuple[Node, Node, Any]) -> None:
    receiver, sender, key = pair
    body = json.dumps(note_activity(sender, "sam", content="x" * 300_000)).encode()
    url = f"{receiver.base_url}/inbox"
    status, _ = await post(url, body, cavage_headers(key, f"{sender.base_url}/users/sam#main-key", url, body))
    assert status == 413
    assert await stored(receiver) == 0


async def test_embedded_object_from_another_host_is_reduced_to_its_id_and_type(pair: tuple[Node, Node, Any]) -> None:
    receiver, sender, key = pair
    forged = {"id": "https://victim.example/notes/1", "type": "Note", "content": "words put in a mouth"}
    body = json.dumps(note_activity(sender, "sam", object=forged, type="Create")).encode()
    url = f"{receiver.base_url}/inbox"
    assert (await post(url, body, cavage_headers(key, f"{sender.base_url}/users/sam#main-key", url, body)))[0] == 202
    async with receiver.live.sessions() as session:
        item = await session.scalar(select(InboxItem))
    assert item.activity["object"] == {"id": "https://victim.example/notes/1", "type": "Note"}


async def stored_text(node: Node) -> str:
    async with node.live.sessions() as session:
        return str(await session.scalar(select(cast(InboxItem.activity, Text))))


async def test_an_activity_is_stored_as_the_text_it_was_signed_as(pair: tuple[Node, Node, Any]) -> None:
    """Its layout, key order and unescaped letters kept: the document is not encoded again."""
    receiver, sender, key = pair
    activity = {"type": "Like", **note_activity(sender, "sam"), "summary": "déjà vu"}
    body = json.dumps(activity, indent=1, ensure_ascii=False).encode()
    url = f"{receiver.base_url}/inbox"
    assert (await post(url, body, cavage_headers(key, f"{sender.base_url}/users/sam#main-key", url, body)))[0] == 202
    assert await stored_text(receiver) == body.decode()


async def test_a_utf16_activity_is_stored_as_its_document(pair: tuple[Node, Node, Any]) -> None:
    """JSON in UTF-16 parses like any other body; no text column could keep those bytes, so it is encoded."""
    receiver, sender, key = pair
    activity = note_activity(sender, "sam", summary="déjà vu")
    body = json.dumps(activity).encode("utf-16-le")
    url = f"{receiver.base_url}/inbox"
    assert (await post(url, body, cavage_headers(key, f"{sender.base_url}/users/sam#main-key", url, body)))[0] == 202
    assert json.loads(await stored_text(receiver)) == activity


async def test_unknown_types_are_accepted_and_ignored(pair: tuple[Node, Node, Any]) -> None:
    receiver, sender, key = pair
    body = json.dumps(note_activity(sender, "sam", type="Dance")).encode()
    url = f"{receiver.base_url}/inbox"
    assert (await post(url, body, cavage_headers(key, f"{sender.base_url}/users/sam#main-key", url, body)))[0] == 202

    async def processed() -> bool:
        async with receiver.live.sessions() as session:
            return await session.scalar(select(InboxItem.state)) == "done"

    await eventually(processed, what="unknown activity processed")


async def test_unknown_actor_deleting_itself_gets_202_and_nothing_stored(pair: tuple[Node, Node, Any]) -> None:
    receiver, sender, key = pair
    actor = f"{sender.base_url}/users/gone"
    body = json.dumps({"id": f"{actor}#delete", "type": "Delete", "actor": actor, "object": actor}).encode()
    url = f"{receiver.base_url}/inbox"
    status, _ = await post(url, body, cavage_headers(key, f"{actor}#main-key", url, body))
    assert status == 202
    assert await stored(receiver) == 0


async def test_unreachable_key_host_gets_503_so_the_sender_retries(federation: Federation,
                                                                    pair: tuple[Node, Node, Any]) -> None:
    receiver, _, key = pair
    absent = await federation.reserve("absent")
    actor = f"{absent.base_url}/users/ann"
    body = json.dumps({"id": f"{actor}/activities/1", "type": "Like", "actor": actor, "object": actor}).encode()
    url = f"{receiver.base_url}/inbox"
    status, answer = await post(url, body, cavage_headers(key, f"{actor}#main-key", url, body))
    assert (status, answer["error"]) == (503, "key_unavailable")
    assert await stored(receiver) == 0
