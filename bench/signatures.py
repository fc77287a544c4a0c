"""Target 1: verifying a Mastodon-style signed POST (2 KB body, RSA-2048, key object cached).

Ours against raw `cryptography` RSA verify of the same signing string (the
physical limit) and, for RFC 9421, against `http-message-signatures`.
"""

import json
from datetime import UTC, datetime, timedelta

import requests
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from http_message_signatures import HTTPMessageVerifier, HTTPSignatureKeyResolver, algorithms
from multidict import CIMultiDict

from bench.report import Figure, best_rate
from federation.httpsig import (
    RequestView,
    generate_private_key,
    parse_signature,
    sign_cavage,
    sign_rfc9421,
    verify_claim,
)

URL = "https://receiver.example/users/alice/inbox"
KEY_ID = "https://sender.example/users/bob#main-key"
ROUNDS = 2000


def _body() -> bytes:
    activity = {"id": "https://sender.example/a/1", "type": "Create", "actor": "https://sender.example/users/bob",
                "object": {"type": "Note", "content": "x" * 1800}}
    return json.dumps(activity).encode()


def _view(headers: dict[str, str], body: bytes) -> RequestView:
    return RequestView(method="POST", scheme="https", authority="receiver.example", path="/users/alice/inbox",
                       query="", headers=CIMultiDict(headers), body=body)


def _raw_rate(key) -> float:  # type: ignore[no-untyped-def]
    message = b"(request-target): post /users/alice/inbox\nhost: receiver.example\ndate: x\ndigest: y"
    signature = key.sign(message, padding.PKCS1v15(), hashes.SHA256())
    public = key.public_key()

    def run() -> int:
        for _ in range(ROUNDS):
            public.verify(signature, message, padding.PKCS1v15(), hashes.SHA256())
        return ROUNDS

    return best_rate(run)


def _ours_rate(headers: dict[str, str], body: bytes, public, now: datetime) -> float:  # type: ignore[no-untyped-def]
    def run() -> int:
        for _ in range(ROUNDS):
            assert verify_claim(parse_signature(_view(headers, body), now=now), public)
        return ROUNDS

    return best_rate(run)


class _Resolver(HTTPSignatureKeyResolver):
    def __init__(self, public) -> None:  # type: ignore[no-untyped-def]
        self.public = public

    def resolve_public_key(self, key_id: str):  # type: ignore[no-untyped-def]
        return self.public


def _library_rate(headers: dict[str, str], body: bytes, public) -> float:  # type: ignore[no-untyped-def]
    request = requests.Request("POST", URL, data=body, headers=headers).prepare()
    verifier = HTTPMessageVerifier(signature_algorithm=algorithms.RSA_V1_5_SHA256, key_resolver=_Resolver(public))

    def run() -> int:
        rounds = ROUNDS // 4
        for _ in range(rounds):
            verifier.verify(request, max_age=timedelta(days=1))
        return rounds

    return best_rate(run)


def run() -> list[Figure]:
    key, body, now = generate_private_key(), _body(), datetime.now(UTC)
    public = key.public_key()
    cavage = sign_cavage(method="POST", url=URL, key_id=KEY_ID, private_key=key, now=now, body=body,
                         content_type="application/activity+json")
    rfc = sign_rfc9421(method="POST", url=URL, key_id=KEY_ID, private_key=key, now=now, body=body,
                       content_type="application/activity+json")
    raw = _raw_rate(key)
    ours_cavage = _ours_rate(cavage, body, public, now)
    ours_rfc = _ours_rate(rfc, body, public, now)
    library = _library_rate(rfc, body, public)
    return [
        Figure("verify draft-cavage POST vs raw RSA verify", ours_cavage, raw, "verifies/s", "cryptography", 0.6),
        Figure("verify RFC 9421 POST vs http-message-signatures", ours_rfc, library, "verifies/s",
               "http-message-signatures", 3.0),
    ]
