"""FHIR R4 endpoints of consent: `/fhir/Consent` create/read/search, `/fhir/Patient` read.

Search parameters: `patient`, `status`, `actor` (an Organization the consent names),
`purpose` (a refhub purpose code) and `period` (with FHIR date prefixes: `ge`, `gt`, `le`,
`lt`, `eq`). Every search is narrowed to the caller's organisation scope in SQL.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Body, Depends, Query, Response
from fastapi.responses import JSONResponse
from sqlalchemy import exists, or_, select
from sqlalchemy.orm import Session

from consent import clients, fhir, service
from consent.errors import ConsentInvalid
from consent.models import ConsentRecord, Provision, ProvisionRecipient
from consent.ports import Organisations, ScopeCheck
from consent.router import require_scope
from consent.scope import is_latest, visible_client_ids
from kernel import audit
from kernel.audit import Outcome
from kernel.caller import Caller
from kernel.db import utcnow

__all__ = ["make_fhir_router", "search_consents"]

FHIR_JSON = "application/fhir+json"
_PREFIXES = ("ge", "gt", "le", "lt", "eq")
_UUID = r"[0-9a-fA-F]{8}(-?[0-9a-fA-F]{4}){3}-?[0-9a-fA-F]{12}"
_DATE = r"[1-9][0-9]{3}-(0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8])"
_TIME = (
    r"T([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\.[0-9]{1,6})?)?"
    r"(Z|[+-](0[0-9]|1[0-3]):[0-5][0-9])?"
)
# What `_ref_id` and `_parse_date` read, stated in the document (they keep their messages).
_PERIOD = {"items": {"type": "string", "pattern": rf"^({'|'.join(_PREFIXES)})?{_DATE}({_TIME})?$"}}
# The members `fhir.consent_from_fhir` looks for first; the rest is FHIR R4's Consent.
_CONSENT_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            media: {
                "schema": {
                    "type": "object",
                    "required": ["resourceType", "patient"],
                    "properties": {
                        "resourceType": {"const": "Consent"},
                        "patient": {
                            "type": "object",
                            "required": ["reference"],
                            "properties": {
                                "reference": {"type": "string", "pattern": rf"^Patient/{_UUID}$"}
                            },
                        },
                    },
                }
            }
            for media in (FHIR_JSON, "application/json")
        },
    }
}


def _reference(kind: str) -> dict[str, str]:
    return {"pattern": rf"^({kind}/)?{_UUID}$"}


def _parse_date(value: str) -> tuple[str, dt.datetime]:
    prefix = value[:2] if value[:2] in _PREFIXES else "eq"
    text = value[2:] if value[:2] in _PREFIXES else value
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        raise ConsentInvalid(f"period: {value!r} is not a FHIR date") from None
    return prefix, moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def search_consents(
    session: Session,
    caller: Caller,
    *,
    patient: uuid.UUID | None = None,
    status: str | None = None,
    actor: uuid.UUID | None = None,
    purpose: str | None = None,
    periods: list[tuple[str, dt.datetime]] | None = None,
    limit: int = 100,
) -> list[ConsentRecord]:
    """The current versions of the consents the caller may see that match, newest first."""
    query = select(ConsentRecord).where(
        is_latest(), ConsentRecord.client_id.in_(visible_client_ids(caller, utcnow()))
    )
    if patient is not None:
        query = query.where(ConsentRecord.client_id == patient)
    if status is not None:
        query = query.where(ConsentRecord.status == status)
    if actor is not None:
        query = query.where(
            exists(
                select(Provision.id)
                .join(ProvisionRecipient, ProvisionRecipient.provision_id == Provision.id)
                .where(
                    Provision.record_id == ConsentRecord.id,
                    ProvisionRecipient.organisation_id == actor,
                )
            )
        )
    if purpose is not None:
        query = query.where(
            exists(
                select(Provision.id).where(
                    Provision.record_id == ConsentRecord.id,
                    Provision.purposes.contains(f" {purpose} "),
                )
            )
        )
    for prefix, moment in periods or []:
        starts, ends = ConsentRecord.period_start, ConsentRecord.period_end
        open_end = ends.is_(None)
        condition = {
            "ge": or_(open_end, ends >= moment),
            "gt": or_(open_end, ends > moment),
            "le": starts <= moment,
            "lt": starts < moment,
            "eq": (starts <= moment) & or_(open_end, ends > moment),
        }[prefix]
        query = query.where(condition)
    return list(session.scalars(query.order_by(ConsentRecord.recorded_at.desc()).limit(limit)))


def _ref_id(value: str | None, kind: str) -> uuid.UUID | None:
    if value is None:
        return None
    try:
        return uuid.UUID(value.removeprefix(f"{kind}/"))
    except ValueError:
        raise ConsentInvalid(f"{value!r} is not a {kind} reference of this hub") from None


def make_fhir_router(
    caller_dependency: Callable[..., Caller],
    session_dependency: Callable[..., Any],
    *,
    organisations: Organisations,
    scope_allows: ScopeCheck,
    base_url: str,
) -> APIRouter:
    """The consent FHIR routes, authenticated by `caller_dependency`."""
    router = APIRouter(prefix="/fhir", tags=["fhir"])
    current_caller = Depends(caller_dependency)
    db = Depends(session_dependency, scope="function")

    def resource(session: Session, records: list[ConsentRecord]) -> list[dict[str, Any]]:
        provisions = service.provisions_of(session, records)
        return [fhir.consent_to_fhir(r, provisions[r.id]) for r in records]

    @router.post(
        "/Consent", status_code=201, response_class=JSONResponse, openapi_extra=_CONSENT_BODY
    )
    def create_consent(
        body: dict[str, Any] = Body(...),
        session: Session = db,
        caller: Caller = current_caller,
    ) -> JSONResponse:
        require_scope(scope_allows, caller, "Consent", "c")
        try:
            client_id, draft = fhir.consent_from_fhir(body)
        except ConsentInvalid:
            audit.record(
                session,
                actor=caller.actor,
                action="consent.create",
                outcome=Outcome.DENIED,
                organisation=str(caller.organisation_id),
                detail={"refused": "fhir-invalid"},
            )
            raise
        record = service.create_consent(session, caller, client_id=client_id, draft=draft)
        location = f"{base_url}/fhir/Consent/{record.series_id}/_history/{record.version}"
        return JSONResponse(
            resource(session, [record])[0],
            status_code=201,
            media_type=FHIR_JSON,
            headers={"Location": location},
        )

    @router.get("/Consent/{consent_id}", response_class=JSONResponse)
    def read_consent(
        consent_id: uuid.UUID, session: Session = db, caller: Caller = current_caller
    ) -> JSONResponse:
        require_scope(scope_allows, caller, "Consent", "r")
        record = service.current_version(session, caller, series_id=consent_id)
        return JSONResponse(resource(session, [record])[0], media_type=FHIR_JSON)

    @router.get("/Consent", response_class=JSONResponse)
    def search(
        session: Session = db,
        caller: Caller = current_caller,
        patient: str | None = Query(None, json_schema_extra=_reference("Patient")),
        status: str | None = None,
        actor: str | None = Query(None, json_schema_extra=_reference("Organization")),
        purpose: str | None = None,
        period: list[str] = Query(default_factory=list, json_schema_extra=_PERIOD),
        count: int = Query(default=50, ge=1, le=200, alias="_count"),
    ) -> JSONResponse:
        require_scope(scope_allows, caller, "Consent", "s")
        records = search_consents(
            session,
            caller,
            patient=_ref_id(patient, "Patient"),
            status=status,
            actor=_ref_id(actor, "Organization"),
            purpose=purpose.rsplit("|", 1)[-1] if purpose else None,
            periods=[_parse_date(p) for p in period],
            limit=count,
        )
        bundle: dict[str, Any] = {
            "resourceType": "Bundle",
            "type": "searchset",
            "total": len(records),
        }
        if records:  # FHIR JSON has no empty arrays: no results, no `entry`
            bundle["entry"] = [
                {
                    "fullUrl": f"{base_url}/fhir/Consent/{item['id']}",
                    "resource": item,
                    "search": {"mode": "match"},
                }
                for item in resource(session, records)
            ]
        return JSONResponse(bundle, media_type=FHIR_JSON)

    @router.get("/Patient/{person_id}", response_class=JSONResponse)
    def read_patient(
        person_id: uuid.UUID, session: Session = db, caller: Caller = current_caller
    ) -> Response:
        require_scope(scope_allows, caller, "Patient", "r")
        client = clients.get_client(session, caller, client_id=person_id)
        shown = clients.readable_identity(
            session,
            caller,
            client,
            caller_org_type=organisations.type_of(session, caller.organisation_id),
        )
        own = [
            (i.system, i.value)
            for i in clients.identifiers_of(session, client.id)
            if i.organisation_id == caller.organisation_id
        ]
        audit.record(
            session,
            actor=caller.actor,
            action="patient.read",
            organisation=str(caller.organisation_id),
            subject=clients.subject_of(client.id),
            detail={"fields": " ".join(sorted(k for k, v in shown.items() if v))},
        )
        return JSONResponse(fhir.patient_to_fhir(client.id, shown, own), media_type=FHIR_JSON)

    return router
