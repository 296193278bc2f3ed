"""Envelope encryption of client identities: AES-256-GCM under a per-client data key.

Each client gets a random 256-bit data key; the identity is encrypted with it, and the
data key is wrapped (AES-256-GCM) by the hub's key-encryption key (KEK), a 32-byte file
created by `refhub keys init`. Destroying a client's wrapped key erases the identity.
Key rotation (re-wrapping under a new KEK, `kek_id` tells which one) comes with issue 8.
"""

from __future__ import annotations

import functools
import json
import os
import uuid
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from consent.errors import KeyUnavailable
from kernel.crypto import sha256_hex

__all__ = ["Kek", "decrypt_identity", "encrypt_identity", "generate_kek_file", "load_kek"]

_KEY_BYTES = 32
_NONCE_BYTES = 12


class Kek:
    """A loaded key-encryption key and its id (a digest, safe to store and log)."""

    def __init__(self, key: bytes) -> None:
        if len(key) != _KEY_BYTES:
            raise KeyUnavailable("the key-encryption key must be exactly 32 bytes")
        self._aead = AESGCM(key)
        self.id = sha256_hex(b"refhub-kek:" + key)[:32]

    def wrap(self, data_key: bytes, client_id: uuid.UUID) -> bytes:
        nonce = os.urandom(_NONCE_BYTES)
        return nonce + self._aead.encrypt(nonce, data_key, b"dek:" + client_id.bytes)

    def unwrap(self, wrapped: bytes, client_id: uuid.UUID) -> bytes:
        try:
            return self._aead.decrypt(
                wrapped[:_NONCE_BYTES], wrapped[_NONCE_BYTES:], b"dek:" + client_id.bytes
            )
        except InvalidTag:
            raise KeyUnavailable("a client data key does not open with this KEK") from None


def generate_kek_file(path: Path) -> bool:
    """Create a KEK file (32 random bytes, mode 0600) unless one exists; True if created."""
    if path.exists():
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(os.urandom(_KEY_BYTES))
    return True


@functools.cache
def load_kek(path: Path) -> Kek:
    """The KEK in `path` (read once per process).

    Raises:
        KeyUnavailable: the file is missing or not a 32-byte key.
    """
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise KeyUnavailable(
            f"key-encryption key {path} does not exist; run `refhub keys init` "
            "or set REFHUB_KEK_FILE"
        ) from None
    return Kek(data)


def encrypt_identity(
    kek: Kek, client_id: uuid.UUID, identity: dict[str, Any]
) -> tuple[bytes, bytes]:
    """Encrypt `identity` for a new client; returns (wrapped data key, ciphertext)."""
    data_key = AESGCM.generate_key(bit_length=256)
    nonce = os.urandom(_NONCE_BYTES)
    plain = json.dumps(identity, sort_keys=True, ensure_ascii=False).encode()
    sealed = nonce + AESGCM(data_key).encrypt(nonce, plain, b"identity:" + client_id.bytes)
    return kek.wrap(data_key, client_id), sealed


def decrypt_identity(
    kek: Kek, client_id: uuid.UUID, wrapped_key: bytes, ciphertext: bytes
) -> dict[str, Any]:
    """The identity of a client, decrypted (never logged, never audited)."""
    data_key = kek.unwrap(wrapped_key, client_id)
    try:
        plain = AESGCM(data_key).decrypt(
            ciphertext[:_NONCE_BYTES], ciphertext[_NONCE_BYTES:], b"identity:" + client_id.bytes
        )
    except InvalidTag:
        raise KeyUnavailable("a client identity does not open with its data key") from None
    value = json.loads(plain)
    assert isinstance(value, dict)
    return value
