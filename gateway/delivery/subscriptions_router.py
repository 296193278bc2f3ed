"""FHIR `Subscription` (R4 backport, rest-hook, id-only) for receivers: create, read,
search, delete and `$status`, each narrowed to the caller's organisation."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Body, Response
from fastapi.responses import JSONResponse

from gateway.auth.dependencies import CurrentCaller
from gateway.delivery import subscriptions
from gateway.delivery.dependencies import require_access
from gateway.dependencies import DbSession, RuntimeDep
from gateway.http.openapi import fhir_body

__all__ = ["router"]

FHIR_JSON = "application/fhir+json"
router = APIRouter(prefix="/fhir", tags=["fhir"])


@router.post(
    "/Subscription",
    status_code=201,
    response_class=JSONResponse,
    openapi_extra=fhir_body("Subscription", **subscriptions.SUBSCRIPTION_MEMBERS),
)
def create(
    caller: CurrentCaller,
    session: DbSession,
    runtime: RuntimeDep,
    body: dict[str, Any] = Body(...),
) -> JSONResponse:
    require_access(caller, "Subscription", "c")
    subscription = subscriptions.create_subscription(
        session, caller, body=body, allow_http=runtime.settings.delivery_allow_http
    )
    base = runtime.settings.public_base_url
    return JSONResponse(
        subscriptions.to_fhir(subscription),
        status_code=201,
        media_type=FHIR_JSON,
        headers={"Location": f"{base}/fhir/Subscription/{subscription.id}"},
    )


@router.get("/Subscription", response_class=JSONResponse)
def search(caller: CurrentCaller, session: DbSession, runtime: RuntimeDep) -> JSONResponse:
    require_access(caller, "Subscription", "s")
    base = runtime.settings.public_base_url
    found = subscriptions.list_subscriptions(session, caller)
    bundle: dict[str, Any] = {"resourceType": "Bundle", "type": "searchset", "total": len(found)}
    if found:  # FHIR JSON has no empty arrays: no results, no `entry`
        bundle["entry"] = [
            {
                "fullUrl": f"{base}/fhir/Subscription/{item.id}",
                "resource": subscriptions.to_fhir(item),
                "search": {"mode": "match"},
            }
            for item in found
        ]
    return JSONResponse(bundle, media_type=FHIR_JSON)


@router.get("/Subscription/{subscription_id}", response_class=JSONResponse)
def read(subscription_id: uuid.UUID, caller: CurrentCaller, session: DbSession) -> JSONResponse:
    require_access(caller, "Subscription", "r")
    subscription = subscriptions.get_subscription(session, caller, subscription_id)
    return JSONResponse(subscriptions.to_fhir(subscription), media_type=FHIR_JSON)


@router.get("/Subscription/{subscription_id}/$status", response_class=JSONResponse)
def status(
    subscription_id: uuid.UUID, caller: CurrentCaller, session: DbSession, runtime: RuntimeDep
) -> JSONResponse:
    """The backport's `$status`: a `history` Bundle whose first entry is the subscription's
    SubscriptionStatus (Parameters, type `query-status`, with its event count)."""
    require_access(caller, "Subscription", "r")
    subscription = subscriptions.get_subscription(session, caller, subscription_id)
    base = f"{runtime.settings.public_base_url}/fhir"
    return JSONResponse(subscriptions.status_bundle(subscription, base), media_type=FHIR_JSON)


@router.delete("/Subscription/{subscription_id}", status_code=204)
def delete(subscription_id: uuid.UUID, caller: CurrentCaller, session: DbSession) -> Response:
    require_access(caller, "Subscription", "d")
    subscriptions.delete_subscription(session, caller, subscription_id)
    return Response(status_code=204)
