"""`GET /.well-known/jwks.json`: the public keys that sign the hub's messages (public)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse, Response

from gateway.delivery.keys import public_jwks
from gateway.dependencies import RuntimeDep

__all__ = ["router"]

router = APIRouter(tags=["delivery"])


_JWKS = {"type": "object", "required": ["keys"], "properties": {"keys": {"type": "array"}}}


@router.get(
    "/.well-known/jwks.json",
    summary="The hub's message-signing public keys (JWKS)",
    response_class=Response,
    responses={200: {"content": {"application/jwk-set+json": {"schema": _JWKS}}}},
)
def jwks(runtime: RuntimeDep) -> JSONResponse:
    body: dict[str, Any] = public_jwks(runtime.message_signing_key)
    return JSONResponse(
        body, media_type="application/jwk-set+json", headers={"Cache-Control": "max-age=300"}
    )
