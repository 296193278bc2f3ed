"""FHIR R4 endpoints shared by the whole hub: `GET /fhir/metadata`."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from gateway.dependencies import RuntimeDep
from gateway.fhir import capability

__all__ = ["FHIR_JSON", "router"]

FHIR_JSON = "application/fhir+json"
router = APIRouter(prefix="/fhir", tags=["fhir"])


@router.get(
    "/metadata",
    summary="FHIR CapabilityStatement (public, as FHIR requires)",
    response_class=JSONResponse,
)
def metadata(runtime: RuntimeDep) -> JSONResponse:
    return JSONResponse(
        capability.capability_statement(runtime.settings.public_base_url), media_type=FHIR_JSON
    )
