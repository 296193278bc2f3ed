"""Routing a packet: the addressed service and its organisation, the Consent it relies on.

Each refusal names the element (`SubmissionInvalid` with its location) and stores nothing.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from consent import service as consent_service
from consent.errors import ConsentError
from consent.models import ConsentStatus
from directory.models import DirEndpoint, Moderation, Service, ServiceStatus
from gateway.auth.models import Organisation, OrgStatus
from gateway.workflow.errors import SubmissionInvalid
from kernel.caller import Caller

__all__ = ["consent_of", "entries", "id_from", "invalid", "resolve_service"]


def entries(data: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [
        e["resource"]
        for e in data.get("entry", [])
        if isinstance(e, dict) and (e.get("resource") or {}).get("resourceType") == kind
    ]


def id_from(reference: str | None, kind: str) -> uuid.UUID | None:
    if not reference or not reference.startswith(kind + "/"):
        return None
    try:
        return uuid.UUID(reference.split("/", 1)[1])
    except ValueError:
        return None


def invalid(message: str, location: str) -> SubmissionInvalid:
    return SubmissionInvalid(message, errors=[{"location": location, "message": message}])


def resolve_service(session: Session, sr: dict[str, Any]) -> tuple[Service, Organisation]:
    service_id = None
    for performer in sr.get("performer", []):
        service_id = service_id or id_from(performer.get("reference"), "HealthcareService")
    if service_id is None:
        raise invalid(
            "Address the referral to a service from the directory "
            "(ServiceRequest.performer = HealthcareService/<id>; in a case summary "
            "referral.referred_to.service.reference).",
            "ServiceRequest.performer",
        )
    row = session.execute(  # the service, its organisation and its endpoint at once
        select(Service, Organisation, DirEndpoint)
        .outerjoin(Organisation, Organisation.id == Service.owner_organisation_id)
        .outerjoin(DirEndpoint, DirEndpoint.id == Service.endpoint_id)
        .where(Service.id == service_id)
    ).first()
    service, org, endpoint = row if row is not None else (None, None, None)
    if service is None or service.moderation != Moderation.OK:
        raise invalid("No such service in the directory.", "ServiceRequest.performer")
    if org is None or org.status != OrgStatus.ACTIVE:
        raise invalid(
            "The organisation offering this service is not an active member of the network "
            "(suspended or not yet approved).",
            "ServiceRequest.performer",
        )
    if service.status != ServiceStatus.ACTIVE:
        raise invalid(
            f"The service is {service.status}; it does not take referrals now.",
            "ServiceRequest.performer",
        )
    if not service.accepts_electronic_referrals:
        raise invalid(
            "This service does not accept electronic referrals; contact it as the "
            "directory describes.",
            "ServiceRequest.performer",
        )
    if endpoint is None or not endpoint.active:
        raise invalid(
            "This service has no electronic endpoint to deliver referrals to.",
            "ServiceRequest.performer",
        )
    return service, org


def consent_of(session: Session, caller: Caller, sr: dict[str, Any]) -> Any:
    series = None
    for info in sr.get("supportingInfo", []):
        series = series or id_from(info.get("reference"), "Consent")
    if series is None:
        raise invalid(
            "The packet names no Consent (ServiceRequest.supportingInfo = Consent/<id>): "
            "record the client's consent first.",
            "ServiceRequest.supportingInfo",
        )
    try:
        record = consent_service.current_version(session, caller, series_id=series)
    except ConsentError:
        raise invalid(
            "The consent decision point cannot find that Consent for your organisation.",
            "ServiceRequest.supportingInfo",
        ) from None
    if record.status != ConsentStatus.ACTIVE:
        raise invalid("That Consent is no longer in force.", "ServiceRequest.supportingInfo")
    return record
