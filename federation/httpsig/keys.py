"""Keys and the signature algorithms: the only module that touches `cryptography`."""

import hashlib
from collections.abc import Callable

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes, PublicKeyTypes
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from federation.httpsig.request import SignatureClaim

_PKCS1 = padding.PKCS1v15()
_SHA256 = hashes.SHA256()
_PSS = padding.PSS(mgf=padding.MGF1(hashes.SHA512()), salt_length=64)
_SHA512 = hashes.SHA512()
_ECDSA = ec.ECDSA(hashes.SHA256())
# DER DigestInfo prefix for SHA-256 (RFC 8017 §9.2, note 1); the 32-byte digest follows it.
_SHA256_DIGEST_INFO = bytes.fromhex("3031300d060960864801650304020105000420")

Verifier = Callable[[object, bytes, tuple[bytes, ...]], bool]


def generate_private_key() -> rsa.RSAPrivateKey:
    """RSA-2048, because that is the only key type every fediverse server verifies."""
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def load_private_key(pem: str) -> PrivateKeyTypes:
    """A key Mecene made and stored itself, so the RSA consistency checks (30 ms a key) are skipped.

    Those checks guard against a crafted private key; the instance's own
    database holds only what `generate_private_key` made.
    """
    return serialization.load_pem_private_key(pem.encode(), password=None, unsafe_skip_rsa_key_validation=True)


def load_public_key(pem: str) -> PublicKeyTypes:
    """Accepts SPKI and PKCS#1 PEM: actors publish either."""
    return serialization.load_pem_public_key(pem.encode())


def dump_private_key(key: PrivateKeyTypes) -> str:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode()


def dump_public_key(key: PublicKeyTypes) -> str:
    """SPKI ("BEGIN PUBLIC KEY") is the form Mastodon publishes in `publicKeyPem`."""
    return key.public_bytes(serialization.Encoding.PEM,
                            serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def signing_algorithm(private_key: object) -> str:
    """Both schemes sign RSA with PKCS#1 v1.5 + SHA-256 (the fediverse's default), or Ed25519."""
    if isinstance(private_key, rsa.RSAPrivateKey):
        return "rsa-v1_5-sha256"
    if isinstance(private_key, ed25519.Ed25519PrivateKey):
        return "ed25519"
    raise TypeError("only RSA and Ed25519 private keys can sign requests")


def sign_message(private_key: object, message: bytes) -> bytes:
    if isinstance(private_key, rsa.RSAPrivateKey):
        return private_key.sign(message, _PKCS1, _SHA256)
    if isinstance(private_key, ed25519.Ed25519PrivateKey):
        return private_key.sign(message)
    raise TypeError("only RSA and Ed25519 private keys can sign requests")


def _rsa_v1_5(key: object, signature: bytes, messages: tuple[bytes, ...]) -> bool:
    """One RSA operation serves every candidate (the cavage query quirk has two): recover the
    DigestInfo and compare it with each candidate's exact encoding (RFC 8017 §8.2.2 steps 2-4).
    Comparing whole encodings, never parsing the recovered ASN.1, is what keeps this safe.
    Only RSA public keys can recover; asking for the method is cheaper than an ABC isinstance."""
    recover = getattr(key, "recover_data_from_signature", None)
    if recover is None:
        return False
    try:
        recovered = recover(signature, _PKCS1, None)
    except InvalidSignature:
        return False
    if recovered[:19] != _SHA256_DIGEST_INFO:
        return False
    digest = recovered[19:]
    for message in messages:
        if hashlib.sha256(message).digest() == digest:
            return True
    return False


def _rsa_pss(key: object, signature: bytes, message: bytes) -> None:
    if not isinstance(key, rsa.RSAPublicKey):
        raise InvalidSignature
    key.verify(signature, message, _PSS, _SHA512)


def _ed25519(key: object, signature: bytes, message: bytes) -> None:
    if not isinstance(key, ed25519.Ed25519PublicKey):
        raise InvalidSignature
    key.verify(signature, message)


def _ecdsa_p256(key: object, signature: bytes, message: bytes) -> None:
    """RFC 9421 sends r||s (64 bytes); `cryptography` wants DER."""
    if not isinstance(key, ec.EllipticCurvePublicKey) or key.curve.name != "secp256r1" or len(signature) != 64:
        raise InvalidSignature
    der = encode_dss_signature(int.from_bytes(signature[:32]), int.from_bytes(signature[32:]))
    key.verify(der, message, _ECDSA)


def _each(verify: Callable[[object, bytes, bytes], None]) -> Verifier:
    """Algorithms without message recovery try the candidates one by one."""

    def verify_any(key: object, signature: bytes, messages: tuple[bytes, ...]) -> bool:
        for message in messages:
            try:
                verify(key, signature, message)
            except InvalidSignature:
                continue
            return True
        return False

    return verify_any


def _by_key_type(key: object, signature: bytes, messages: tuple[bytes, ...]) -> bool:
    """hs2019 and RFC 9421 without `alg` leave the algorithm to the key."""
    if hasattr(key, "recover_data_from_signature"):
        return _rsa_v1_5(key, signature, messages)
    if isinstance(key, ed25519.Ed25519PublicKey):
        return _each(_ed25519)(key, signature, messages)
    return _each(_ecdsa_p256)(key, signature, messages)


VERIFIERS: dict[str, Verifier] = {
    "rsa-sha256": _rsa_v1_5,
    "rsa-v1_5-sha256": _rsa_v1_5,
    "rsa-pss-sha512": _each(_rsa_pss),
    "ecdsa-p256-sha256": _each(_ecdsa_p256),
    "ed25519": _each(_ed25519),
    "hs2019": _by_key_type,
    "": _by_key_type,
}


def verify_claim(claim: SignatureClaim, public_key: object) -> bool:
    """Pure crypto over what parse_signature prepared; a bad signature or unfit key is just False."""
    verify = VERIFIERS.get(claim.algorithm)
    return verify is not None and verify(public_key, claim.signature, claim.bases)
