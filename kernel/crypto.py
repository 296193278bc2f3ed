"""Crypto primitives shared by every package: digests, canonical JSON, Ed25519 key files.

Only well-known constructions from `cryptography`; nothing home-made. Higher-level JOSE
(JWS/JWE) lives with the code that speaks it and uses joserfc.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from kernel.errors import StartupError

__all__ = [
    "canonical_json",
    "ed25519_key_id",
    "generate_ed25519_key_file",
    "load_ed25519_private_key",
    "sha256_hex",
    "verify_ed25519",
]


def sha256_hex(data: bytes) -> str:
    """Lower-case hex SHA-256 of `data`."""
    return hashlib.sha256(data).hexdigest()


def canonical_json(value: Any) -> bytes:
    """Deterministic JSON bytes (sorted keys, no spaces, UTF-8) for hashing and signing."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def ed25519_key_id(public_key: Ed25519PublicKey) -> str:
    """RFC 7638 JWK thumbprint of an Ed25519 public key: the `kid` refhub publishes."""
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    jwk = {"crv": "Ed25519", "kty": "OKP", "x": _b64url(raw)}
    return _b64url(hashlib.sha256(canonical_json(jwk)).digest())


def generate_ed25519_key_file(path: Path) -> bool:
    """Create an Ed25519 private key file (PEM, mode 0600) if none exists.

    Returns True when a key was created, False when one was already there.
    """
    if path.exists():
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    pem = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(pem)
    return True


def load_ed25519_private_key(path: Path) -> Ed25519PrivateKey:
    """Read an Ed25519 private key from a PEM file.

    Raises:
        StartupError: the file is missing or holds no Ed25519 private key.
    """
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise StartupError(
            f"key file {path} does not exist; run `refhub keys init` to create it "
            "or point the setting at your key"
        ) from None
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError):
        raise StartupError(f"key file {path} is not an unencrypted PEM private key") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise StartupError(f"key file {path} holds a {type(key).__name__}, not an Ed25519 key")
    return key


def verify_ed25519(public_key: Ed25519PublicKey, signature: bytes, message: bytes) -> bool:
    """True when `signature` is a valid Ed25519 signature of `message`."""
    try:
        public_key.verify(signature, message)
    except InvalidSignature:
        return False
    return True
