"""Tables of system clients: the client, its public keys, the replay store, access tokens."""

from __future__ import annotations

import datetime as dt
import enum
import uuid
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from kernel.db import Base, new_id, utcnow

__all__ = ["AccessToken", "ClientKey", "ClientStatus", "SystemClient", "UsedAssertion"]


class ClientStatus(enum.StrEnum):
    ACTIVE = "active"
    REVOKED = "revoked"


class SystemClient(Base):
    """An agency's software acting for one organisation; `id` is its OAuth `client_id`.

    Its public keys are either registered here (`ClientKey` rows, from a pasted JWKS) or,
    when `jwks_uri` is set, fetched from that address when it asks for a token.
    """

    __tablename__ = "gateway_auth_client"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    organisation_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("gateway_auth_organisation.id"), index=True
    )
    name: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(20), default=ClientStatus.ACTIVE)
    allowed_scopes: Mapped[list[str]] = mapped_column(JSON, default=list)
    jwks_uri: Mapped[str | None] = mapped_column(String(2048))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[dt.datetime | None]


class ClientKey(Base):
    """One registered public key (JWK) of a client; several may be active during rotation."""

    __tablename__ = "gateway_auth_client_key"
    __table_args__ = (UniqueConstraint("client_id", "kid"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    client_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("gateway_auth_client.id"), index=True)
    kid: Mapped[str] = mapped_column(String(200))
    alg: Mapped[str] = mapped_column(String(10))
    public_jwk: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[dt.datetime | None]


class UsedAssertion(Base):
    """The replay store: a `jti` a client has used, kept until its assertion expires."""

    __tablename__ = "gateway_auth_used_assertion"
    __table_args__ = (UniqueConstraint("client_id", "jti"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    client_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("gateway_auth_client.id"))
    jti: Mapped[str] = mapped_column(String(255))
    expires_at: Mapped[dt.datetime] = mapped_column(index=True)


class AccessToken(Base):
    """An issued access token, by the SHA-256 of the opaque token (the token is never stored).

    `client_key_id` is the registered key the assertion was signed with; none for a client
    whose keys come from its `jwks_uri` (the token's audit record names the `kid`).
    """

    __tablename__ = "gateway_auth_access_token"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    client_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("gateway_auth_client.id"), index=True)
    client_key_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("gateway_auth_client_key.id"), index=True
    )
    organisation_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("gateway_auth_organisation.id"), index=True
    )
    scopes: Mapped[list[str]] = mapped_column(JSON, default=list)
    issued_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(index=True)
    revoked_at: Mapped[dt.datetime | None]
