"""Message security between the hub and agencies: sign, then encrypt; decrypt, then verify.

An outgoing message is a JWS (ES256, compact) over the payload bytes, signed with the hub's
key and naming it by `kid` (published at /.well-known/jwks.json), wrapped in a JWE (compact,
ECDH-ES+A256KW with A256GCM) to the receiver's public key from the directory. The JWS
header carries the message id (`refhub-msg`), the payload's media type (`cty`) and the time
of signing (`iat`), so they are signed with the payload. Every call names its algorithms
explicitly (joserfc); nothing here is home-made crypto.

docs/receiving.md shows a receiver doing `open_message` with public libraries only.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from joserfc import jwe, jws
from joserfc.jwk import ECKey, KeySet, OKPKey
from joserfc.jws import JWSRegistry
from joserfc.registry import HeaderParameter

__all__ = [
    "ENCRYPTION_ALGORITHMS",
    "SIGNING_ALGORITHMS",
    "EnvelopeError",
    "OpenedMessage",
    "open_message",
    "seal_message",
    "verify_signed",
]

SIGNING_ALGORITHMS = ["ES256"]
ENCRYPTION_ALGORITHMS = ["ECDH-ES+A256KW", "A256GCM"]
MESSAGE_TYPE = "refhub-message+jws"
MAX_MESSAGE_BYTES = 20 * 1024 * 1024

PublicKey = ECKey | OKPKey

# The JWS header parameters refhub adds (RFC 7515 §4.3 private names); signed like the rest.
REGISTRY = JWSRegistry(
    header_registry={
        "refhub-msg": HeaderParameter("refhub message id (de-duplicate on it)", "str", True),
        "iat": HeaderParameter("time of signing, seconds since the epoch", "int", True),
    },
    algorithms=SIGNING_ALGORITHMS,
)


class EnvelopeError(Exception):
    """A message that cannot be opened: not for this key, tampered, or not signed by a
    known key. The text says which step failed, never any content."""


@dataclass(frozen=True)
class OpenedMessage:
    payload: bytes
    message_id: str
    content_type: str
    signed_at: int
    signer_kid: str


def seal_message(
    payload: bytes,
    *,
    message_id: str,
    content_type: str,
    signing_key: ECKey,
    receiver_key: PublicKey,
    signed_at: int | None = None,
) -> str:
    """Sign `payload` with the hub's key, then encrypt it to the receiver. Returns a compact
    JWE whose plaintext is the compact JWS."""
    header: dict[str, Any] = {
        "alg": "ES256",
        "kid": signing_key.kid or signing_key.thumbprint(),
        "typ": MESSAGE_TYPE,
        "cty": content_type,
        "refhub-msg": message_id,
        "iat": int(signed_at if signed_at is not None else time.time()),
    }
    signed = jws.serialize_compact(
        header, payload, signing_key, algorithms=SIGNING_ALGORITHMS, registry=REGISTRY
    )
    protected = {
        "alg": "ECDH-ES+A256KW",
        "enc": "A256GCM",
        "cty": "JWT",
        "kid": receiver_key.kid or receiver_key.thumbprint(),
    }
    return jwe.encrypt_compact(
        protected, signed.encode(), receiver_key, algorithms=ENCRYPTION_ALGORITHMS
    )


def verify_signed(signed: bytes | str, signer_keys: KeySet) -> OpenedMessage:
    """Verify a compact JWS against a set of public keys (the signer's published JWKS).

    Raises:
        EnvelopeError: unknown `kid`, a bad signature, or a header that is not refhub's.
    """
    try:
        verified = jws.deserialize_compact(
            signed, signer_keys, algorithms=SIGNING_ALGORITHMS, registry=REGISTRY
        )
    except Exception as exc:  # noqa: BLE001 - hostile input may fail anywhere in the parser
        raise EnvelopeError(f"signature not valid: {type(exc).__name__}") from None
    header = verified.protected
    if header.get("typ") != MESSAGE_TYPE or not header.get("refhub-msg"):
        raise EnvelopeError("not a refhub message")
    return OpenedMessage(
        payload=verified.payload,
        message_id=str(header["refhub-msg"]),
        content_type=str(header.get("cty", "")),
        signed_at=int(header.get("iat", 0)),
        signer_kid=str(header["kid"]),
    )


def open_message(sealed: str, *, receiver_key: PublicKey, signer_keys: KeySet) -> OpenedMessage:
    """Decrypt with the receiver's private key, then verify the hub's signature.

    Raises:
        EnvelopeError: too large, not decryptable with this key, or not validly signed.
    """
    if len(sealed) > MAX_MESSAGE_BYTES:
        raise EnvelopeError("message too large")
    try:
        decrypted = jwe.decrypt_compact(sealed, receiver_key, algorithms=ENCRYPTION_ALGORITHMS)
    except Exception as exc:  # noqa: BLE001 - hostile input may fail anywhere in the parser
        raise EnvelopeError(f"cannot decrypt: {type(exc).__name__}") from None
    assert decrypted.plaintext is not None
    return verify_signed(decrypted.plaintext, signer_keys)
