"""Rules of system clients: registration and key rotation by admins, token issue, token use.

Admin functions take the caller first: `hub_admin`, or `org_admin` of the client's own
organisation. Another organisation's clients are reported as not found, never as forbidden.
Every change is audited; services flush, the boundary commits.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from gateway.auth.clients import scopes as scope_rules
from gateway.auth.clients.errors import (
    ClientNotFound,
    ClientRevoked,
    DuplicateKey,
    Forbidden,
    InvalidKey,
    InvalidKeySource,
    InvalidScopes,
    InvalidToken,
    KeysAtJwksUri,
)
from gateway.auth.clients.keys import (
    MAX_KEYS_PER_CLIENT,
    PublicKey,
    public_key_from_jwk,
    public_keys_from_jwks,
)
from gateway.auth.clients.models import AccessToken, ClientKey, ClientStatus, SystemClient
from gateway.auth.clients.remote_keys import check_jwks_uri
from gateway.auth.clients.tokens import hash_token
from gateway.auth.models import Organisation, OrgStatus
from kernel import audit
from kernel.caller import Caller, CallerKind, Role
from kernel.db import utcnow

__all__ = [
    "add_key",
    "caller_for_access_token",
    "last_tokens",
    "list_clients",
    "list_keys",
    "register_client",
    "revoke_client",
    "revoke_key",
]

MAX_CLIENT_SCOPES = 50


def _authorise(session: Session, caller: Caller, organisation_id: uuid.UUID) -> Organisation:
    """The organisation, if the caller may administer its clients.

    Raises:
        ClientNotFound: another organisation (to a non-hub-admin), or none with that id.
        Forbidden: the caller's own organisation, without `org_admin`.
    """
    if not caller.is_hub_admin and caller.organisation_id != organisation_id:
        raise ClientNotFound("No such organisation.")
    organisation = session.get(Organisation, organisation_id)
    if organisation is None:
        raise ClientNotFound("No such organisation.")
    if not caller.has_role(Role.ORG_ADMIN, Role.HUB_ADMIN):
        raise Forbidden("Managing system clients needs the org_admin role.")
    return organisation


def _client(session: Session, caller: Caller, client_id: uuid.UUID) -> SystemClient:
    client = session.get(SystemClient, client_id)
    if client is None or (
        not caller.is_hub_admin and client.organisation_id != caller.organisation_id
    ):
        raise ClientNotFound("No such system client.")
    _authorise(session, caller, client.organisation_id)
    return client


def _audit(
    session: Session, caller: Caller, action: str, client: SystemClient, **detail: Any
) -> None:
    audit.record(
        session,
        actor=caller.actor,
        action=action,
        organisation=str(client.organisation_id),
        subject=f"SystemClient/{client.id}",
        detail=detail,
    )


def _check_scopes(allowed_scopes: Sequence[str]) -> list[str]:
    checked = list(dict.fromkeys(allowed_scopes))
    if not 1 <= len(checked) <= MAX_CLIENT_SCOPES:
        raise InvalidScopes(f"give 1 to {MAX_CLIENT_SCOPES} scopes")
    unknown = [text for text in checked if scope_rules.parse_scope(text) is None]
    if unknown:
        raise InvalidScopes(
            "scopes must be SMART system scopes such as system/Task.rs or system/*.read"
        )
    return checked


def _key_source(
    jwks: dict[str, Any] | None, jwks_uri: str | None
) -> tuple[list[PublicKey], str | None]:
    """The keys to register, or the checked JWKS URL to fetch them from: exactly one."""
    if jwks is not None and jwks_uri is not None:
        raise InvalidKeySource(
            "give either the public keys (jwks) or their URL (jwks_uri), not both",
            field="jwks_uri",
        )
    if jwks_uri is not None:
        return [], check_jwks_uri(jwks_uri)
    if jwks is None:
        raise InvalidKeySource(
            "give the public keys as a JWKS (jwks) or the URL they are published at (jwks_uri)",
            field="jwks",
        )
    return public_keys_from_jwks(jwks), None


def register_client(
    session: Session,
    caller: Caller,
    *,
    organisation_id: uuid.UUID,
    name: str,
    jwks: dict[str, Any] | None = None,
    jwks_uri: str | None = None,
    allowed_scopes: Sequence[str],
) -> SystemClient:
    """Register a system client of an organisation with its public keys: a JWKS, or the
    URL where the client publishes its JWKS (fetched when it asks for a token).

    Raises:
        ClientNotFound, Forbidden: see `_authorise`.
        InvalidKeySource: both `jwks` and `jwks_uri`, neither, or a URL the hub will not
            fetch (not https, except http to a loopback host).
        InvalidKey: a key is private, weak, of an unsupported type, or the set is malformed.
        InvalidScopes: a scope is not a SMART system scope.
    """
    _authorise(session, caller, organisation_id)
    name = name.strip()
    if not 1 <= len(name) <= 200:
        raise InvalidScopes("a client needs a name of 1 to 200 characters")
    checked_scopes = _check_scopes(allowed_scopes)
    keys, checked_uri = _key_source(jwks, jwks_uri)
    client = SystemClient(
        organisation_id=organisation_id,
        name=name,
        status=ClientStatus.ACTIVE,
        allowed_scopes=checked_scopes,
        jwks_uri=checked_uri,
    )
    session.add(client)
    session.flush()
    for key in keys:
        session.add(ClientKey(client_id=client.id, kid=key.kid, alg=key.alg, public_jwk=key.jwk))
    session.flush()
    if checked_uri is None:
        _audit(session, caller, "auth.client.register", client, keys=len(keys))
    else:
        _audit(session, caller, "auth.client.register", client, jwks_uri=checked_uri)
    return client


def add_key(
    session: Session, caller: Caller, *, client_id: uuid.UUID, jwk: dict[str, Any]
) -> ClientKey:
    """Add a public key to an active client (rotation: old and new keys both work).

    Raises:
        ClientNotFound, Forbidden: as `register_client`.
        ClientRevoked: the client is revoked.
        KeysAtJwksUri: the client's keys are fetched from its JWKS URL.
        InvalidKey: as `register_client`, or the client already has ten active keys.
        DuplicateKey: the client has (or had) a key with this `kid`.
    """
    client = _client(session, caller, client_id)
    if client.status != ClientStatus.ACTIVE:
        raise ClientRevoked("A revoked client gets no new keys.")
    if client.jwks_uri is not None:
        raise KeysAtJwksUri(
            "This client's keys are fetched from its JWKS URL: publish new keys there."
        )
    key = public_key_from_jwk(jwk)
    existing = session.scalars(
        select(ClientKey).where(ClientKey.client_id == client.id, ClientKey.kid == key.kid)
    ).first()
    if existing is not None:
        raise DuplicateKey("This client has or had a key with that kid; choose a new kid.")
    active = session.scalar(
        select(func.count())
        .select_from(ClientKey)
        .where(ClientKey.client_id == client.id, ClientKey.revoked_at.is_(None))
    )
    if (active or 0) >= MAX_KEYS_PER_CLIENT:
        raise InvalidKey(f"a client has at most {MAX_KEYS_PER_CLIENT} active keys")
    row = ClientKey(client_id=client.id, kid=key.kid, alg=key.alg, public_jwk=key.jwk)
    session.add(row)
    session.flush()
    _audit(session, caller, "auth.client.key.add", client, kid=key.kid)
    return row


def revoke_key(session: Session, caller: Caller, *, client_id: uuid.UUID, kid: str) -> ClientKey:
    """Revoke one key at once; tokens obtained with it stop working too. Idempotent.

    Raises:
        ClientNotFound: no such client or key (or another organisation's).
        Forbidden: as `register_client`.
    """
    client = _client(session, caller, client_id)
    key = session.scalars(
        select(ClientKey).where(ClientKey.client_id == client.id, ClientKey.kid == kid)
    ).first()
    if key is None:
        raise ClientNotFound("No such key.")
    if key.revoked_at is None:
        now = utcnow()
        key.revoked_at = now
        session.execute(
            update(AccessToken)
            .where(AccessToken.client_key_id == key.id, AccessToken.revoked_at.is_(None))
            .values(revoked_at=now)
        )
        session.flush()
        _audit(session, caller, "auth.client.key.revoke", client, kid=kid)
    return key


def revoke_client(session: Session, caller: Caller, *, client_id: uuid.UUID) -> SystemClient:
    """Revoke a client at once: no new tokens, and its current tokens stop working.

    Idempotent. Raises ClientNotFound or Forbidden as `register_client`.
    """
    client = _client(session, caller, client_id)
    if client.status != ClientStatus.REVOKED:
        now = utcnow()
        client.status, client.revoked_at = ClientStatus.REVOKED, now
        session.execute(
            update(AccessToken)
            .where(AccessToken.client_id == client.id, AccessToken.revoked_at.is_(None))
            .values(revoked_at=now)
        )
        session.flush()
        _audit(session, caller, "auth.client.revoke", client)
    return client


def list_clients(
    session: Session, caller: Caller, *, organisation_id: uuid.UUID
) -> list[SystemClient]:
    """An organisation's clients, oldest first (revoked ones included)."""
    _authorise(session, caller, organisation_id)
    return list(
        session.scalars(
            select(SystemClient)
            .where(SystemClient.organisation_id == organisation_id)
            .order_by(SystemClient.created_at, SystemClient.id)
        )
    )


def last_tokens(
    session: Session, caller: Caller, *, organisation_id: uuid.UUID
) -> dict[uuid.UUID, dt.datetime]:
    """When each client of the organisation was last issued an access token (clients that
    never got one are left out)."""
    _authorise(session, caller, organisation_id)
    rows = session.execute(
        select(AccessToken.client_id, func.max(AccessToken.issued_at))
        .where(AccessToken.organisation_id == organisation_id)
        .group_by(AccessToken.client_id)
    )
    return {client_id: when for client_id, when in rows if when is not None}


def get_client(session: Session, caller: Caller, *, client_id: uuid.UUID) -> SystemClient:
    """One client, if the caller may administer it (else ClientNotFound / Forbidden)."""
    return _client(session, caller, client_id)


def list_keys(session: Session, caller: Caller, *, client_id: uuid.UUID) -> list[ClientKey]:
    """A client's keys, oldest first (revoked ones included)."""
    client = _client(session, caller, client_id)
    return list(
        session.scalars(
            select(ClientKey)
            .where(ClientKey.client_id == client.id)
            .order_by(ClientKey.created_at, ClientKey.kid)
        )
    )


def caller_for_access_token(
    session: Session, token: str, *, now: dt.datetime | None = None
) -> Caller:
    """The caller a bearer token stands for.

    Raises:
        InvalidToken: the token is unknown, expired or revoked, or its key or client is
            revoked, or its organisation is not active (suspension takes effect at once).
    """
    if not token or len(token) > 512:
        raise InvalidToken()
    now = now or utcnow()
    row = session.execute(
        select(AccessToken, SystemClient, ClientKey, Organisation)
        .join(SystemClient, SystemClient.id == AccessToken.client_id)
        .outerjoin(ClientKey, ClientKey.id == AccessToken.client_key_id)
        .join(Organisation, Organisation.id == AccessToken.organisation_id)
        .where(AccessToken.token_hash == hash_token(token))
    ).first()
    if row is None:
        raise InvalidToken()
    access, client, key, organisation = row
    if (
        access.expires_at <= now
        or access.revoked_at is not None
        or (key is None and client.jwks_uri is None)
        or (key is not None and key.revoked_at is not None)
        or client.status != ClientStatus.ACTIVE
        or client.organisation_id != organisation.id
        or organisation.status != OrgStatus.ACTIVE
    ):
        raise InvalidToken()
    return Caller(
        kind=CallerKind.CLIENT,
        id=client.id,
        organisation_id=organisation.id,
        scopes=frozenset(access.scopes),
    )
