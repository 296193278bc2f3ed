"""Consent HTTP API: clients, consents and their versions, revocation, the decision point.

Built by `make_router(...)` so the composition root hands in the caller and session
dependencies and the organisation lookups; routes translate, services decide.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Depends
from sqlalchemy.orm import Session

from consent import clients, decision, page_access, service
from consent.errors import ConsentInvalid, ConsentNotPermitted
from consent.ports import Organisations, ScopeCheck
from consent.schemas import (
    ClientCreate,
    ClientRead,
    ConsentCreate,
    ConsentRead,
    DecideRequest,
    DecisionRead,
    IdentifierRead,
    IdentityIn,
    LinkCreate,
    LinkRead,
    PageLinkCreate,
    PageLinkRead,
    RevokeRequest,
    consent_read,
)
from kernel.caller import Caller, CallerKind

__all__ = ["make_router", "require_scope"]


def _problems(*statuses: int) -> dict[int | str, dict[str, Any]]:
    return {
        s: {"description": d, "content": {"application/problem+json": {}}}
        for s, d in {
            401: "Not signed in",
            403: "Role or scope does not allow this",
            404: "No such client or consent (or not visible to your organisation)",
            422: "Not acceptable (the refusal is audited)",
        }.items()
        if s in statuses
    }


def require_scope(scope_allows: ScopeCheck, caller: Caller, resource: str, letter: str) -> None:
    """System clients need a SMART scope for the resource; staff are governed by roles."""
    if caller.kind is CallerKind.CLIENT and not scope_allows(caller.scopes, resource, letter):
        raise ConsentNotPermitted(f"Your access token has no {resource} scope for this.")


def _reads(session: Session, records: list[Any]) -> list[ConsentRead]:
    provisions = service.provisions_of(session, records)
    return [consent_read(r, provisions[r.id]) for r in records]


def known_recipients(session: Session, organisations: Organisations, body: ConsentCreate) -> None:
    """Refuse a consent naming a recipient organisation the network does not have (a typo
    would otherwise be a consent that never matches), naming the element."""
    named = [
        (recipient.organisation_id, f"provisions[{i}].recipients[{j}].organisation_id")
        for i, provision in enumerate(body.provisions)
        for j, recipient in enumerate(provision.recipients)
        if recipient.organisation_id is not None
    ]
    known = organisations.names(session, [org for org, _ in named]) if named else {}
    for org, element in named:
        if org not in known:
            raise ConsentInvalid(
                f"{element}: {org} is not an organisation of this network",
                reason="organisation-unknown",
                element=element,
            )


def make_router(
    caller_dependency: Callable[..., Caller],
    session_dependency: Callable[..., Any],
    *,
    organisations: Organisations,
    scope_allows: ScopeCheck,
    base_url: str,
) -> APIRouter:
    """The consent API, authenticated by `caller_dependency` on every route."""
    router = APIRouter(prefix="/consent", tags=["consent"], responses=_problems(401, 403, 404))
    # Defaults, not Annotated aliases: annotations are strings here (PEP 563).
    current_caller = Depends(caller_dependency)
    db = Depends(session_dependency, scope="function")

    def need(caller: Caller, resource: str, letter: str) -> None:
        require_scope(scope_allows, caller, resource, letter)

    @router.post("/clients", response_model=ClientRead, status_code=201, responses=_problems(422))
    def register_client(
        body: ClientCreate, session: Session = db, caller: Caller = current_caller
    ) -> ClientRead:
        need(caller, "Patient", "c")
        client = clients.register_client(
            session, caller, identity=body.identity, identifiers=body.identifiers
        )
        return ClientRead(
            id=client.id,
            registered_by_org_id=client.registered_by_org_id,
            created_at=client.created_at,
            identity=body.identity,
            identifiers=[
                IdentifierRead.model_validate(i) for i in clients.identifiers_of(session, client.id)
            ],
        )

    @router.get("/clients/{person_id}", response_model=ClientRead)
    def read_client(
        person_id: uuid.UUID, session: Session = db, caller: Caller = current_caller
    ) -> ClientRead:
        need(caller, "Patient", "r")
        client = clients.get_client(session, caller, client_id=person_id)
        shown = clients.readable_identity(
            session,
            caller,
            client,
            caller_org_type=organisations.type_of(session, caller.organisation_id),
        )
        return ClientRead(
            id=client.id,
            registered_by_org_id=client.registered_by_org_id,
            created_at=client.created_at,
            identity=IdentityIn.model_validate(shown) if shown.get("name") else None,
            identifiers=[
                IdentifierRead.model_validate(i)
                for i in clients.identifiers_of(session, client.id)
                if i.organisation_id == caller.organisation_id
            ],
        )

    @router.post(
        "/clients/{person_id}/links",
        response_model=LinkRead,
        status_code=201,
        responses=_problems(422),
    )
    def link_client(
        person_id: uuid.UUID,
        body: LinkCreate,
        session: Session = db,
        caller: Caller = current_caller,
    ) -> LinkRead:
        need(caller, "Patient", "u")
        link = clients.add_link(session, caller, client_id=person_id, link=body)
        return LinkRead.model_validate(link)

    @router.post(
        "/clients/{person_id}/consents",
        response_model=ConsentRead,
        status_code=201,
        responses=_problems(422),
    )
    def record_consent(
        person_id: uuid.UUID,
        body: ConsentCreate,
        session: Session = db,
        caller: Caller = current_caller,
    ) -> ConsentRead:
        need(caller, "Consent", "c")
        known_recipients(session, organisations, body)
        record = service.create_consent(session, caller, client_id=person_id, draft=body)
        return _reads(session, [record])[0]

    @router.get("/clients/{person_id}/consents", response_model=list[ConsentRead])
    def list_consents(
        person_id: uuid.UUID, session: Session = db, caller: Caller = current_caller
    ) -> list[ConsentRead]:
        need(caller, "Consent", "s")
        clients.get_client(session, caller, client_id=person_id)
        return _reads(session, service.latest_versions(session, caller, client_id=person_id))

    @router.get("/consents/{consent_id}", response_model=ConsentRead)
    def read_consent(
        consent_id: uuid.UUID, session: Session = db, caller: Caller = current_caller
    ) -> ConsentRead:
        need(caller, "Consent", "r")
        return _reads(session, [service.current_version(session, caller, series_id=consent_id)])[0]

    @router.get("/consents/{consent_id}/versions", response_model=list[ConsentRead])
    def consent_history(
        consent_id: uuid.UUID, session: Session = db, caller: Caller = current_caller
    ) -> list[ConsentRead]:
        need(caller, "Consent", "r")
        return _reads(session, service.versions(session, caller, series_id=consent_id))

    @router.post(
        "/consents/{consent_id}/versions",
        response_model=ConsentRead,
        status_code=201,
        responses=_problems(422),
    )
    def amend_consent(
        consent_id: uuid.UUID,
        body: ConsentCreate,
        session: Session = db,
        caller: Caller = current_caller,
    ) -> ConsentRead:
        need(caller, "Consent", "u")
        known_recipients(session, organisations, body)
        current = service.current_version(session, caller, series_id=consent_id)
        record = service.create_consent(
            session, caller, client_id=current.client_id, draft=body, series_id=consent_id
        )
        return _reads(session, [record])[0]

    @router.post(
        "/consents/{consent_id}/revoke", response_model=ConsentRead, responses=_problems(422)
    )
    def revoke_consent(
        consent_id: uuid.UUID,
        body: RevokeRequest,
        session: Session = db,
        caller: Caller = current_caller,
    ) -> ConsentRead:
        """Revoke on the client's instruction: effective for the very next decision."""
        need(caller, "Consent", "u")
        record = service.revoke(session, caller, series_id=consent_id, reason=body.reason)
        return _reads(session, [record])[0]

    @router.post("/$decide", response_model=DecisionRead, responses=_problems(422))
    def decide(
        body: DecideRequest, session: Session = db, caller: Caller = current_caller
    ) -> DecisionRead:
        """The decision point: may these categories go to this organisation for this purpose?"""
        need(caller, "Consent", "r")
        clients.get_client(session, caller, client_id=body.client_id)
        answer = decision.decide(
            session,
            caller,
            client_id=body.client_id,
            recipient_org_id=body.recipient_organisation_id,
            recipient_org_type=organisations.type_of(session, body.recipient_organisation_id),
            purpose=body.purpose,
            categories=body.categories,
            override_code=body.override_code,
            override_reason=body.override_reason,
        )
        return DecisionRead(
            permit=answer.permit,
            permitted_categories=sorted(answer.permitted_categories),
            consent_version=answer.consent_version,
            consent_versions=list(answer.consent_versions),
            reasons=list(answer.reasons),
            override=answer.override,
        )

    @router.post(
        "/clients/{person_id}/page-links",
        response_model=PageLinkRead,
        status_code=201,
        responses=_problems(422),
    )
    def issue_page_link(
        person_id: uuid.UUID,
        body: PageLinkCreate,
        session: Session = db,
        caller: Caller = current_caller,
    ) -> PageLinkRead:
        """A single-use link to the client's consent page, with the code to give them."""
        need(caller, "Consent", "u")
        issued = page_access.issue_link(
            session,
            caller,
            client_id=person_id,
            base_url=base_url,
            language=body.language,
            second_check=body.second_check,
            valid_minutes=body.valid_minutes,
        )
        return PageLinkRead(url=issued.url, expires_at=issued.expires_at, code=issued.code)

    return router
