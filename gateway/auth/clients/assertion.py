"""JWT client assertions (RFC 7523, SMART Backend Services): inspect, verify, check claims.

Pure functions: the service looks the client and key up between `inspect` (which reads the
unverified header and `iss` to know whose key to use) and `verify`. Every failure raises
`OAuthError(invalid_client)` whose `reason` names the check, for the audit record only.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
import math
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwa import EdDSAAlgorithm
from joserfc.jws import JWSRegistry

from gateway.auth.clients.errors import InvalidKey, OAuthError, OAuthErrorCode
from gateway.auth.clients.keys import ALGORITHMS, verification_key

__all__ = [
    "CLOCK_SKEW",
    "MAX_ASSERTION_BYTES",
    "MAX_ASSERTION_LIFETIME",
    "UnverifiedAssertion",
    "VerifiedAssertion",
    "inspect",
    "verify",
]

MAX_ASSERTION_BYTES = 8192
MAX_ASSERTION_LIFETIME = dt.timedelta(minutes=5)
CLOCK_SKEW = dt.timedelta(seconds=60)
MAX_JTI_LENGTH = 255
# Keys come only from the registered JWKS: a header pointing at or carrying a key is refused
# outright (never fetched), and no critical extension is understood.
_FORBIDDEN_HEADERS = frozenset({"jku", "x5u", "jwk", "x5c", "crit"})
_COMPACT = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+")


class _EdDSA(EdDSAAlgorithm):
    # RFC 9864 deprecates the name "EdDSA" in favour of "Ed25519"; SMART and this hub still
    # use it deliberately, so joserfc's warning on every verification would only be noise.
    security_warning = None  # type: ignore[assignment]  # joserfc's base allows None


class _AssertionRegistry(JWSRegistry):
    algorithms = {**JWSRegistry.algorithms, "EdDSA": _EdDSA()}


# One registry per accepted algorithm, each allowing exactly that algorithm.
_REGISTRIES = {alg: _AssertionRegistry(algorithms=[alg]) for alg in ALGORITHMS}


def _refuse(reason: str) -> OAuthError:
    return OAuthError(OAuthErrorCode.INVALID_CLIENT, reason)


@dataclass(frozen=True)
class UnverifiedAssertion:
    """What an assertion claims before its signature is checked: trust none of it."""

    token: str
    client_id: uuid.UUID
    kid: str
    alg: str


@dataclass(frozen=True)
class VerifiedAssertion:
    """A signed, current, correctly addressed assertion (replay not yet checked)."""

    client_id: uuid.UUID
    jti: str
    expires_at: dt.datetime


def _json_segment(segment: str) -> dict[str, Any]:
    try:
        value = json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))
    except (binascii.Error, ValueError, RecursionError) as exc:
        raise _refuse("malformed") from exc
    if not isinstance(value, dict):
        raise _refuse("malformed")
    return value


def inspect(token: str) -> UnverifiedAssertion:
    """Read an assertion's header and issuer without trusting them.

    Refuses, before any key is touched: an oversized or malformed token, an algorithm off
    the allow-list, a `jku`/`x5u`/`jwk`/`x5c`/`crit` header, no `kid`, a non-UUID `iss`.
    """
    if len(token) > MAX_ASSERTION_BYTES:
        raise _refuse("oversized")
    if not token.isascii() or _COMPACT.fullmatch(token) is None:
        raise _refuse("malformed")
    header_segment, payload_segment, _ = token.split(".")
    header = _json_segment(header_segment)
    if header.get("alg") not in ALGORITHMS:
        raise _refuse("alg-not-allowed")
    if _FORBIDDEN_HEADERS & set(header):
        raise _refuse("forbidden-header")
    kid = header.get("kid")
    if not isinstance(kid, str) or not kid:
        raise _refuse("no-kid")
    issuer = _json_segment(payload_segment).get("iss")
    try:
        client_id = uuid.UUID(issuer) if isinstance(issuer, str) else None
    except ValueError:
        client_id = None
    if client_id is None or str(client_id) != issuer:
        raise _refuse("unknown-client")
    return UnverifiedAssertion(token=token, client_id=client_id, kid=kid, alg=header["alg"])


def _number(claims: Mapping[str, Any], name: str) -> float | None:
    value = claims.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _refuse(f"bad-{name}")
    number = float(value)
    if not math.isfinite(number) or abs(number) > 1e11:  # NaN, Infinity, beyond year 5000
        raise _refuse(f"bad-{name}")
    return number


def verify(
    assertion: UnverifiedAssertion,
    *,
    public_jwk: Mapping[str, Any],
    key_alg: str,
    token_url: str,
    now: dt.datetime,
) -> VerifiedAssertion:
    """Check the signature with the registered key and algorithm, then the claims.

    `iss` = `sub` = client id, `aud` = the token URL (a string, or a one-element list),
    `exp` in the future and at most five minutes ahead, `iat` and `nbf` (if present) not
    beyond the clock skew, a `jti`.
    """
    if assertion.alg != key_alg or key_alg not in ALGORITHMS:
        raise _refuse("alg-mismatch")
    try:
        key = verification_key(public_jwk)
        claims = jwt.decode(
            assertion.token, key, algorithms=[key_alg], registry=_REGISTRIES[key_alg]
        ).claims
    except (JoseError, InvalidKey, ValueError, TypeError) as exc:
        raise _refuse("bad-signature") from exc
    client_id = str(assertion.client_id)
    if claims.get("iss") != client_id or claims.get("sub") != client_id:
        raise _refuse("iss-sub-mismatch")
    audience = claims.get("aud")
    if audience != token_url and audience != [token_url]:
        raise _refuse("wrong-aud")
    current = now.timestamp()
    expires = _number(claims, "exp")
    if expires is None:
        raise _refuse("no-exp")
    if expires <= current:
        raise _refuse("expired")
    if expires > current + MAX_ASSERTION_LIFETIME.total_seconds():
        raise _refuse("exp-too-far")
    for name in ("iat", "nbf"):
        stamp = _number(claims, name)
        if stamp is not None and stamp > current + CLOCK_SKEW.total_seconds():
            raise _refuse(f"{name}-in-future")
    jti = claims.get("jti")
    if not isinstance(jti, str) or not jti or len(jti) > MAX_JTI_LENGTH:
        raise _refuse("no-jti")
    return VerifiedAssertion(
        client_id=assertion.client_id,
        jti=jti,
        expires_at=dt.datetime.fromtimestamp(expires, dt.UTC),
    )
