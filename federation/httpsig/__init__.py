"""HTTP signatures for federation: draft-cavage (what the fediverse sends) and RFC 9421.

Verification is two steps so the key is fetched only for a request worth checking:
`parse_signature` applies every rule that needs no key, `verify_claim` is the crypto.
"""

from datetime import datetime

from federation.httpsig.cavage import parse_cavage, sign_cavage
from federation.httpsig.keys import (
    dump_private_key,
    dump_public_key,
    generate_private_key,
    load_private_key,
    load_public_key,
    verify_claim,
)
from federation.httpsig.request import DATE_WINDOW, RequestView, SignatureClaim, SignatureError
from federation.httpsig.rfc9421 import parse_rfc9421, sign_rfc9421

__all__ = [
    "DATE_WINDOW", "RequestView", "SignatureClaim", "SignatureError", "dump_private_key", "dump_public_key",
    "generate_private_key", "load_private_key", "load_public_key", "parse_signature", "sign_cavage",
    "sign_rfc9421", "verify_claim",
]


def parse_signature(req: RequestView, *, now: datetime) -> SignatureClaim:
    """RFC 9421 when both of its headers are present, as Mastodon prefers it; else draft-cavage."""
    headers = req.headers
    value = headers.get("Signature")
    if value is not None and "Signature-Input" in headers:
        return parse_rfc9421(req, now)
    if value is None:
        scheme, _, value = (headers.get("Authorization") or "").partition(" ")
        if scheme.lower() != "signature":
            raise SignatureError("The request is not signed.", code="no_signature")
    return parse_cavage(req, value, now)
