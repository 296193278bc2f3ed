"""API shapes of system clients: the token exchange, SMART discovery, and admin payloads."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from gateway.auth.clients.errors import OAuthErrorCode

__all__ = [
    "ClientCreate",
    "ClientRead",
    "KeyCreate",
    "KeyRead",
    "OAuthErrorResponse",
    "SmartConfiguration",
    "TokenResponse",
]


class TokenResponse(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105 - the OAuth token type, not a secret
    expires_in: int
    scope: str


class OAuthErrorResponse(BaseModel):
    """RFC 6749 §5.2 error body (never says which check failed)."""

    error: OAuthErrorCode
    error_description: str


class SmartConfiguration(BaseModel):
    """The SMART App Launch discovery document, Backend Services part."""

    token_endpoint: str
    token_endpoint_auth_methods_supported: list[str]
    token_endpoint_auth_signing_alg_values_supported: list[str]
    grant_types_supported: list[str]
    scopes_supported: list[str]
    capabilities: list[str]


class ClientCreate(BaseModel):
    """A new client with its public keys: `jwks` or `jwks_uri`, exactly one of them."""

    name: str = Field(min_length=1, max_length=200)
    jwks: dict[str, Any] | None = Field(
        default=None,
        description='Public keys as a JWK Set: {"keys": [...]}. Give this or `jwks_uri`.',
    )
    jwks_uri: str | None = Field(
        default=None,
        max_length=2048,
        description="The https URL where the client publishes its JWK Set (RFC 7591), "
        "fetched when it asks for a token: kept for the response's Cache-Control max-age "
        "(5 minutes without one, 30 s to 24 h), fetched again when an assertion names a new "
        "kid (at most every 30 s), at most 64 KB, within 5 s. http only to 127.0.0.1, ::1 or "
        "localhost. Give this or `jwks`.",
        examples=["https://cms.agency.example/.well-known/jwks.json"],
    )
    allowed_scopes: list[str] = Field(
        min_length=1, max_length=50, examples=[["system/ServiceRequest.cruds", "system/Task.rs"]]
    )


class KeyCreate(BaseModel):
    jwk: dict[str, Any] = Field(description="One public JWK with a new `kid`.")


class ClientRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID = Field(description="The OAuth client_id (iss and sub of its assertions).")
    organisation_id: uuid.UUID
    name: str
    status: str
    allowed_scopes: list[str]
    jwks_uri: str | None = Field(
        description="Where the client's keys are fetched from; null: keys registered here."
    )
    created_at: dt.datetime
    revoked_at: dt.datetime | None


class KeyRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    kid: str
    alg: str
    public_jwk: dict[str, Any]
    created_at: dt.datetime
    revoked_at: dt.datetime | None
