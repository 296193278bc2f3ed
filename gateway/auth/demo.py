"""Demo organisations and staff: a hub operator, a sending and a receiving agency.

Idempotent: existing records are left as they are. Demo passwords and authenticator
secrets are fixed and printed, since the demo exists to be tried; never load it into a
hub that holds real data.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import uuid

from joserfc.jwk import OKPKey
from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.auth import credentials
from gateway.auth.clients import service as clients_service
from gateway.auth.clients.models import SystemClient
from gateway.auth.models import Organisation, OrgStatus, OrgType, User
from kernel import audit
from kernel.caller import Caller, CallerKind, Role
from kernel.settings import Settings

__all__ = ["DEMO_DOMAIN", "DEMO_PASSWORD", "demo_totp_secret", "load"]

DEMO_DOMAIN = "demo.refhub.org"
DEMO_PASSWORD = "demo passphrase 2026"  # noqa: S105 - demo accounts are public by design

ORGANISATIONS = (
    ("refhub Hub Operations", OrgType.HUB_OPERATOR, "hub"),
    ("Northside Resettlement Services", OrgType.RESETTLEMENT_NGO, "northside"),
    ("Harbour Child Protection Service", OrgType.CHILD_PROTECTION, "harbour"),
)
STAFF = {
    "hub": ((Role.HUB_ADMIN, "admin"),),
    "northside": (
        (Role.ORG_ADMIN, "admin"),
        (Role.SUPERVISOR, "supervisor"),
        (Role.CASE_WORKER, "caseworker"),
    ),
    "harbour": (
        (Role.ORG_ADMIN, "admin"),
        (Role.SUPERVISOR, "supervisor"),
        (Role.CASE_WORKER, "caseworker"),
    ),
}


def demo_totp_secret(email: str) -> str:
    """A fixed authenticator secret per demo account (derived from its email)."""
    return base64.b32encode(hashlib.sha256(f"refhub-demo:{email}".encode()).digest()[:20]).decode()


DEMO_CLIENT_SCOPES = ("system/*.cruds",)
_DEMO_ACTOR_ID = uuid.UUID("00000000-0000-4000-8000-00000000de70")


def _demo_client(session: Session, settings: Settings, org: Organisation, slug: str) -> str:
    """A system client for the organisation; its private key goes to a JWK file."""
    key_file = settings.data_dir / "demo-clients" / f"{slug}.json"
    name = f"{org.name} case-management system"
    existing = session.scalars(
        select(SystemClient).where(
            SystemClient.organisation_id == org.id, SystemClient.name == name
        )
    ).first()
    if existing is not None:
        note = "" if key_file.exists() else " (its key file is gone: register a new key)"
        return f"  system client {existing.id}, key {key_file}{note}"
    key = OKPKey.generate_key("Ed25519")
    public = {**key.as_dict(private=False), "kid": key.thumbprint(), "alg": "EdDSA"}
    loader = Caller(
        kind=CallerKind.SYSTEM,
        id=_DEMO_ACTOR_ID,
        organisation_id=org.id,
        roles=frozenset({Role.ORG_ADMIN}),
    )
    client = clients_service.register_client(
        session,
        loader,
        organisation_id=org.id,
        name=name,
        jwks={"keys": [public]},
        allowed_scopes=DEMO_CLIENT_SCOPES,
    )
    key_file.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(
            {
                "client_id": str(client.id),
                "token_url": f"{settings.public_base_url}/auth/token",
                "scope": " ".join(DEMO_CLIENT_SCOPES),
                "jwk": {**key.as_dict(private=True), "kid": public["kid"], "alg": "EdDSA"},
            },
            handle,
            indent=2,
        )
    return f"  system client {client.id}, private key {key_file}"


def load(session: Session, settings: Settings) -> list[str]:
    lines = [
        f"Staff sign-in (web UI, or POST /auth/login then /auth/login/totp); "
        f"password: {DEMO_PASSWORD!r}",
        "  current authenticator code: `refhub demo code EMAIL`",
    ]
    for name, org_type, slug in ORGANISATIONS:
        org = session.scalars(select(Organisation).where(Organisation.name == name)).first()
        if org is None:
            org = Organisation(
                name=name,
                org_type=org_type.value,
                status=OrgStatus.ACTIVE.value,
                contact_email=f"office@{slug}.{DEMO_DOMAIN}",
            )
            session.add(org)
            session.flush()
            audit.record(
                session,
                actor="system:demo",
                action="organisation.approve",
                organisation=str(org.id),
                subject=f"Organization/{org.id}",
            )
        lines.append(f"{name} ({org_type.value}), id {org.id}")
        for role, local in STAFF[slug]:
            email = f"{local}@{slug}.{DEMO_DOMAIN}"
            if session.scalars(select(User).where(User.email == email)).first() is None:
                session.add(
                    User(
                        organisation_id=org.id,
                        email=email,
                        display_name=f"{local.capitalize()} ({name})",
                        roles=[role.value],
                        team="team-1",
                        password_hash=credentials.hash_password(DEMO_PASSWORD),
                        totp_secret=demo_totp_secret(email),
                        totp_enabled=True,
                    )
                )
                session.flush()
            lines.append(f"  {role.value:<12} {email}")
        if org_type != OrgType.HUB_OPERATOR:
            lines.append(_demo_client(session, settings, org, slug))
    return lines
