"""Public OAuth routes of system clients: the token endpoint and SMART discovery.

Both are deliberately unauthenticated: they are how a client becomes authenticated. Token
errors are RFC 6749 JSON (`{"error": "invalid_client", ...}`), not problem JSON; a client
address over its token request rate gets `slow_down` with 429 and `Retry-After`.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import parse_qsl

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from gateway.auth import throttle
from gateway.auth.clients import scopes as scope_rules
from gateway.auth.clients import tokens
from gateway.auth.clients.errors import OAuthError, OAuthErrorCode
from gateway.auth.clients.keys import ALGORITHMS
from gateway.auth.clients.schemas import OAuthErrorResponse, SmartConfiguration, TokenResponse
from gateway.dependencies import DbSession, RuntimeDep
from kernel.settings import Settings

__all__ = ["MAX_FORM_BYTES", "read_token_request", "router", "token_url"]

router = APIRouter(tags=["auth"])

MAX_FORM_BYTES = 16 * 1024
_FORM_TYPE = "application/x-www-form-urlencoded"
_FIELDS = frozenset(
    {"grant_type", "client_assertion_type", "client_assertion", "scope", "client_id"}
)
_NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
_FORM = {  # read by `read_token_request`, not by FastAPI: documented here
    "type": "object",
    "required": ["grant_type", "client_assertion_type", "client_assertion"],
    "properties": {
        "grant_type": {"const": tokens.GRANT_TYPE},
        "client_assertion_type": {"const": tokens.ASSERTION_TYPE},
        "client_assertion": {"type": "string", "description": "The signed JWT (RFC 7523)."},
        "scope": {"type": "string", "description": "Space-separated SMART system scopes."},
        "client_id": {"type": "string"},
    },
}


def token_url(settings: Settings) -> str:
    """The token endpoint's public URL: the `aud` every client assertion must carry."""
    return f"{settings.public_base_url}/auth/token"


async def read_token_request(request: Request) -> tokens.TokenRequest:
    """The token form, read with a size limit; repeated parameters make it malformed
    (RFC 6749 §3.2), unknown ones are ignored."""
    media_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if media_type != _FORM_TYPE:
        return tokens.TokenRequest(malformed=True)
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_FORM_BYTES:
            return tokens.TokenRequest(malformed=True)
    try:
        pairs = parse_qsl(
            body.decode("utf-8"), keep_blank_values=True, strict_parsing=True, max_num_fields=20
        )
    except ValueError:  # includes UnicodeDecodeError
        return tokens.TokenRequest(malformed=True)
    fields: dict[str, str] = {}
    for name, value in pairs:
        if name in _FIELDS:
            if name in fields:
                return tokens.TokenRequest(malformed=True)
            fields[name] = value
    return tokens.TokenRequest(
        grant_type=fields.get("grant_type"),
        client_assertion_type=fields.get("client_assertion_type"),
        client_assertion=fields.get("client_assertion"),
        scope=fields.get("scope"),
        client_id=fields.get("client_id"),
    )


TokenForm = Annotated[tokens.TokenRequest, Depends(read_token_request)]


def _oauth_error(exc: OAuthError, headers: dict[str, str] | None = None) -> JSONResponse:
    body = OAuthErrorResponse(error=exc.error, error_description=exc.description)
    return JSONResponse(
        body.model_dump(mode="json"),
        status_code=exc.status,
        headers={**_NO_STORE, **(headers or {})},
    )


@router.post(
    "/auth/token",
    response_model=TokenResponse,
    responses={
        400: {"model": OAuthErrorResponse},
        401: {"model": OAuthErrorResponse},
        429: {"model": OAuthErrorResponse, "description": "slow_down, with Retry-After"},
    },
    summary="Exchange a signed client assertion for an access token (SMART Backend Services)",
    openapi_extra={"requestBody": {"required": True, "content": {_FORM_TYPE: {"schema": _FORM}}}},
)
def issue_token(
    refusal: throttle.TokenRefusal, form: TokenForm, session: DbSession, runtime: RuntimeDep
) -> JSONResponse:
    if refusal is not None:  # counted before the form is checked or the database is asked
        return _oauth_error(OAuthError(OAuthErrorCode.SLOW_DOWN, "throttled"), refusal.headers)
    try:
        issued = tokens.issue_token(session, request=form, token_url=token_url(runtime.settings))
    except OAuthError as exc:
        # Answered, not raised: the request's transaction commits the denial's audit record.
        return _oauth_error(exc)
    response = TokenResponse(
        access_token=issued.access_token, expires_in=issued.expires_in, scope=issued.scope
    )
    return JSONResponse(response.model_dump(), headers=_NO_STORE)


@router.get(
    "/.well-known/smart-configuration",
    response_model=SmartConfiguration,
    summary="SMART discovery: how system clients obtain tokens",
)
def smart_configuration(runtime: RuntimeDep) -> SmartConfiguration:
    return SmartConfiguration(
        token_endpoint=token_url(runtime.settings),
        token_endpoint_auth_methods_supported=["private_key_jwt"],
        token_endpoint_auth_signing_alg_values_supported=list(ALGORITHMS),
        grant_types_supported=[tokens.GRANT_TYPE],
        scopes_supported=list(scope_rules.SCOPES_SUPPORTED),
        capabilities=["client-confidential-asymmetric"],
    )
