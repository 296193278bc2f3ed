"""The token endpoint's rules: a client-credentials grant with a JWT client assertion.

`issue_token` runs every check of SMART Backend Services; each refusal rolls back what the
attempt wrote, is audited as denied on the caller's session (the router answers normally,
so the request's transaction commits the record), and raises `OAuthError`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from gateway.auth.clients import assertion as assertions
from gateway.auth.clients import remote_keys
from gateway.auth.clients import scopes as scope_rules
from gateway.auth.clients.errors import OAuthError, OAuthErrorCode
from gateway.auth.clients.models import (
    AccessToken,
    ClientKey,
    ClientStatus,
    SystemClient,
    UsedAssertion,
)
from gateway.auth.models import Organisation, OrgStatus
from kernel import audit
from kernel.db import utcnow

__all__ = [
    "ACCESS_TOKEN_LIFETIME",
    "ASSERTION_TYPE",
    "GRANT_TYPE",
    "IssuedToken",
    "TokenRequest",
    "hash_token",
    "issue_token",
]

ACCESS_TOKEN_LIFETIME = dt.timedelta(seconds=300)
GRANT_TYPE = "client_credentials"
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
AUDIT_ACTION = "auth.token.issue"


@dataclass(frozen=True)
class TokenRequest:
    """The token request's form parameters; `malformed` when the form itself was unusable
    (a repeated parameter, a body too large, not form-encoded)."""

    grant_type: str | None = None
    client_assertion_type: str | None = None
    client_assertion: str | None = None
    scope: str | None = None
    client_id: str | None = None
    malformed: bool = False


@dataclass(frozen=True)
class IssuedToken:
    access_token: str
    expires_in: int
    scope: str


def hash_token(token: str) -> str:
    """The stored form of an access token: SHA-256, hex."""
    return hashlib.sha256(token.encode()).hexdigest()


def _refuse(error: OAuthErrorCode, reason: str) -> OAuthError:
    return OAuthError(error, reason)


def _check_form(request: TokenRequest) -> str:
    """The assertion, if the form asks for a client-credentials grant with a JWT assertion."""
    if request.malformed:
        raise _refuse(OAuthErrorCode.INVALID_REQUEST, "malformed-form")
    if not request.grant_type:
        raise _refuse(OAuthErrorCode.INVALID_REQUEST, "no-grant-type")
    if request.grant_type != GRANT_TYPE:
        raise _refuse(OAuthErrorCode.UNSUPPORTED_GRANT_TYPE, "unsupported-grant-type")
    if not request.client_assertion_type or not request.client_assertion or not request.scope:
        raise _refuse(OAuthErrorCode.INVALID_REQUEST, "missing-parameter")
    if request.client_assertion_type != ASSERTION_TYPE:
        raise _refuse(OAuthErrorCode.INVALID_CLIENT, "unsupported-assertion-type")
    return request.client_assertion


def _signing_key(
    session: Session, client: SystemClient, kid: str
) -> tuple[uuid.UUID | None, dict[str, Any], str]:
    """The registered key's id (None for a key from the JWKS URL), JWK and algorithm."""
    invalid = OAuthErrorCode.INVALID_CLIENT
    if client.jwks_uri is not None:
        try:
            fetched = remote_keys.CACHE.key(client.id, client.jwks_uri, kid)
        except remote_keys.KeyUnavailable as exc:
            raise _refuse(invalid, exc.reason) from exc
        return None, fetched.jwk, fetched.alg
    key = session.scalars(
        select(ClientKey).where(ClientKey.client_id == client.id, ClientKey.kid == kid)
    ).first()
    if key is None:
        raise _refuse(invalid, "unknown-kid")
    if key.revoked_at is not None:
        raise _refuse(invalid, "key-revoked")
    return key.id, key.public_jwk, key.alg


def _issue(
    session: Session,
    request: TokenRequest,
    token_url: str,
    now: dt.datetime,
    seen: list[tuple[str, str]],
) -> IssuedToken:
    invalid = OAuthErrorCode.INVALID_CLIENT
    unverified = assertions.inspect(_check_form(request))
    if request.client_id is not None and request.client_id != str(unverified.client_id):
        raise _refuse(invalid, "client-id-mismatch")
    client = session.get(SystemClient, unverified.client_id)
    if client is None:
        raise _refuse(invalid, "unknown-client")
    seen.append((str(client.id), str(client.organisation_id)))
    if client.status != ClientStatus.ACTIVE:
        raise _refuse(invalid, "client-revoked")
    organisation = session.get(Organisation, client.organisation_id)
    if organisation is None or organisation.status != OrgStatus.ACTIVE:
        raise _refuse(invalid, "organisation-inactive")
    key_id, public_jwk, key_alg = _signing_key(session, client, unverified.kid)
    verified = assertions.verify(
        unverified, public_jwk=public_jwk, key_alg=key_alg, token_url=token_url, now=now
    )
    try:
        with session.begin_nested():
            session.add(
                UsedAssertion(client_id=client.id, jti=verified.jti, expires_at=verified.expires_at)
            )
    except IntegrityError as exc:
        raise _refuse(invalid, "replayed-jti") from exc
    granted = scope_rules.grantable(request.scope or "", client.allowed_scopes)
    if not granted:
        raise _refuse(OAuthErrorCode.INVALID_SCOPE, "no-grantable-scope")
    token = secrets.token_urlsafe(32)
    row = AccessToken(
        token_hash=hash_token(token),
        client_id=client.id,
        client_key_id=key_id,
        organisation_id=organisation.id,
        scopes=granted,
        issued_at=now,
        expires_at=now + ACCESS_TOKEN_LIFETIME,
    )
    session.add(row)
    session.flush()
    audit.record(
        session,
        actor=f"client:{client.id}",
        action=AUDIT_ACTION,
        organisation=str(organisation.id),
        subject=f"SystemClient/{client.id}",
        detail={"token_id": str(row.id), "kid": unverified.kid, "scopes": len(granted)},
    )
    return IssuedToken(
        access_token=token,
        expires_in=int(ACCESS_TOKEN_LIFETIME.total_seconds()),
        scope=" ".join(granted),
    )


def issue_token(
    session: Session, *, request: TokenRequest, token_url: str, now: dt.datetime | None = None
) -> IssuedToken:
    """Issue an access token for a valid client-credentials request, or refuse it.

    Args:
        request: the form parameters.
        token_url: this hub's token URL, the only accepted assertion audience.
        now: the current time (tests pass their own clock).

    Raises:
        OAuthError: with the RFC 6749 error for the caller and the failed check as `reason`;
            the refusal is already audited on `session`, which the boundary must commit.
    """
    now = now or utcnow()
    seen: list[tuple[str, str]] = []  # (client id, organisation id) once the client is known
    try:
        with session.begin_nested():
            return _issue(session, request, token_url, now, seen)
    except OAuthError as exc:
        # Recorded after the rollback of the attempt: the audit kernel drops records queued
        # before any rollback on the session, savepoints included.
        client_id, organisation_id = seen[0] if seen else (None, None)
        audit.record(
            session,
            actor="anonymous",
            action=AUDIT_ACTION,
            outcome=audit.Outcome.DENIED,
            organisation=organisation_id,
            subject=f"SystemClient/{client_id}" if client_id else None,
            detail={"error": exc.error.value, "reason": exc.reason},
        )
        raise
