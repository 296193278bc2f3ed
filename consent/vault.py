"""Envelope encryption of client data: AES-256-GCM under a per-client data key.

Each client gets a random 256-bit data key; the identity (and every packet, message or
document sealed for the client) is encrypted with it, and the data key is wrapped
(AES-256-GCM) by the hub's key-encryption key (KEK), a 32-byte file created by
`refhub keys init`. Destroying a client's wrapped key erases all of it (crypto-shredding).

The keyring is the current KEK file plus a folder of earlier KEKs (`<kek id>.key`) kept
readable while a rotation re-wraps data keys; `Client.kek_id` says which KEK wraps each
client, and `Keyring.get` picks it. `load_keyring` notices a replaced KEK file, so running
processes follow a rotation without a restart.
"""

from __future__ import annotations

import functools
import json
import os
import threading
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from consent.errors import KeyUnavailable
from kernel.crypto import sha256_hex

__all__ = [
    "Kek",
    "Keyring",
    "decrypt_identity",
    "encrypt_identity",
    "generate_kek_file",
    "install_new_kek",
    "load_kek",
    "load_keyring",
    "open_sealed",
    "reseal_identity",
    "retire_keks",
    "seal",
]

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


@dataclass(frozen=True)
class Keyring:
    """The current KEK (wraps every new data key) and the earlier ones still readable."""

    current: Kek
    previous: tuple[Kek, ...] = ()

    @property
    def ids(self) -> frozenset[str]:
        return frozenset({self.current.id, *(k.id for k in self.previous)})

    def get(self, kek_id: str) -> Kek:
        """The KEK with this id.

        Raises:
            KeyUnavailable: not in the keyring (retired too early, or files missing).
        """
        if kek_id == self.current.id:
            return self.current
        for kek in self.previous:
            if kek.id == kek_id:
                return kek
        raise KeyUnavailable(
            f"key-encryption key {kek_id} is not in the keyring; restore it into the "
            "previous-KEK folder (REFHUB_KEK_PREVIOUS_DIR)"
        )


_keyrings: dict[tuple[Path, Path], tuple[tuple[int, ...], Keyring]] = {}
_keyrings_lock = threading.Lock()


def _signature(current: Path, previous_dir: Path) -> tuple[int, ...]:
    """What changes when a rotation replaces the KEK file or edits the previous folder."""
    try:
        st = current.stat()
    except FileNotFoundError:
        raise KeyUnavailable(
            f"key-encryption key {current} does not exist; run `refhub keys init` "
            "or set REFHUB_KEK_FILE"
        ) from None
    try:
        folder = previous_dir.stat().st_mtime_ns
    except FileNotFoundError:
        folder = 0
    return (st.st_ino, st.st_mtime_ns, st.st_size, folder)


def _read_kek(path: Path) -> Kek:
    try:
        return Kek(path.read_bytes())
    except KeyUnavailable as exc:
        raise KeyUnavailable(f"{path}: {exc.detail}") from None


def load_keyring(current: Path, previous_dir: Path) -> Keyring:
    """The keyring: the KEK in `current` plus every `*.key` file in `previous_dir`.

    Re-read whenever the KEK file is replaced or the folder changes (one `stat` per call
    otherwise), so serving processes pick up a rotation by themselves.

    Raises:
        KeyUnavailable: the current KEK is missing, or a key file is not a 32-byte key.
    """
    signature = _signature(current, previous_dir)
    key = (current, previous_dir)
    with _keyrings_lock:
        cached = _keyrings.get(key)
        if cached is not None and cached[0] == signature:
            return cached[1]
        now = _read_kek(current)
        previous: list[Kek] = []
        if previous_dir.is_dir():
            for path in sorted(previous_dir.glob("*.key")):
                kek = _read_kek(path)
                if kek.id != now.id and kek.id not in {k.id for k in previous}:
                    previous.append(kek)
        ring = Keyring(current=now, previous=tuple(previous))
        _keyrings[key] = (signature, ring)
        return ring


def _write_private(path: Path, data: bytes) -> None:
    """Write a key file readable by the owner only, durably, replacing any earlier one."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


def install_new_kek(current: Path, previous_dir: Path) -> tuple[str, str]:
    """Make a fresh KEK the current one; keep the old one readable in `previous_dir`.

    The old key is written to `previous_dir/<id>.key` first and the KEK file is replaced
    atomically afterwards, so an interruption at any point leaves both keys readable.
    Returns (old id, new id).

    Raises:
        KeyUnavailable: there is no current KEK to rotate from.
    """
    old_bytes = _current_bytes(current)
    old = Kek(old_bytes)
    previous_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    kept = previous_dir / f"{old.id}.key"
    if not kept.exists():
        _write_private(kept, old_bytes)
    new_bytes = os.urandom(_KEY_BYTES)
    _write_private(current, new_bytes)
    return old.id, Kek(new_bytes).id


def _current_bytes(current: Path) -> bytes:
    try:
        return current.read_bytes()
    except FileNotFoundError:
        raise KeyUnavailable(
            f"key-encryption key {current} does not exist; run `refhub keys init` first"
        ) from None


def retire_keks(previous_dir: Path, ids: frozenset[str]) -> list[str]:
    """Destroy the earlier KEKs whose ids are in `ids` (overwritten, then removed).

    The caller checks first that no client is wrapped by them any more. Copies elsewhere
    (backups) are not reached: destroy those too. Returns the ids destroyed.
    """
    destroyed: list[str] = []
    if not previous_dir.is_dir():
        return destroyed
    for path in sorted(previous_dir.glob("*.key")):
        kek_id = _read_kek(path).id
        if kek_id not in ids:
            continue
        size = path.stat().st_size
        with path.open("r+b") as handle:
            handle.write(b"\0" * size)
            handle.flush()
            os.fsync(handle.fileno())
        path.unlink()
        destroyed.append(kek_id)
    return destroyed


def encrypt_identity(
    kek: Kek, client_id: uuid.UUID, identity: dict[str, Any]
) -> tuple[bytes, bytes]:
    """Encrypt `identity` for a new client; returns (wrapped data key, ciphertext)."""
    data_key = AESGCM.generate_key(bit_length=256)
    nonce = os.urandom(_NONCE_BYTES)
    plain = json.dumps(identity, sort_keys=True, ensure_ascii=False).encode()
    sealed = nonce + AESGCM(data_key).encrypt(nonce, plain, b"identity:" + client_id.bytes)
    return kek.wrap(data_key, client_id), sealed


def reseal_identity(
    kek: Kek, client_id: uuid.UUID, wrapped_key: bytes, identity: dict[str, Any]
) -> bytes:
    """Encrypt a changed `identity` under the client's existing data key (everything else
    sealed for the client stays readable); returns the new ciphertext."""
    data_key = kek.unwrap(wrapped_key, client_id)
    nonce = os.urandom(_NONCE_BYTES)
    plain = json.dumps(identity, sort_keys=True, ensure_ascii=False).encode()
    return nonce + AESGCM(data_key).encrypt(nonce, plain, b"identity:" + client_id.bytes)


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


def seal(
    kek: Kek, client_id: uuid.UUID, wrapped_key: bytes, plaintext: bytes, context: str
) -> bytes:
    """Encrypt `plaintext` (a packet, a message, a document) under the client's data key.

    `context` names what it is (e.g. ``"packet:<referral id>"``) and is bound as associated
    data, so a ciphertext cannot be moved to another place or client unnoticed.
    """
    data_key = kek.unwrap(wrapped_key, client_id)
    nonce = os.urandom(_NONCE_BYTES)
    return nonce + AESGCM(data_key).encrypt(nonce, plaintext, _aad(client_id, context))


def open_sealed(
    kek: Kek, client_id: uuid.UUID, wrapped_key: bytes, sealed: bytes, context: str
) -> bytes:
    """The plaintext `seal()` encrypted with the same client, key and context."""
    data_key = kek.unwrap(wrapped_key, client_id)
    try:
        return AESGCM(data_key).decrypt(
            sealed[:_NONCE_BYTES], sealed[_NONCE_BYTES:], _aad(client_id, context)
        )
    except InvalidTag:
        raise KeyUnavailable("client data does not open with its data key") from None


def _aad(client_id: uuid.UUID, context: str) -> bytes:
    return b"data:" + client_id.bytes + b":" + context.encode()
