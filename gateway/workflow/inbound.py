"""Submissions signed by the sending agency: a compact JWS verified against its keys.

An agency may sign what it submits (`Content-Type: application/jose`, the body a compact
JWS whose payload is the case summary, CSV or FHIR Bundle). The signature is checked
against the public keys the agency registered for its system clients (the same JWKS its
SMART token requests are signed with): `kid` must name an active key of the caller's own
organisation, `alg` must be that key's algorithm (RS384, ES384 or EdDSA; never `none`,
never HMAC), and no key may be fetched from the message (`jku`, `x5u`, `jwk`, `x5c` are
refused). A signature that does not verify is refused and audited; nothing is stored.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass

from joserfc import jws
from joserfc.errors import JoseError
from joserfc.jwa import EdDSAAlgorithm
from joserfc.jws import JWSRegistry
from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.auth.clients.errors import InvalidKey
from gateway.auth.clients.keys import ALGORITHMS, verification_key
from gateway.auth.clients.models import ClientKey, SystemClient
from kernel import audit
from kernel.audit import Outcome
from kernel.caller import Caller
from kernel.crypto import sha256_hex
from kernel.errors import RefhubError

__all__ = ["JOSE", "SignatureRefused", "Verified", "verify_signed"]

JOSE = "application/jose"
_FORBIDDEN = frozenset({"jku", "x5u", "jwk", "x5c", "crit"})


class _EdDSA(EdDSAAlgorithm):
    security_warning = None  # type: ignore[assignment]  # the name is used deliberately


class _Registry(JWSRegistry):
    algorithms = {**JWSRegistry.algorithms, "EdDSA": _EdDSA()}


_REGISTRIES = {alg: _Registry(algorithms=[alg]) for alg in ALGORITHMS}


class SignatureRefused(RefhubError):
    """The agency's signature over its submission does not verify (audited)."""

    status = 400
    code = "signature-invalid"
    title = "Signature does not verify"
    keeps_writes = True  # the refusal is recorded; raised before any change


@dataclass(frozen=True)
class Verified:
    payload: bytes
    kid: str
    alg: str
    digest: str


def _header(token: str) -> dict[str, object]:
    try:
        segment = token.split(".")[0]
        padded = segment + "=" * (-len(segment) % 4)
        value = json.loads(base64.urlsafe_b64decode(padded))
    except (ValueError, IndexError, UnicodeDecodeError, RecursionError):
        return {}
    return value if isinstance(value, dict) else {}


def verify_signed(session: Session, caller: Caller, body: bytes) -> Verified:
    """The payload of the caller's signed submission, or `SignatureRefused`."""
    token = body.decode("ascii", errors="replace").strip()
    header = _header(token)
    kid, alg = header.get("kid"), header.get("alg")

    def refuse(reason: str) -> SignatureRefused:
        audit.record(
            session,
            actor=caller.actor,
            action="submission.signature",
            outcome=Outcome.DENIED,
            organisation=str(caller.organisation_id),
            detail={"reason": reason, "kid": str(kid)[:200] if kid else None},
        )
        return SignatureRefused(
            f"The submission's signature was refused ({reason}); nothing was stored. Sign "
            "with a key registered for your organisation's system client (RS384, ES384 or "
            "EdDSA, compact JWS, `kid` in the header)."
        )

    if token.count(".") != 2 or not header:
        raise refuse("not-a-compact-jws")
    if _FORBIDDEN & set(header):
        raise refuse("key-in-header")
    if not isinstance(kid, str) or not isinstance(alg, str) or alg not in ALGORITHMS:
        raise refuse("unsupported-alg-or-no-kid")
    key_row = session.scalars(
        select(ClientKey)
        .join(SystemClient, SystemClient.id == ClientKey.client_id)
        .where(
            SystemClient.organisation_id == caller.organisation_id,
            SystemClient.revoked_at.is_(None),
            ClientKey.kid == kid,
            ClientKey.revoked_at.is_(None),
        )
    ).first()
    if key_row is None:
        raise refuse("unknown-kid")
    if key_row.alg != alg:
        raise refuse("alg-mismatch")
    try:
        key = verification_key(key_row.public_jwk)
        compact = jws.deserialize_compact(token, key, algorithms=[alg], registry=_REGISTRIES[alg])
    except (JoseError, InvalidKey, ValueError, TypeError):
        raise refuse("bad-signature") from None
    payload = bytes(compact.payload)
    digest = sha256_hex(payload)
    audit.record(
        session,
        actor=caller.actor,
        action="submission.signature",
        organisation=str(caller.organisation_id),
        detail={"kid": kid, "alg": alg, "digest": digest},
    )
    return Verified(payload=payload, kid=kid, alg=alg, digest=digest)
