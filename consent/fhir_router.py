"""FHIR R4 endpoints of consent: `/fhir/Consent` create, read, vread, update (revocation and
amendment, see `update_consent`) and search; the Patient routes are in `consent.fhir_patient`.

Every Organization a posted Consent names (`Consent.organization`, `provision.actor`)
must exist in the network (422 naming the element otherwise); `Consent.organization`, the
custodian, is the caller's own organisation.

Search parameters: `patient`, `status`, `actor` (an Organization the consent names),
`purpose` (a refhub purpose code) and `period` (with FHIR date prefixes: `ge`, `gt`, `le`,
`lt`, `eq`). Every search is narrowed to the caller's organisation scope in SQL.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Body, Depends, Header, Query
from fastapi.responses import JSONResponse
from sqlalchemy import exists, or_, select
from sqlalchemy.orm import Session

from consent import fhir, fhir_in, fhir_patient, service
from consent.errors import ConsentInvalid, ConsentNotFound, ResourceMismatch, VersionConflict
from consent.models import ConsentRecord, ConsentStatus, Provision, ProvisionRecipient
from consent.ports import Disclosures, Organisations, ScopeCheck
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


def _check_named(
    session: Session, caller: Caller, organisations: Organisations, read: fhir_in.ReadConsent
) -> None:
    """Refuse a Consent naming an Organization the network does not have, or a custodian
    other than the caller's organisation."""
    named = [*read.organisations, *read.custodians]
    known = organisations.names(session, [org for org, _ in named])
    for org, element in named:
        if org not in known:
            raise ConsentInvalid(
                f"{element}: Organization/{org} is not an organisation of this network "
                "(use the id GET /fhir/Organization answers)",
                reason="organisation-unknown",
                element=element,
            )
    for org, element in read.custodians:
        if org != caller.organisation_id:
            raise ConsentInvalid(
                f"{element}: the organisation recording a consent is yours "
                f"(Organization/{caller.organisation_id})",
                reason="custodian",
                element=element,
            )


def _searchset(base_url: str, items: list[dict[str, Any]]) -> dict[str, Any]:
    bundle: dict[str, Any] = {"resourceType": "Bundle", "type": "searchset", "total": len(items)}
    if items:  # FHIR JSON has no empty arrays: no results, no `entry`
        bundle["entry"] = [
            {
                "fullUrl": f"{base_url}/fhir/Consent/{item['id']}",
                "resource": item,
                "search": {"mode": "match"},
            }
            for item in items
        ]
    return bundle


def _etag(record: ConsentRecord) -> str:
    return f'W/"{record.version}"'


def _version_of(if_match: str | None) -> str | None:
    if if_match is None:
        return None
    return if_match.strip().removeprefix("W/").strip('"')


def _read_posted(
    session: Session,
    caller: Caller,
    organisations: Organisations,
    body: dict[str, Any],
    action: str,
) -> fhir_in.ReadConsent:
    """The posted Consent, its organisations checked; a refusal is audited."""
    try:
        read = fhir_in.read_consent(body)
        _check_named(session, caller, organisations, read)
    except ConsentInvalid:
        audit.record(
            session,
            actor=caller.actor,
            action=action,
            outcome=Outcome.DENIED,
            organisation=str(caller.organisation_id),
            detail={"refused": "fhir-invalid"},
        )
        raise
    return read


def _create(
    session: Session, caller: Caller, organisations: Organisations, body: dict[str, Any]
) -> ConsentRecord:
    """A FHIR create: a consent in force (status active) of a client the caller sees."""
    read = _read_posted(session, caller, organisations, body, "consent.create")
    if read.status != ConsentStatus.ACTIVE:
        raise ConsentInvalid(
            "Consent.status: only a consent in force (active) is recorded",
            element="Consent.status",
        )
    return service.create_consent(session, caller, client_id=read.client_id, draft=read.draft)


def _update(
    session: Session,
    caller: Caller,
    organisations: Organisations,
    consent_id: uuid.UUID,
    body: dict[str, Any],
    if_match: str | None,
) -> ConsentRecord:
    """A FHIR update of a consent: status `inactive` revokes it (a new, inactive version;
    revoking a revoked consent changes nothing); status `active` with changed content
    amends it (the next version, checked as a new consent). A revoked consent stays
    revoked; the client cannot change; `If-Match: W/"<version>"` refuses (412) when
    another change came first."""
    current = service.current_version(session, caller, series_id=consent_id)
    if body.get("id") not in (None, str(consent_id)):
        raise ResourceMismatch("Consent.id: the resource id differs from the URL's id.")
    wanted = _version_of(if_match)
    if wanted is not None and wanted != str(current.version):
        raise VersionConflict(
            f"Consent/{consent_id} is at version {current.version}, not {wanted}."
        )
    read = _read_posted(session, caller, organisations, body, "consent.amend")
    if read.client_id != current.client_id:
        raise ConsentInvalid(
            "Consent.patient.reference: a consent stays the consent of its client",
            element="Consent.patient.reference",
        )
    if read.status == ConsentStatus.INACTIVE:
        if current.status == ConsentStatus.INACTIVE:
            return current
        return service.revoke(session, caller, series_id=consent_id, reason="client-instruction")
    if read.status != ConsentStatus.ACTIVE:
        raise ConsentInvalid(
            "Consent.status: an update sets active (amend) or inactive (revoke)",
            element="Consent.status",
        )
    return service.create_consent(
        session, caller, client_id=current.client_id, draft=read.draft, series_id=consent_id
    )


def make_fhir_router(
    caller_dependency: Callable[..., Caller],
    session_dependency: Callable[..., Any],
    *,
    organisations: Organisations,
    scope_allows: ScopeCheck,
    base_url: str,
    disclosures: Disclosures | None = None,
) -> APIRouter:
    """The consent FHIR routes, authenticated by `caller_dependency`; `disclosures` lets
    an organisation that received a referral read its Patient (`consent.fhir_patient`)."""
    router = APIRouter(prefix="/fhir", tags=["fhir"])
    current_caller = Depends(caller_dependency)
    db = Depends(session_dependency, scope="function")

    def resource(session: Session, records: list[ConsentRecord]) -> list[dict[str, Any]]:
        provisions = service.provisions_of(session, records)
        return [fhir.consent_to_fhir(r, provisions[r.id]) for r in records]

    def answer(session: Session, record: ConsentRecord, status: int = 200) -> JSONResponse:
        location = f"{base_url}/fhir/Consent/{record.series_id}/_history/{record.version}"
        return JSONResponse(
            resource(session, [record])[0],
            status_code=status,
            media_type=FHIR_JSON,
            headers={"Location": location, "ETag": _etag(record)},
        )

    @router.post(
        "/Consent", status_code=201, response_class=JSONResponse, openapi_extra=_CONSENT_BODY
    )
    def create_consent(
        body: dict[str, Any] = Body(...),
        session: Session = db,
        caller: Caller = current_caller,
    ) -> JSONResponse:
        require_scope(scope_allows, caller, "Consent", "c")
        return answer(session, _create(session, caller, organisations, body), 201)

    @router.get("/Consent/{consent_id}", response_class=JSONResponse)
    def read_consent(
        consent_id: uuid.UUID, session: Session = db, caller: Caller = current_caller
    ) -> JSONResponse:
        require_scope(scope_allows, caller, "Consent", "r")
        record = service.current_version(session, caller, series_id=consent_id)
        return answer(session, record)

    @router.get("/Consent/{consent_id}/_history/{version}", response_class=JSONResponse)
    def vread_consent(
        consent_id: uuid.UUID,
        version: str,
        session: Session = db,
        caller: Caller = current_caller,
    ) -> JSONResponse:
        require_scope(scope_allows, caller, "Consent", "r")
        versions = service.versions(session, caller, series_id=consent_id)
        for record in versions:
            if str(record.version) == version:
                return answer(session, record)
        raise ConsentNotFound(f"Consent/{consent_id} has no version {version}.")

    @router.put(
        "/Consent/{consent_id}",
        response_class=JSONResponse,
        openapi_extra=_CONSENT_BODY,
        responses={412: {"description": "If-Match names a version that is not the current one."}},
    )
    def update_consent(
        consent_id: uuid.UUID,
        body: dict[str, Any] = Body(...),
        session: Session = db,
        caller: Caller = current_caller,
        if_match: str | None = Header(None),
    ) -> JSONResponse:
        """Status `inactive` revokes the consent (a new, inactive version); status `active`
        with changed content amends it (the next version). A revoked consent stays revoked.
        `If-Match: W/"<version>"` refuses (412) when another change came first."""
        require_scope(scope_allows, caller, "Consent", "u")
        return answer(session, _update(session, caller, organisations, consent_id, body, if_match))

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
        return JSONResponse(_searchset(base_url, resource(session, records)), media_type=FHIR_JSON)

    fhir_patient.add_routes(
        router,
        current_caller,
        db,
        organisations=organisations,
        scope_allows=scope_allows,
        base_url=base_url,
        disclosures=disclosures,
    )
    return router
