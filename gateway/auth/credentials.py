"""Credential primitives for staff: argon2id passwords, TOTP codes, session tokens.

All from maintained libraries (argon2-cffi, cryptography's RFC 6238 TOTP); nothing here
keeps state.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import secrets
import time

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from cryptography.hazmat.primitives.hashes import SHA1
from cryptography.hazmat.primitives.twofactor import InvalidToken
from cryptography.hazmat.primitives.twofactor.totp import TOTP

__all__ = [
    "MIN_PASSWORD_LENGTH",
    "hash_password",
    "new_session_token",
    "new_totp_secret",
    "password_problem",
    "temporary_password",
    "token_digest",
    "totp_step",
    "totp_uri",
    "verify_password",
    "verify_totp",
]

MIN_PASSWORD_LENGTH = 12
_HASHER = PasswordHasher()  # argon2id with the library's current recommended parameters
_TOTP_DIGITS, _TOTP_STEP = 6, 30


@functools.cache
def _dummy_hash() -> str:
    """A hash to verify against when there is none (made on first use: not at every start)."""
    return _HASHER.hash("refhub-timing-equaliser")


def hash_password(password: str) -> str:
    return _HASHER.hash(password)


def verify_password(stored_hash: str | None, password: str) -> bool:
    """True when `password` matches; with no stored hash, spends the same time and fails."""
    try:
        return _HASHER.verify(stored_hash or _dummy_hash(), password) and stored_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def password_problem(password: str, *, email: str) -> str | None:
    """Why a new password is refused, or None when it is acceptable."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"must be at least {MIN_PASSWORD_LENGTH} characters"
    if password.lower() == email.lower() or email.split("@", 1)[0].lower() in password.lower():
        return "must not contain the email address"
    if len(set(password)) < 5:
        return "is too repetitive"
    return None


def temporary_password() -> str:
    """A random one-time password an org admin hands to a user (changed at first sign-in)."""
    return secrets.token_urlsafe(12)


def new_session_token() -> str:
    return secrets.token_urlsafe(32)


def token_digest(token: str) -> str:
    """What the database stores for a bearer secret: its SHA-256, never the secret."""
    return hashlib.sha256(token.encode()).hexdigest()


def new_totp_secret() -> str:
    return base64.b32encode(secrets.token_bytes(20)).decode().rstrip("=")


def _totp(secret: str) -> TOTP:
    padded = secret + "=" * (-len(secret) % 8)
    # HMAC-SHA1 is RFC 6238's default and what authenticator apps implement.
    algorithm = SHA1()  # noqa: S303
    return TOTP(
        base64.b32decode(padded), _TOTP_DIGITS, algorithm, _TOTP_STEP, enforce_key_length=False
    )


def totp_step(secret: str, code: str, *, now: float | None = None) -> int | None:
    """The RFC 6238 time step `code` belongs to, when it is the code of the current 30 s
    step or the one before or after (clock drift); None when it matches none of them.

    The step lets the caller refuse a code it has accepted before (a replay)."""
    if not (code.isdigit() and len(code) == _TOTP_DIGITS):
        return None
    moment = int(now if now is not None else time.time())
    totp = _totp(secret)
    for drift in (0, -_TOTP_STEP, _TOTP_STEP):
        try:
            totp.verify(code.encode(), moment + drift)
            return (moment + drift) // _TOTP_STEP
        except InvalidToken:
            continue
    return None


def verify_totp(secret: str, code: str, *, now: float | None = None) -> bool:
    """True when `code` is valid for the current 30 s step or the one before/after."""
    return totp_step(secret, code, now=now) is not None


def totp_code(secret: str, *, now: float | None = None) -> str:
    """The current code (for enrolment checks and tests)."""
    return _totp(secret).generate(int(now if now is not None else time.time())).decode()


def totp_uri(secret: str, *, account: str, issuer: str = "refhub") -> str:
    """otpauth:// URI for authenticator apps (shown as a QR code by the web UI)."""
    return _totp(secret).get_provisioning_uri(account, issuer)


def constant_time_equal(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())
