"""What the compose pages show, read through the owning packages' service functions:
the draft's client, service and consent in words, the choices of each step, the case
summary to send and the receiver's view of it."""

from __future__ import annotations

import base64
import datetime as dt
import json
import re
import uuid
from dataclasses import dataclass, field
from typing import Any

from fhir.resources.R4B.bundle import Bundle
from sqlalchemy.orm import Session

import adapters
from consent import client_search
from consent import clients as consent_clients
from consent import service as consent_service
from consent.errors import ConsentError
from consent.models import ConsentStatus, ProvisionKind
from directory import search as directory_search
from directory import service as directory_service
from directory.access import Viewer
from directory.errors import DirectoryError
from gateway.auth.models import Organisation
from gateway.documents import service as documents
from gateway.web.compose import form
from gateway.workflow import drafts
from gateway.workflow.models import ReferralDraft
from kernel.caller import Caller
from kernel.errors import RefhubError

__all__ = [
    "Built",
    "ClientView",
    "ConsentView",
    "ServiceView",
    "build",
    "client_view",
    "consents_of",
    "find_clients",
    "find_services",
    "receiver_html",
    "service_view",
]


@dataclass(frozen=True)
class ClientView:
    id: uuid.UUID
    name: str
    birth_date: str
    reference: str
    identity: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ServiceView:
    id: uuid.UUID
    name: str
    organisation: str
    description: str
    electronic: bool
    accepting: bool


@dataclass(frozen=True)
class ConsentView:
    id: uuid.UUID
    recorded_at: dt.datetime
    period_end: dt.datetime | None
    method: str
    #: per permit: recipients as ("org", name) or ("type", code), purposes, categories
    permits: list[tuple[list[tuple[str, str]], list[str], list[str]]]


def _client_view(client: Any, identity: dict[str, Any], identifiers: list[Any]) -> ClientView:
    birth = identity.get("birth_date")
    return ClientView(
        id=client.id,
        name=str(identity.get("name") or ""),
        birth_date=str(birth or ""),
        reference=", ".join(i.value for i in identifiers),
        identity=identity,
    )


def client_view(session: Session, caller: Caller, client_id: uuid.UUID | None) -> ClientView | None:
    """The draft's client in words, None if not chosen or no longer visible."""
    if client_id is None:
        return None
    try:
        client = consent_clients.get_client(session, caller, client_id=client_id)
        identity = consent_clients.identity_of(client)
    except ConsentError:
        return None
    mine = [
        i
        for i in consent_clients.identifiers_of(session, client.id)
        if i.organisation_id == caller.organisation_id
    ]
    return _client_view(client, identity, mine)


def find_clients(session: Session, caller: Caller, text: str) -> list[ClientView]:
    matches, _total = client_search.search_clients(session, caller, text=text, limit=20)
    return [_client_view(m.client, m.identity, m.identifiers) for m in matches]


def _service_view(details: Any) -> ServiceView:
    service = details.service
    return ServiceView(
        id=service.id,
        name=service.name,
        organisation=details.organization.name,
        description=(service.description or "")[:300],
        electronic=bool(service.accepts_electronic_referrals and details.endpoint),
        accepting=service.status == "active",
    )


def service_view(
    session: Session, caller: Caller, service_id: uuid.UUID | None
) -> ServiceView | None:
    if service_id is None:
        return None
    try:
        details = directory_service.get_service(session, Viewer.of(caller), service_id)
    except DirectoryError:
        return None
    return _service_view(details)


def find_services(session: Session, caller: Caller, text: str) -> list[ServiceView]:
    query = directory_search.Query(text=text or None, active=True, per_page=20)
    page = directory_search.search(session, Viewer.of(caller), query)
    return [_service_view(hit.details) for hit in page.hits]


def _org_name(session: Session, organisation_id: uuid.UUID) -> str:
    org = session.get(Organisation, organisation_id)
    return org.name if org else str(organisation_id)


def consents_of(session: Session, caller: Caller, client_id: uuid.UUID) -> list[ConsentView]:
    """The client's consents in force, newest first, each with what it permits."""
    records = [
        r
        for r in consent_service.latest_versions(session, caller, client_id=client_id)
        if r.status == ConsentStatus.ACTIVE
    ]
    provisions = consent_service.provisions_of(session, records)
    out = []
    for record in records:
        permits = []
        for provision, recipients in provisions[record.id]:
            if provision.kind != ProvisionKind.PERMIT:
                continue
            names = [
                ("org", _org_name(session, r.organisation_id))
                if r.organisation_id
                else ("type", str(r.organisation_type))
                for r in recipients
            ]
            permits.append((names, provision.purposes.split(), provision.categories.split()))
        out.append(
            ConsentView(
                record.series_id, record.recorded_at, record.period_end, record.method, permits
            )
        )
    return out


@dataclass(frozen=True)
class Built:
    """The case summary of a draft, complete, and what the adapters made of it."""

    summary: dict[str, Any]
    packet: Bundle | None
    errors: list[tuple[str, str]]  # (location, adapters' message)


def _attachments(session: Session, caller: Caller, ids: list[str]) -> list[form.Attachment]:
    out = []
    for raw in ids:
        try:
            document, data = documents.open_document(session, caller, document_id=uuid.UUID(raw))
        except (ValueError, RefhubError):
            continue
        title = documents.title_of(session, document)
        out.append((title, document.content_type, base64.b64encode(data).decode()))
    return out


def build(
    session: Session, caller: Caller, draft: ReferralDraft, *, profile: dict[str, Any]
) -> Built:
    """The draft as the case summary to send, validated by the adapters (summary format)."""
    content = drafts.content_of(session, draft)
    client = client_view(session, caller, draft.client_id)
    service = service_view(session, caller, draft.service_id)
    summary = form.complete(
        content.get("summary", {}),
        kind=draft.kind,
        today=dt.date.today(),
        sender={
            "organisation": profile.get("organisation_name") or "",
            "name": profile.get("display_name") or profile.get("user_email") or "",
            "email": profile.get("user_email"),
        },
        service={
            "id": draft.service_id,
            "name": service.name if service else "",
            "organisation": service.organisation if service else "",
        },
        consent_id=str(draft.consent_id),
        identity=client.identity if client else {},
        attachments=_attachments(session, caller, content.get("documents", [])),
    )
    result = adapters.read(json.dumps(summary).encode(), "summary")
    case = result.cases[0]
    errors = [(e.location or "", e.message) for e in case.errors]
    return Built(summary, case.packet if case.ok else None, errors)


_BODY = re.compile(r"<body>(.*)</body>", re.S)
_HEADING = re.compile(r"<(/?)h([1-5])>")


def receiver_html(packet: Bundle, language: str) -> str:
    """The receiver's view: the HTML summary adapter's page body, headings one level down
    (the page has its own h1). Every value in it was escaped by the adapter."""
    written = adapters.write([packet], "html", language=language)
    if not written.outputs:
        return ""
    match = _BODY.search(written.outputs[0].content)
    body = match.group(1) if match else ""
    body = re.sub(r"<footer>.*?</footer>", "", body, flags=re.S)
    return _HEADING.sub(lambda m: f"<{m[1]}h{int(m[2]) + 1}>", body)
