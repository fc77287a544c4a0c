"""Mastodon's signature test vectors (tests/fixtures/cavage): its key, clock and requests as RequestViews."""

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from multidict import CIMultiDict

from federation.httpsig import (
    RequestView,
    SignatureError,
    load_private_key,
    load_public_key,
    parse_signature,
    verify_claim,
)

MASTODON = Path(__file__).parent / "fixtures" / "cavage"
CLOCK = datetime(2023, 12, 20, 10, 0, tzinfo=UTC)
KEY = load_private_key((MASTODON / "mastodon-spec-key.pem").read_text())
PUBLIC = load_public_key((MASTODON / "mastodon-spec-key.pub.pem").read_text())
KEY_ID = "https://remote.domain/users/bob#main-key"
HOST = "www.example.com"


def load_case(name: str) -> dict[str, Any]:
    return json.loads((MASTODON / f"{name}.json").read_text())


def case_view(case: dict[str, Any]) -> RequestView:
    request = case["request"]
    return RequestView(method=request["method"], scheme="https", authority=HOST, path=request["path"],
                       query=request["query"] or "", headers=CIMultiDict(request["headers"]),
                       body=(request["body"] or "").encode())


def outcome(view: RequestView, *, now: datetime = CLOCK, key: Any = PUBLIC) -> str:
    """"accepted", "bad_signature", or the code the signature was refused with before any key was used."""
    try:
        claim = parse_signature(view, now=now)
    except SignatureError as error:
        return error.code
    return "accepted" if verify_claim(claim, key) else "bad_signature"


def refusal(view: RequestView, *, now: datetime = CLOCK) -> SignatureError:
    """The error a request is refused with before any key is used; fails the test when it is not refused."""
    with pytest.raises(SignatureError) as caught:
        parse_signature(view, now=now)
    return caught.value
