"""Factories for identity tests: organisations, callers, system clients, signed assertions."""

from __future__ import annotations

import functools
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from joserfc import jwt
from joserfc.jwk import ECKey, OKPKey, RSAKey
from sqlalchemy.orm import Session

from gateway.auth.clients import service as clients_service
from gateway.auth.clients.models import SystemClient
from gateway.auth.clients.tokens import ASSERTION_TYPE, GRANT_TYPE
from gateway.auth.models import Organisation, OrgStatus
from kernel.caller import Caller, CallerKind, Role

PrivateKey = RSAKey | ECKey | OKPKey
DEFAULT_SCOPES = ("system/ServiceRequest.cruds", "system/Task.rs")


# Organisations and callers


def make_organisation(
    session: Session, *, status: OrgStatus = OrgStatus.ACTIVE, name: str | None = None
) -> Organisation:
    org = Organisation(
        name=name or f"Org {uuid.uuid4().hex[:8]}",
        org_type="resettlement_ngo",
        status=status.value,
        contact_email="office@example.org",
    )
    session.add(org)
    session.flush()
    return org


def staff_caller(org: Organisation | uuid.UUID, *roles: Role) -> Caller:
    """A signed-in staff member of `org` (or the organisation with that id) with `roles`."""
    org_id = org if isinstance(org, uuid.UUID) else org.id
    return Caller(
        kind=CallerKind.USER, id=uuid.uuid4(), organisation_id=org_id, roles=frozenset(roles)
    )


def org_admin(org: Organisation | uuid.UUID) -> Caller:
    return staff_caller(org, Role.ORG_ADMIN)


def hub_admin(org: Organisation | uuid.UUID) -> Caller:
    return staff_caller(org, Role.HUB_ADMIN)


# Keys


@functools.cache
def _rsa_key() -> RSAKey:
    return RSAKey.generate_key(2048)  # slow to make: one per test run


def private_key(alg: str) -> PrivateKey:
    """A fresh private key for `alg` (RSA keys are reused: generating them is slow)."""
    if alg == "RS384":
        return _rsa_key()
    if alg == "ES384":
        return ECKey.generate_key("P-384")
    if alg == "EdDSA":
        return OKPKey.generate_key("Ed25519")
    raise ValueError(alg)


def public_jwk(key: PrivateKey, kid: str) -> dict[str, Any]:
    return {**key.as_dict(private=False), "kid": kid}


# System clients


@dataclass
class RegisteredClient:
    """A registered client and the private keys it signs with, by kid."""

    client: SystemClient
    keys: dict[str, tuple[str, PrivateKey]] = field(default_factory=dict)

    @property
    def client_id(self) -> str:
        return str(self.client.id)

    def assertion(self, audience: str, /, *, kid: str | None = None, **overrides: Any) -> str:
        """A valid assertion signed with `kid` (default: the first key); `overrides` replace
        claims (None removes one) or, with a `header_` prefix, header parameters."""
        kid = kid or next(iter(self.keys))
        alg, key = self.keys[kid]
        return sign_assertion(self.client_id, key, audience, kid=kid, alg=alg, **overrides)


def make_client(
    session: Session,
    org: Organisation,
    *,
    algs: tuple[str, ...] = ("ES384",),
    scopes: tuple[str, ...] = DEFAULT_SCOPES,
) -> RegisteredClient:
    """Register a client of `org` (as its org admin) with one key per algorithm."""
    keys = {f"key-{alg.lower()}-{uuid.uuid4().hex[:6]}": (alg, private_key(alg)) for alg in algs}
    jwks = {"keys": [public_jwk(key, kid) for kid, (_alg, key) in keys.items()]}
    client = clients_service.register_client(
        session,
        org_admin(org),
        organisation_id=org.id,
        name="Case management system",
        jwks=jwks,
        allowed_scopes=list(scopes),
    )
    return RegisteredClient(client=client, keys=keys)


def sign_assertion(
    client_id: str, key: PrivateKey, audience: str, /, *, kid: str, alg: str, **overrides: Any
) -> str:
    now = int(time.time())
    header: dict[str, Any] = {"alg": alg, "kid": kid}
    claims: dict[str, Any] = {
        "iss": client_id,
        "sub": client_id,
        "aud": audience,
        "exp": now + 240,
        "iat": now,
        "jti": uuid.uuid4().hex,
    }
    for name, value in overrides.items():
        target, name = (header, name[7:]) if name.startswith("header_") else (claims, name)
        if value is None:
            target.pop(name, None)
        else:
            target[name] = value
    return jwt.encode(header, claims, key, algorithms=[alg])


def token_form(assertion: str, scope: str = "system/Task.rs", **overrides: str) -> dict[str, str]:
    """The form a SMART Backend Services client posts to the token endpoint."""
    return {
        "grant_type": GRANT_TYPE,
        "client_assertion_type": ASSERTION_TYPE,
        "client_assertion": assertion,
        "scope": scope,
        **overrides,
    }
