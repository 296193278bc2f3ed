"""FHIR R4 Patient: create (also conditional, `If-None-Exist: identifier=system|value`, or
the same criteria in the query: `POST /fhir/Patient?identifier=system|value`, as fhirpy's
`resource.create(identifier=...)` sends them),
read, vread and update of the hub's clients.

- Create registers a client of the caller's organisation (as `POST /consent/clients`).
- Update replaces the identity of the caller's own client (other organisations' clients
  answer 404) and that organisation's identifiers; each update is a new version
  (`meta.versionId`, `ETag`); only the current version is kept, so vread answers the
  current version and 404 for earlier ones.
- Read: the registering organisation sees everything; an organisation that received a
  referral or handover for the client sees the packet's Patient narrowed by the consent
  of that referral (the `Disclosures` port, the same check as the packet read), under the
  client's id or the packet's Patient id; others see what a consent naming them permits.
"""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import parse_qsl, urlencode

from fastapi import APIRouter, Body, Header, Request
from fastapi.responses import JSONResponse
from sqlalchemy import select
from sqlalchemy.orm import Session

from consent import client_update, clients, fhir, fhir_in
from consent.errors import (
    ConsentInvalid,
    ConsentNotFound,
    ResourceMismatch,
    SeveralMatch,
    VersionConflict,
)
from consent.models import Client
from consent.ports import Disclosures, Organisations, ScopeCheck
from consent.router import require_scope
from kernel import audit
from kernel.caller import Caller

__all__ = ["add_routes"]

FHIR_JSON = "application/fhir+json"
_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            media: {
                "schema": {
                    "type": "object",
                    "required": ["resourceType", "name"],
                    "properties": {"resourceType": {"const": "Patient"}},
                }
            }
            for media in (FHIR_JSON, "application/json")
        },
    }
}


def _criteria(header: str) -> list[tuple[str | None, str]]:
    """The identifiers an `If-None-Exist` header asks for (`identifier=[system|]value`)."""
    pairs = parse_qsl(header, keep_blank_values=True)
    wanted: list[tuple[str | None, str]] = []
    for key, value in pairs:
        if key != "identifier" or not value:
            raise ConsentInvalid(
                "If-None-Exist: only identifier=system|value is supported",
                element="If-None-Exist",
            )
        system, bar, code = value.rpartition("|")
        wanted.append((system or None, code) if bar else (None, value))
    if not wanted:
        raise ConsentInvalid("If-None-Exist: give identifier=system|value", element="If-None-Exist")
    return wanted


def _answer(
    session: Session,
    caller: Caller,
    client: Client,
    organisations: Organisations,
    base_url: str,
    status: int = 200,
) -> JSONResponse:
    """The client as the caller may read it, with its version (`ETag`, `Location`)."""
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
    version = client.identity_version
    return JSONResponse(
        fhir.patient_to_fhir(client.id, shown, own, version),
        status_code=status,
        media_type=FHIR_JSON,
        headers={
            "ETag": f'W/"{version}"',
            "Location": f"{base_url}/fhir/Patient/{client.id}/_history/{version}",
        },
    )


def _existing(session: Session, caller: Caller, if_none_exist: str) -> Client | None:
    """The caller's client an `If-None-Exist` header matches, None if none does.

    Raises:
        SeveralMatch: it matches several (FHIR: 412).
    """
    found: set[uuid.UUID] | None = None
    for system, value in _criteria(if_none_exist):
        ids = set(client_update.find_by_identifier(session, caller, system=system, value=value))
        found = ids if found is None else found & ids
    if found and len(found) > 1:
        raise SeveralMatch("If-None-Exist matches several of your clients.")
    return clients.get_client(session, caller, client_id=found.pop()) if found else None


def add_routes(
    router: APIRouter,
    current_caller: Any,
    db: Any,
    *,
    organisations: Organisations,
    scope_allows: ScopeCheck,
    base_url: str,
    disclosures: Disclosures | None,
) -> None:
    """Add the Patient routes to the consent FHIR router."""

    def answer(session: Session, caller: Caller, client: Client, status: int = 200) -> JSONResponse:
        return _answer(session, caller, client, organisations, base_url, status)

    def registered(session: Session, caller: Caller, person_id: uuid.UUID) -> bool:
        return (
            session.scalars(
                select(Client.id).where(
                    Client.id == person_id, Client.registered_by_org_id == caller.organisation_id
                )
            ).first()
            is not None
        )

    @router.post(
        "/Patient",
        status_code=201,
        response_class=JSONResponse,
        openapi_extra=_BODY,
        responses={
            200: {"description": "If-None-Exist matched one of your clients: that Patient."},
            412: {"description": "If-None-Exist matches several of your clients."},
        },
    )
    def create_patient(
        request: Request,
        body: dict[str, Any] = Body(...),
        session: Session = db,
        caller: Caller = current_caller,
        if_none_exist: str | None = Header(None),
    ) -> JSONResponse:
        require_scope(scope_allows, caller, "Patient", "c")
        read = fhir_in.read_patient(body)
        if if_none_exist is None:  # the same criteria as a query (`POST Patient?identifier=`)
            query = [(k, v) for k, v in parse_qsl(request.url.query) if k != "_format"]
            if query:
                if_none_exist = urlencode(query)
        if if_none_exist is not None:
            existing = _existing(session, caller, if_none_exist)
            if existing is not None:
                return answer(session, caller, existing)
        client = clients.register_client(
            session, caller, identity=read.identity, identifiers=read.identifiers
        )
        return answer(session, caller, client, 201)

    @router.get("/Patient/{person_id}", response_class=JSONResponse)
    def read_patient(
        person_id: uuid.UUID, session: Session = db, caller: Caller = current_caller
    ) -> JSONResponse:
        require_scope(scope_allows, caller, "Patient", "r")
        if disclosures is not None and not registered(session, caller, person_id):
            disclosed = disclosures.patient(session, caller, person_id)
            if disclosed is not None:
                return JSONResponse(disclosed, media_type=FHIR_JSON)
        client = clients.get_client(session, caller, client_id=person_id)
        return answer(session, caller, client)

    @router.get("/Patient/{person_id}/_history/{version}", response_class=JSONResponse)
    def vread_patient(
        person_id: uuid.UUID,
        version: str,
        session: Session = db,
        caller: Caller = current_caller,
    ) -> JSONResponse:
        require_scope(scope_allows, caller, "Patient", "r")
        client = clients.get_client(session, caller, client_id=person_id)
        if version != str(client.identity_version):
            raise ConsentNotFound(
                f"Patient/{person_id} is at version {client.identity_version}; the hub "
                "keeps only the current version."
            )
        return answer(session, caller, client)

    @router.put(
        "/Patient/{person_id}",
        response_class=JSONResponse,
        openapi_extra=_BODY,
        responses={412: {"description": "If-Match names a version that is not the current one."}},
    )
    def update_patient(
        person_id: uuid.UUID,
        body: dict[str, Any] = Body(...),
        session: Session = db,
        caller: Caller = current_caller,
        if_match: str | None = Header(None),
    ) -> JSONResponse:
        require_scope(scope_allows, caller, "Patient", "u")
        client = client_update.own_client(session, caller, client_id=person_id)
        if body.get("id") not in (None, str(person_id)):
            raise ResourceMismatch("Patient.id: the resource id differs from the URL's id.")
        wanted = if_match.strip().removeprefix("W/").strip('"') if if_match else None
        if wanted is not None and wanted != str(client.identity_version):
            raise VersionConflict(
                f"Patient/{person_id} is at version {client.identity_version}, not {wanted}."
            )
        read = fhir_in.read_patient(body)
        client = client_update.update_client(
            session,
            caller,
            client_id=person_id,
            identity=read.identity,
            identifiers=read.identifiers,
        )
        return answer(session, caller, client)
