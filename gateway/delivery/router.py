"""`GET /.well-known/jwks.json`: the public keys that sign the hub's messages (public)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from gateway.delivery.keys import public_jwks
from gateway.dependencies import RuntimeDep

__all__ = ["router"]

router = APIRouter(tags=["delivery"])


@router.get("/.well-known/jwks.json", summary="The hub's message-signing public keys (JWKS)")
def jwks(runtime: RuntimeDep) -> JSONResponse:
    body: dict[str, Any] = public_jwks(runtime.message_signing_key)
    return JSONResponse(
        body, media_type="application/jwk-set+json", headers={"Cache-Control": "max-age=300"}
    )
