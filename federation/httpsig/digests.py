"""Body digests: a signature covers the digest header, so the body is only as safe as this check.

`Digest` (RFC 3230, draft-cavage) and `Content-Digest` (RFC 9530, RFC 9421). SHA-256 and SHA-512
are checked when present; at least one supported value is required.
"""

import base64
import binascii
import hashlib
import re

import http_sf

from federation.httpsig.request import SignatureError
from federation.httpsig.structured import Member, parse_dictionary

_CANONICAL_CONTENT_DIGEST = re.compile(r"(sha-256|sha-512)=:([A-Za-z0-9+/]+={0,2}):")
_SHA256_NAMES = ("SHA-256=", "sha-256=")
_HASHES = {"sha-256": hashlib.sha256, "sha-512": hashlib.sha512}


def digest_header(body: bytes) -> str:
    return "SHA-256=" + base64.b64encode(hashlib.sha256(body).digest()).decode()


def content_digest(body: bytes) -> str:
    return http_sf.ser({"sha-256": (hashlib.sha256(body).digest(), {})})


def check_digest(value: str | None, body: bytes) -> None:
    """Mastodon insists on SHA-256 here; a SHA-512 value, if also sent, must match too."""
    if value is None:
        raise SignatureError("The Digest header is signed but missing.", code="missing_header")
    sha256 = hashlib.sha256(body).digest()
    if value.startswith(_SHA256_NAMES) and value[8:] == binascii.b2a_base64(sha256, newline=False).decode():
        return
    offered = {}
    for member in value.split(","):
        name, _, encoded = member.partition("=")
        offered[name.strip().lower()] = encoded.strip()
    if "sha-256" not in offered:
        raise SignatureError("The Digest header must contain a SHA-256 value.", code="digest_mismatch")
    _compare("sha-256", _decode("sha-256", offered["sha-256"]), sha256)
    if "sha-512" in offered:
        _compare("sha-512", _decode("sha-512", offered["sha-512"]), hashlib.sha512(body).digest())


def check_content_digest(value: str | None, body: bytes) -> None:
    """An unparsable Content-Digest is a broken request (400), as in Mastodon."""
    if value is None:
        raise SignatureError("The Content-Digest header is signed but missing.", code="missing_header")
    offered = _canonical_content_digest(value) or _structured_content_digest(value)
    checked = [name for name in offered if name in _HASHES]
    if not checked:
        raise SignatureError("The Content-Digest header must contain a sha-256 or sha-512 value.",
                             code="digest_mismatch")
    for name in checked:
        given, _ = offered[name]
        if not isinstance(given, bytes):
            raise SignatureError(f"The Content-Digest {name} value must be a byte sequence.",
                                 code="digest_mismatch", malformed=True)
        _compare(name, given, _HASHES[name](body).digest())


def _canonical_content_digest(value: str) -> dict[str, Member] | None:
    """The one-member form every signer sends, without http_sf's per-character byte parser."""
    match = _CANONICAL_CONTENT_DIGEST.fullmatch(value)
    if match is None:
        return None
    try:
        return {match[1]: (binascii.a2b_base64(match[2], strict_mode=True), {})}
    except binascii.Error:
        return None


def _structured_content_digest(value: str) -> dict[str, Member]:
    try:
        return parse_dictionary(value.encode())
    except (http_sf.StructuredFieldError, UnicodeEncodeError):
        raise SignatureError("The Content-Digest header is not a valid structured dictionary.",
                             code="digest_mismatch", malformed=True) from None


def _decode(name: str, encoded: str) -> bytes:
    try:
        return base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise SignatureError(f"The Digest {name.upper()} value is not valid base64.",
                             code="digest_mismatch") from None


def _compare(name: str, given: bytes, expected: bytes) -> None:
    if len(given) != len(expected):
        raise SignatureError(f"The {name.upper()} digest has the wrong length.", code="digest_mismatch")
    if given != expected:
        raise SignatureError(f"The {name.upper()} digest does not match the body.", code="digest_mismatch")
