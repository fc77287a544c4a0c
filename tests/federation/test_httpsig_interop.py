"""Interoperability with an independent RFC 9421 implementation (`http_message_signatures`), and
sign→verify round trips of our own signers over random requests."""

import string
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import http_message_signatures as hms
import pytest
from http_message_signatures import algorithms
from hypothesis import given, settings
from hypothesis import strategies as st
from multidict import CIMultiDict

from federation.httpsig import (
    RequestView,
    SignatureError,
    load_private_key,
    parse_signature,
    sign_cavage,
    sign_rfc9421,
    verify_claim,
)

FIXTURES = Path(__file__).parent.parent / "fixtures"
RSA_KEY = load_private_key((FIXTURES / "cavage" / "mastodon-spec-key.pem").read_text())
ED25519_KEY = load_private_key((FIXTURES / "rfc9421" / "keys" / "test-key-ed25519.key.pem").read_text())
KEY_ID = "https://remote.example/users/bob#main-key"
KEYS = {"rsa": (RSA_KEY, algorithms.RSA_V1_5_SHA256), "ed25519": (ED25519_KEY, algorithms.ED25519)}


@dataclass
class Message:
    """The request shape `http_message_signatures` reads: method, absolute URL, headers."""

    method: str
    url: str
    headers: dict[str, str]


def view_of(method: str, url: str, headers: dict[str, str], body: bytes) -> RequestView:
    parts = urlsplit(url)
    return RequestView(method, parts.scheme, parts.netloc, parts.path, parts.query, CIMultiDict(headers), body)


def their_signature(kind: str, method: str, url: str, body: bytes | None, *, include_alg: bool = True) -> Message:
    private, algorithm = KEYS[kind]
    message = Message(method, url, {"Host": urlsplit(url).netloc})
    resolver = hms.MappingKeyResolver(public_keys={}, private_keys={KEY_ID: private})
    hms.HTTPMessageSigner(signature_algorithm=algorithm, key_resolver=resolver).sign(
        message, key_id=KEY_ID, created=datetime.now(UTC), label="sig1", include_alg=include_alg,
        covered_component_ids=("@method", "@target-uri"), body=body)
    return message


def their_verdict(kind: str, message: Message, body: bytes | None) -> bool:
    private, algorithm = KEYS[kind]
    resolver = hms.MappingKeyResolver(public_keys={KEY_ID: private.public_key()}, private_keys={})
    verifier = hms.HTTPMessageVerifier(signature_algorithm=algorithm, key_resolver=resolver)
    required = ("@method", "@target-uri") + (("content-digest",) if body is not None else ())
    try:
        verifier.verify(message, body=body, require_components=required)
    except hms.InvalidSignature:
        return False
    return True


@pytest.mark.parametrize("kind", sorted(KEYS))
@pytest.mark.parametrize("include_alg", [True, False])
def test_their_post_verifies_with_us(kind: str, include_alg: bool) -> None:
    body = b'{"type": "Create"}'
    message = their_signature(kind, "POST", "https://example.com/users/alice/inbox", body, include_alg=include_alg)
    claim = parse_signature(view_of("POST", message.url, message.headers, body), now=datetime.now(UTC))
    assert verify_claim(claim, KEYS[kind][0].public_key())
    other = KEYS["ed25519" if kind == "rsa" else "rsa"][0]
    assert not verify_claim(claim, other.public_key())


@pytest.mark.parametrize("kind", sorted(KEYS))
def test_their_get_with_query_verifies_with_us_and_not_elsewhere(kind: str) -> None:
    message = their_signature(kind, "GET", "https://example.com:8443/users/alice/outbox?page=2", None)
    public = KEYS[kind][0].public_key()
    now = datetime.now(UTC)
    assert verify_claim(parse_signature(view_of("GET", message.url, message.headers, b""), now=now), public)
    moved = message.url.replace("page=2", "page=3")
    assert not verify_claim(parse_signature(view_of("GET", moved, message.headers, b""), now=now), public)


@pytest.mark.parametrize("kind", sorted(KEYS))
def test_their_post_with_another_body_is_refused_by_us(kind: str) -> None:
    message = their_signature(kind, "POST", "https://example.com/inbox", b"original")
    with pytest.raises(SignatureError) as caught:
        parse_signature(view_of("POST", message.url, message.headers, b"forged"), now=datetime.now(UTC))
    assert caught.value.code == "digest_mismatch"


@pytest.mark.parametrize("kind", sorted(KEYS))
@pytest.mark.parametrize(("method", "url", "body"), [
    ("POST", "https://example.com/users/alice/inbox", b'{"type": "Follow"}'),
    ("GET", "http://127.0.0.1:8123/users/alice?page=true", None),
])
def test_our_signature_verifies_with_them(kind: str, method: str, url: str, body: bytes | None) -> None:
    headers = sign_rfc9421(method=method, url=url, key_id=KEY_ID, private_key=KEYS[kind][0],
                           now=datetime.now(UTC), body=body)
    assert their_verdict(kind, Message(method, url, headers), body)
    assert not their_verdict(kind, Message(method, url + "x", headers), body)


def test_they_refuse_our_signature_over_another_body() -> None:
    headers = sign_rfc9421(method="POST", url="https://example.com/inbox", key_id=KEY_ID, private_key=RSA_KEY,
                           now=datetime.now(UTC), body=b"original")
    assert not their_verdict("rsa", Message("POST", "https://example.com/inbox", headers), b"forged")


SEGMENT = st.text(string.ascii_letters + string.digits + "-._~%", min_size=1, max_size=12)
QUERY = st.text(string.ascii_letters + string.digits + "=&-_", max_size=20)


@settings(max_examples=60, deadline=None)
@given(body=st.binary(max_size=4096), segments=st.lists(SEGMENT, min_size=1, max_size=4), query=QUERY,
       method=st.sampled_from(["POST", "PUT"]), scheme=st.sampled_from(["cavage", "rfc9421"]))
def test_our_signers_round_trip_through_our_verifier(body: bytes, segments: list[str], query: str, method: str,
                                                     scheme: str) -> None:
    url = "https://example.com:8443/" + "/".join(segments) + ("?" + query if query else "")
    now = datetime.now(UTC)
    signer = sign_cavage if scheme == "cavage" else sign_rfc9421
    headers = signer(method=method, url=url, key_id=KEY_ID, private_key=RSA_KEY, now=now, body=body)
    claim = parse_signature(view_of(method, url, headers, body), now=now)
    assert claim.scheme == scheme and claim.key_id == KEY_ID
    assert verify_claim(claim, RSA_KEY.public_key())
    with pytest.raises(SignatureError) as caught:
        parse_signature(view_of(method, url, headers, body + b"!"), now=now)
    assert caught.value.code == "digest_mismatch"


@settings(max_examples=30, deadline=None)
@given(segments=st.lists(SEGMENT, min_size=1, max_size=4), other=SEGMENT)
def test_our_get_signatures_do_not_transfer_to_another_path(segments: list[str], other: str) -> None:
    url = "https://example.com/" + "/".join(segments)
    now = datetime.now(UTC)
    headers = sign_cavage(method="GET", url=url, key_id=KEY_ID, private_key=RSA_KEY, now=now)
    public: Any = RSA_KEY.public_key()
    assert verify_claim(parse_signature(view_of("GET", url, headers, b""), now=now), public)
    moved = url + "/" + other
    assert not verify_claim(parse_signature(view_of("GET", moved, headers, b""), now=now), public)
