"""Errors of system clients: admin failures (problem JSON) and OAuth token errors (RFC 6749)."""

from __future__ import annotations

import enum

from kernel.errors import RefhubError

__all__ = [
    "ClientError",
    "ClientNotFound",
    "ClientRevoked",
    "DuplicateKey",
    "Forbidden",
    "InvalidKey",
    "InvalidKeySource",
    "InvalidScopes",
    "InvalidToken",
    "KeysAtJwksUri",
    "OAuthError",
    "OAuthErrorCode",
]


class ClientError(RefhubError):
    """Root of the system-client errors."""

    code = "client-error"
    title = "System client error"


class ClientNotFound(ClientError):
    """No such client or organisation, or one the caller may not know exists."""

    status = 404
    code = "not-found"
    title = "Not found"


class Forbidden(ClientError):
    """The caller belongs to the organisation but lacks the role."""

    status = 403
    code = "forbidden"
    title = "Forbidden"


class InvalidKey(ClientError):
    """A submitted JWK or JWKS is unusable (private material, weak key, wrong curve, ...)."""

    status = 422
    code = "invalid-key"
    title = "Invalid key"


class InvalidKeySource(ClientError):
    """A client registered with both a JWKS and a JWKS URL, neither, or an unusable URL;
    `errors` names the field."""

    status = 422
    code = "invalid-key-source"
    title = "Invalid key source"

    def __init__(self, detail: str, *, field: str) -> None:
        super().__init__(detail)
        self.field = field
        self.errors = [{"location": f"body.{field}", "message": detail}]


class KeysAtJwksUri(ClientError):
    """Keys of a client registered by JWKS URL are published at that URL, not added here."""

    status = 409
    code = "keys-at-jwks-uri"
    title = "Keys are fetched from the client's JWKS URL"


class InvalidScopes(ClientError):
    """A client was registered with a scope that is not a SMART system scope."""

    status = 422
    code = "invalid-scope"
    title = "Invalid scope"


class DuplicateKey(ClientError):
    status = 409
    code = "duplicate-key"
    title = "Key id already registered"


class ClientRevoked(ClientError):
    status = 409
    code = "client-revoked"
    title = "Client revoked"


class InvalidToken(ClientError):
    """A bearer token that is unknown, expired, revoked, or whose client or organisation
    no longer acts."""

    status = 401
    code = "invalid-token"
    title = "Invalid token"


class OAuthErrorCode(enum.StrEnum):
    """RFC 6749 §5.2 error codes the token endpoint answers with (and RFC 8628's
    `slow_down` for a client address over its request rate)."""

    INVALID_REQUEST = "invalid_request"
    INVALID_CLIENT = "invalid_client"
    INVALID_SCOPE = "invalid_scope"
    UNSUPPORTED_GRANT_TYPE = "unsupported_grant_type"
    SLOW_DOWN = "slow_down"  # RFC 8628's token-endpoint error: too many requests, with 429


_STATUS = {OAuthErrorCode.INVALID_CLIENT: 401, OAuthErrorCode.SLOW_DOWN: 429}
_DESCRIPTION = {
    OAuthErrorCode.INVALID_REQUEST: "The token request is malformed.",
    OAuthErrorCode.INVALID_CLIENT: "Client authentication failed.",
    OAuthErrorCode.INVALID_SCOPE: "None of the requested scopes can be granted.",
    OAuthErrorCode.UNSUPPORTED_GRANT_TYPE: "Only client_credentials is supported.",
    OAuthErrorCode.SLOW_DOWN: "Too many token requests from this address; retry after the "
    "number of seconds in Retry-After.",
}


class OAuthError(ClientError):
    """A refused token request.

    `error` and `description` go to the caller (never which check failed); `reason` names
    the failed check for the audit record only.
    """

    code = "oauth-error"
    title = "Token request refused"

    def __init__(self, error: OAuthErrorCode, reason: str) -> None:
        super().__init__(_DESCRIPTION[error])
        self.error = error
        self.reason = reason
        self.status = _STATUS.get(error, 400)

    @property
    def description(self) -> str:
        return _DESCRIPTION[self.error]
