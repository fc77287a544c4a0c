"""RFC 9421 HTTP Message Signatures, with Mastodon's rules (4.4+) for what a signature must cover.

Rules: the first label present in both `Signature-Input` and `Signature` is used; `keyid` and `created`
are required (malformed_signature); `@method` must be covered, and the target as `@target-uri` or as
`@authority` with `@request-target`, or with `@path` and (if the request has a query) `@query`; a POST,
or any request with a body, must cover `content-digest`. `alg` is optional: without it the key type
decides. Components with parameters other than `@query-param;name=...` are unsupported.
"""

import binascii
import re
from collections.abc import Callable, Mapping
from datetime import datetime
from functools import partial
from typing import TypeGuard
from urllib.parse import parse_qsl, quote, unquote

import http_sf
from http_sf.types import ParamsType

from federation.httpsig.digests import check_content_digest, content_digest
from federation.httpsig.keys import sign_message, signing_algorithm
from federation.httpsig.request import (
    ACTIVITY_JSON,
    RequestView,
    SignatureClaim,
    SignatureError,
    check_window,
    format_http_date,
    header_value,
    normalise_authority,
    outgoing_view,
    parse_epoch,
    to_bytes,
    url_authority,
)
from federation.httpsig.structured import Member, parse_dictionary

_KEY = r"[a-z*][a-z0-9_\-.*]*"
_NAME = r'"[!#-\[\]-~]*"'
_VALUE = r'-?(?:0|[1-9][0-9]{0,14})|"[ !#-\[\]-~]*"'
_CANONICAL_INPUT = re.compile(rf"({_KEY})=((\((?:{_NAME}(?: {_NAME})*)?\))((?:;{_KEY}=(?:{_VALUE}))*))")
_CANONICAL_PARAM = re.compile(rf";({_KEY})=({_VALUE})")
_CANONICAL_SIGNATURE = re.compile(rf"({_KEY})=:([A-Za-z0-9+/]+={{0,2}}):")
_ESCAPES = str.maketrans({"\\": "\\\\", '"': '\\"'})

ALGORITHMS = frozenset({"rsa-v1_5-sha256", "rsa-pss-sha512", "ecdsa-p256-sha256", "ed25519"})
Component = tuple[str, ParamsType]

_DERIVED: dict[str, Callable[[RequestView], str]] = {
    "@method": lambda r: r.method,
    "@target-uri": lambda r: f"{r.scheme}://{r.authority}{r.path or '/'}{'?' + r.query if r.query else ''}",
    "@authority": lambda r: normalise_authority(r.scheme, r.authority),
    "@scheme": lambda r: r.scheme.lower(),
    "@path": lambda r: r.path or "/",
    "@query": lambda r: "?" + r.query,
    "@request-target": lambda r: (r.path or "/") + ("?" + r.query if r.query else ""),
}


def parse_rfc9421(req: RequestView, now: datetime) -> SignatureClaim:
    covered, params, params_text, signature = _read_signature(req)
    if not isinstance(signature, bytes):
        raise _malformed("The Signature value must be a byte sequence.")
    key_id, algorithm = params.get("keyid"), params.get("alg", "")
    if not isinstance(key_id, str) or not key_id or "created" not in params:
        raise _malformed("The signature parameters must include keyid and created.")
    if not isinstance(algorithm, str) or (algorithm and algorithm not in ALGORITHMS):
        raise SignatureError(f"The signature algorithm {algorithm} is not supported.", code="unknown_algorithm")
    names = [name for name, _ in covered]
    _check_coverage(req, names)
    created = parse_epoch(params["created"], "created")
    check_window(created, parse_epoch(params["expires"], "expires") if "expires" in params else None, now)
    if "content-digest" in names:
        check_content_digest(header_value(req.headers, "content-digest"), req.body)
    base = signature_base(covered, params_text, partial(component_value, req))
    return SignatureClaim("rfc9421", key_id, algorithm, created, signature, (base,))


def signature_base(covered: list[Component], params_text: str,
                   resolve: Callable[[str, Mapping[str, object]], str]) -> bytes:
    """RFC 9421 §2.5; `resolve` yields component values, so responses (tests) can reuse it."""
    lines, seen = [], set()
    for name, params in covered:
        identifier = http_sf.ser((name, params)) if params else '"' + name.translate(_ESCAPES) + '"'
        if identifier in seen or name != name.lower():
            raise _malformed(f"The covered component {identifier} is repeated or not lower case.")
        seen.add(identifier)
        value = resolve(name, params)
        if "\n" in value or "\r" in value:
            raise _malformed(f"The covered component {identifier} contains a line break.")
        lines.append(f"{identifier}: {value}")
    lines.append(f'"@signature-params": {params_text}')
    return to_bytes("\n".join(lines))


def component_value(req: RequestView, name: str, params: Mapping[str, object]) -> str:
    if name == "@query-param":
        return _query_param(req, params)
    if params or name == "@signature-params":
        raise _unsupported(name)
    if name.startswith("@"):
        derive = _DERIVED.get(name)
        if derive is None:
            raise _unsupported(name)
        return derive(req)
    value = header_value(req.headers, name)
    if value is None:
        raise SignatureError(f"The signed header {name} is missing from the request.", code="missing_header")
    return value


def sign_rfc9421(*, method: str, url: str, key_id: str, private_key: object, now: datetime,
                 body: bytes | None = None, content_type: str | None = None, label: str = "sig1") -> dict[str, str]:
    """Covers what Mastodon requires, and names `alg` so that verifiers need not guess from the key."""
    headers = {"Host": url_authority(url), "Date": format_http_date(now)}
    covered: list[Component] = [("@method", {}), ("@target-uri", {})]
    if body is not None or method.upper() == "POST":
        headers["Content-Digest"] = content_digest(body or b"")
        headers["Content-Type"] = content_type or ACTIVITY_JSON
        covered.append(("content-digest", {}))
    inner: http_sf.InnerListType = (
        list(covered), {"created": int(now.timestamp()), "keyid": key_id, "alg": signing_algorithm(private_key)})
    resolve = partial(component_value, outgoing_view(method, url, headers, body))
    signature = sign_message(private_key, signature_base(covered, http_sf.ser([inner]), resolve))
    headers["Signature-Input"] = http_sf.ser({label: inner})
    headers["Signature"] = http_sf.ser({label: (signature, {})})
    return headers


def _read_signature(req: RequestView) -> tuple[list[Component], Mapping[str, object], str, object]:
    """Components, parameters, serialised inner list and signature of the first label in both headers."""
    inputs = header_value(req.headers, "Signature-Input") or ""
    signatures = header_value(req.headers, "Signature") or ""
    return _read_canonical(inputs, signatures) or _read_structured(inputs, signatures)


def _read_canonical(inputs: str, signatures: str) -> tuple[list[Component], Mapping[str, object], str, bytes] | None:
    """One signature in canonical form, as signers send it, read with two regexes: http_sf reads
    byte sequences one character at a time. Anything else (None) goes to `_read_structured`,
    which gives the same answer, only slower."""
    member, signature = _CANONICAL_INPUT.fullmatch(inputs), _CANONICAL_SIGNATURE.fullmatch(signatures)
    if member is None or signature is None or member[1] != signature[1]:
        return None
    pairs = _CANONICAL_PARAM.findall(member[4])
    params: dict[str, object] = {key: value[1:-1] if value[0] == '"' else int(value) for key, value in pairs}
    try:
        raw = binascii.a2b_base64(signature[2], strict_mode=True)
    except binascii.Error:
        return None
    if len(params) != len(pairs):
        return None
    covered: list[Component] = [(name[1:-1], {}) for name in member[3][1:-1].split(" ") if name]
    return covered, params, member[2], raw


def _read_structured(inputs: str, signatures: str) -> tuple[list[Component], Mapping[str, object], str, object]:
    members, values = _dictionary(inputs, "Signature-Input"), _dictionary(signatures, "Signature")
    label = next((name for name in members if name in values), None)
    if label is None:
        raise _malformed("Signature-Input and Signature share no label.")
    covered, params = members[label]
    if not isinstance(covered, list) or not _all_named(covered):
        raise _malformed("Signature-Input must list the covered components as strings.")
    return covered, params, http_sf.ser([members[label]]), values[label][0]


def _all_named(covered: list[http_sf.ItemType]) -> TypeGuard[list[Component]]:
    """Whether every covered component is named by a string; http_sf reads each as a (name, parameters) pair."""
    return all(isinstance(item, tuple) and isinstance(item[0], str) for item in covered)


def _dictionary(value: str, name: str) -> dict[str, Member]:
    try:
        return parse_dictionary(to_bytes(value))
    except http_sf.StructuredFieldError:
        raise _malformed(f"The {name} header is not a valid structured dictionary.") from None


def _check_coverage(req: RequestView, names: list[str]) -> None:
    if "@method" not in names:
        raise SignatureError("The signature must cover @method.", code="weak_signature")
    path = "@path" in names and ("@query" in names or not req.query)
    target = "@target-uri" in names or ("@authority" in names and ("@request-target" in names or path))
    if not target:
        raise SignatureError("The signature must cover @target-uri (or @authority, @path and @query).",
                             code="weak_signature")
    if (req.method == "POST" or req.body) and "content-digest" not in names:
        raise SignatureError("A POST, or any request with a body, must sign the Content-Digest header.",
                             code="weak_signature")


def _query_param(req: RequestView, params: Mapping[str, object]) -> str:
    """RFC 9421 §2.2.8: decoded, then re-encoded with the form-urlencoded percent-encode set."""
    name = params.get("name")
    if set(params) != {"name"} or not isinstance(name, str):
        raise _unsupported("@query-param")
    values = [v for k, v in parse_qsl(req.query, keep_blank_values=True) if k == unquote(name)]
    if len(values) != 1:
        raise SignatureError(f"The signed query parameter {name} is missing or repeated.", code="missing_header")
    return quote(values[0], safe="*").replace("~", "%7E")


def _malformed(message: str) -> SignatureError:
    return SignatureError(message, code="malformed_signature", malformed=True)


def _unsupported(name: str) -> SignatureError:
    return SignatureError(f"The covered component {name} is not supported.", code="unsupported_component")
