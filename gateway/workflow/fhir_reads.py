"""FHIR reads of a referral packet's resources: the ServiceRequest and what supports it.

`GET /fhir/ServiceRequest/{id}` and `GET /fhir/{type}/{id}` for the packet's Conditions,
Observations, Goals, DocumentReferences, CarePlans, RelatedPersons, Practitioners,
PractitionerRoles and Provenance, each with vread at `/_history/1` (packet resources never
change once stored). Every read is the consent check of `/referrals/{id}/packet`: once the
client's consent for the receiver is gone, nothing is disclosed (403).

Packet resource ids are 64 hex characters; a canonical UUID id of a CarePlan, Goal or
Condition is the shared service plan's (`casework.fhir_router.read`, no versions).
"""

from __future__ import annotations

import uuid

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy import select

from directory.fhir_search import fhir_response
from gateway.auth.dependencies import CurrentCaller
from gateway.dependencies import DbSession
from gateway.errors import error_responses
from gateway.workflow import access, fhir_packet
from gateway.workflow.casework import fhir_router as casework_fhir
from gateway.workflow.errors import ReferralNotFound
from gateway.workflow.models import Referral

__all__ = ["router"]

router = APIRouter(prefix="/fhir", tags=["fhir"])
_ERRORS = error_responses(401, 403, 404)


def _version_one(version: str, kind: str) -> None:
    if version != "1":
        raise ReferralNotFound(f"The {kind} has no version {version}; packet resources have one.")


def _request(session: DbSession, caller: CurrentCaller, request_id: uuid.UUID) -> JSONResponse:
    access.require_scope(caller, "ServiceRequest", "r")
    referral = session.scalars(
        select(Referral).where(
            Referral.service_request_id == request_id, access.visible_clause(caller)
        )
    ).first()
    if referral is None:
        access.get_visible(session, caller, request_id)  # the same audited 404
        raise AssertionError("unreachable")
    return fhir_response(fhir_packet.service_request(session, caller, referral))


@router.get(
    "/ServiceRequest/{request_id}",
    summary="Read a referral's ServiceRequest (consent-checked)",
    responses=_ERRORS,
)
def read_service_request(
    request_id: uuid.UUID, caller: CurrentCaller, session: DbSession
) -> JSONResponse:
    return _request(session, caller, request_id)


@router.get(
    "/ServiceRequest/{request_id}/_history/{version}",
    summary="Read a version of a referral's ServiceRequest (vread; version 1)",
    responses=_ERRORS,
)
def vread_service_request(
    request_id: uuid.UUID, version: str, caller: CurrentCaller, session: DbSession
) -> JSONResponse:
    _version_one(version, "ServiceRequest")
    return _request(session, caller, request_id)


def _add_reads(kind: str) -> None:
    def read(resource_id: str, caller: CurrentCaller, session: DbSession) -> JSONResponse:
        plan = casework_fhir.read(session, caller, kind, resource_id)  # a plan resource?
        if plan is not None:
            return plan
        return packet_read(resource_id, caller, session)

    def packet_read(resource_id: str, caller: CurrentCaller, session: DbSession) -> JSONResponse:
        access.require_scope(caller, "ServiceRequest", "r")
        return fhir_response(fhir_packet.packet_resource(session, caller, kind, resource_id))

    def vread(
        resource_id: str, version: str, caller: CurrentCaller, session: DbSession
    ) -> JSONResponse:
        _version_one(version, kind)
        return packet_read(resource_id, caller, session)  # plan resources keep no versions

    router.add_api_route(
        f"/{kind}/{{resource_id}}",
        read,
        methods=["GET"],
        summary=f"Read a referral packet's {kind} (consent-checked)"
        + (" or the service plan's" if kind in casework_fhir.PLAN_KINDS else ""),
        responses=_ERRORS,
        name=f"read_packet_{kind.lower()}",
    )
    router.add_api_route(
        f"/{kind}/{{resource_id}}/_history/{{version}}",
        vread,
        methods=["GET"],
        summary=f"Read a version of a referral packet's {kind} (vread; version 1)",
        responses=_ERRORS,
        name=f"vread_packet_{kind.lower()}",
    )


for _kind in fhir_packet.SERVED_KINDS:
    _add_reads(_kind)
