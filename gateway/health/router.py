"""Operator endpoints: /healthz (process up), /readyz (database, broker, relay), /metrics.

These are the visible exceptions to "authenticated by default": orchestrators probe them
without credentials. They reveal no data; /metrics can require a bearer token
(REFHUB_METRICS_TOKEN) where the network does not already restrict it.
"""

from __future__ import annotations

import hmac
from typing import Any

from fastapi import APIRouter, Header, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from gateway.dependencies import RuntimeDep
from gateway.health import service as health_service
from kernel.errors import RefhubError

__all__ = ["router"]

router = APIRouter(tags=["operations"])


class MetricsUnauthorized(RefhubError):
    status = 401
    code = "metrics-token-required"
    title = "Unauthorized"


_READINESS: dict[str, Any] = {
    "type": "object",
    "required": ["status", "checks"],
    "properties": {"status": {"enum": ["ready", "not-ready"]}, "checks": {"type": "object"}},
}


@router.get("/healthz", summary="Liveness: the process is up")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get(
    "/readyz",
    summary="Readiness: database, broker and relay are usable",
    responses={
        503: {
            "description": "A dependency is not ready; `checks` says which.",
            "content": {"application/json": {"schema": _READINESS}},
        }
    },
)
def readyz(request: Request, runtime: RuntimeDep) -> JSONResponse:
    checks = health_service.readiness(runtime, relay=getattr(request.app.state, "relay", None))
    ready = all(check["ok"] for check in checks.values())
    body: dict[str, Any] = {"status": "ready" if ready else "not-ready", "checks": checks}
    return JSONResponse(body, status_code=200 if ready else 503)


@router.get(
    "/metrics",
    summary="Prometheus metrics",
    response_class=Response,
    responses={
        200: {"content": {CONTENT_TYPE_LATEST.split(";")[0]: {"schema": {"type": "string"}}}},
        401: {"description": "REFHUB_METRICS_TOKEN is set and the bearer token is not it."},
    },
)
def metrics(
    request: Request, runtime: RuntimeDep, authorization: str | None = Header(default=None)
) -> Response:
    token = runtime.settings.metrics_token
    if token is not None:
        expected = f"Bearer {token.get_secret_value()}".encode()
        if not hmac.compare_digest((authorization or "").encode(), expected):
            raise MetricsUnauthorized("A valid bearer token is required for /metrics.")
    payload = generate_latest(request.app.state.metrics.registry)
    return Response(payload, media_type=CONTENT_TYPE_LATEST)
