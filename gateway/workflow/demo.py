"""Demo referrals: a living network between the demo agencies for `refhub demo`.

Northside refers three clients to Harbour's services; the referrals stand in different
states (requested, accepted, in progress with a conversation, declined for lack of
capacity and re-sent, completed with an outcome) and one handover was accepted and waits
for first contact. Everything goes through the real service functions (`submit`, `change`,
`resend`, `thread.post`) with the demo staff as callers, so the history, audit chain and
outgoing messages are those of real use. Idempotent: each scenario is keyed by the
submission's idempotency key and skipped when it exists.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

import adapters
from adapters import DataCategory
from consent import clients as consent_clients
from consent import service as consent_service
from consent.models import ClientIdentifier, GrantMethod, GrantorRelationship, Purpose
from consent.schemas import (
    ConsentCreate,
    GrantorIn,
    IdentifierIn,
    IdentityIn,
    ProvisionIn,
    RecipientIn,
)
from directory import service as directory_service
from directory.models import Service
from directory.schemas import EndpointIn, OrganizationIn, ServiceIn
from gateway.auth import demo as auth_demo
from gateway.auth.models import Organisation, User
from gateway.workflow import fhir, resend, thread
from gateway.workflow.change import Change, change
from gateway.workflow.models import Referral
from gateway.workflow.submit import submit
from kernel.caller import Caller, CallerKind, Role
from kernel.settings import Settings

__all__ = ["SCENARIOS", "load"]

NORTHSIDE = auth_demo.ORGANISATIONS[1][0]
HARBOUR = auth_demo.ORGANISATIONS[2][0]
_CASE_SYSTEM = "https://demo.refhub.org/northside/workflow-case"
_LOADER_ID = uuid.UUID("00000000-0000-4000-8000-00000000f10a")
_CLIENTS = (  # case number, given, family, birth date, language, minor
    ("NW-2001", "Layla", "Ahmadi", "1992-03-14", "fa", False),
    ("NW-2002", "Dawit", "Tesfaye", "1985-09-02", "ti", False),
    ("NW-2003", "Mariam", "Sultani", "2010-05-20", "fa", True),
)
_SERVICES = (  # name, taxonomy category, capacity
    ("Child protection case management", "case-management", "capacity"),
    ("Family tracing and reunification", "case-management", "waitlist"),
    ("Safe spaces for children and adolescents", "childcare", "no-capacity"),
)


@dataclass(frozen=True)
class Scenario:
    """One demo referral: who, to which service, and the moves it went through."""

    key: str
    client: str
    service: int
    requested: tuple[tuple[str, str], ...]
    kind: str = "referral"
    do_not_contact: bool = False
    goals: tuple[tuple[str, str, str], ...] = ()  # description, domain, status
    moves: tuple[Change, ...] = ()
    resend_to: int | None = None
    thread: tuple[tuple[str, str], ...] = ()  # (side, text); side "owner" | "requester"
    extra: dict[str, Any] = field(default_factory=dict)


_TODAY = dt.date.today().isoformat()
SCENARIOS = (
    Scenario(
        "demo-requested",
        "NW-2001",
        1,
        (("family-tracing", "Trace the client's brother, last in contact in 2023"),),
    ),
    Scenario(
        "demo-accepted",
        "NW-2002",
        0,
        (("child-protection", "Support for the client's two children after a school report"),),
        moves=(Change(status="accepted"),),
    ),
    Scenario(
        "demo-in-progress",
        "NW-2003",
        0,
        (("child-protection", "Case management for an adolescent at risk"),),
        do_not_contact=True,
        moves=(Change(status="accepted"), Change(status="in-progress", business_status="5.1.1")),
        thread=(
            ("owner", "Can we meet Mariam at your office with her aunt present?"),
            ("requester", "Yes: Tuesday at 10:00 suits them; please do not call her directly."),
        ),
    ),
    Scenario(
        "demo-declined",
        "NW-2001",
        2,
        (("social-connection", "A safe space for the client's daughter after school"),),
        moves=(
            Change(
                status="rejected",
                reason="no-capacity",
                reason_text="No places until next month",
            ),
        ),
        resend_to=0,
    ),
    Scenario(
        "demo-completed",
        "NW-2002",
        1,
        (("family-tracing", "Restore contact with the client's mother"),),
        moves=(
            Change(status="accepted"),
            Change(status="in-progress"),
            Change(status="completed"),
        ),
        extra={"output": "Contact restored with the client's mother by phone"},
    ),
    Scenario(
        "demo-handover",
        "NW-2003",
        0,
        (("child-protection", "Take over case management; the family moves to Harbour's area"),),
        kind="handover",
        goals=(
            ("Enrolled in school before the next term", "education", "active"),
            ("Weekly contact with a trusted adult", "social-connection", "accepted"),
            ("Emergency shelter found", "shelter", "completed"),
        ),
        moves=(Change(status="accepted"),),
    ),
)


def _org_id(session: Session, name: str) -> uuid.UUID | None:
    return session.scalars(select(Organisation.id).where(Organisation.name == name)).first()


def staff_of(session: Session, email: str) -> Caller | None:
    """The demo staff member with this email, as a caller (None before the auth demo)."""
    user = session.scalars(select(User).where(User.email == email)).first()
    if user is None:
        return None
    return Caller(
        kind=CallerKind.USER,
        id=user.id,
        organisation_id=user.organisation_id,
        roles=frozenset(Role(r) for r in user.roles),
        team=user.team,
    )


def _services(session: Session, org_id: uuid.UUID) -> list[uuid.UUID]:
    """Harbour's listings taking electronic referrals (created once, with an endpoint)."""
    admin = Caller(
        kind=CallerKind.SYSTEM,
        id=_LOADER_ID,
        organisation_id=org_id,
        roles=frozenset({Role.ORG_ADMIN}),
    )
    if directory_service.own_organization(session, org_id) is None:
        directory_service.upsert_organization(
            session,
            admin,
            body=OrganizationIn(
                name=HARBOUR,
                description="Child protection for refugee and migrant children and families.",
                org_type="child_protection",
            ),
        )
    ids: list[uuid.UUID] = []
    created = False
    for name, category, capacity in _SERVICES:
        found = session.scalars(
            select(Service.id).where(Service.owner_organisation_id == org_id, Service.name == name)
        ).first()
        if found is None:
            found = directory_service.create_service(
                session,
                admin,
                body=ServiceIn.model_validate(
                    {
                        "name": name,
                        "description": f"{name} for children and families referred by partners.",
                        "categories": [category],
                        "populations": ["children-at-risk"],
                        "languages": ["en", "ar", "fa", "ti"],
                        "accepts_electronic_referrals": True,
                        "capacity": capacity,
                    }
                ),
            ).id
            created = True
        ids.append(found)
    if created:  # no public key: content waits in Harbour's hub inbox (GET /delivery/inbox)
        directory_service.set_endpoint(
            session,
            admin,
            body=EndpointIn(
                connection_type="hl7-fhir-rest",
                address=f"https://harbour.{auth_demo.DEMO_DOMAIN}/fhir",
                name="Harbour case-management system (demo: no key, pulls from the hub)",
            ),
        )
    return ids


def _client(
    session: Session, worker: Caller, harbour: uuid.UUID, spec: tuple[Any, ...]
) -> tuple[uuid.UUID, uuid.UUID] | None:
    """The demo client and its consent series (both created once)."""
    number, given, family, birth_date, language, minor = spec
    client_id = session.scalars(
        select(ClientIdentifier.client_id).where(
            ClientIdentifier.organisation_id == worker.organisation_id,
            ClientIdentifier.system == _CASE_SYSTEM,
            ClientIdentifier.value == number,
        )
    ).first()
    if client_id is not None:
        records = consent_service.latest_versions(session, worker, client_id=client_id)
        return (client_id, records[0].series_id) if records else None
    client = consent_clients.register_client(
        session,
        worker,
        identity=IdentityIn.model_validate(
            {
                "name": f"{given} {family}",
                "birth_date": birth_date,
                "preferred_language": language if language in ("ar", "uk") else "en",
            }
        ),
        identifiers=[IdentifierIn(system=_CASE_SYSTEM, value=number)],
    )
    start = dt.datetime.now(dt.UTC)
    record = consent_service.create_consent(
        session,
        worker,
        client_id=client.id,
        draft=ConsentCreate(
            grantor=GrantorIn(
                relationship=GrantorRelationship.PARENT if minor else GrantorRelationship.SELF
            ),
            method=GrantMethod.WRITTEN,
            period_start=start,
            period_end=start + dt.timedelta(days=365),
            language="en",
            provisions=[
                ProvisionIn(
                    recipients=[
                        RecipientIn(organisation_id=harbour),
                        RecipientIn(organisation_id=worker.organisation_id),
                    ],
                    purposes=[
                        Purpose.REFERRAL,
                        Purpose.HANDOVER,
                        Purpose.FOLLOW_UP,
                        Purpose.SERVICE_COORDINATION,
                    ],
                    categories=[
                        DataCategory.IDENTITY,
                        DataCategory.CONTACT,
                        DataCategory.FAMILY,
                        DataCategory.NEEDS,
                        DataCategory.PROTECTION,
                        DataCategory.CASE_NOTES,
                    ],
                )
            ],
        ),
    )
    return client.id, record.series_id


def _summary(
    scenario: Scenario, spec: tuple[Any, ...], consent: uuid.UUID, service: uuid.UUID
) -> bytes:
    number, given, family, birth_date, language, _minor = spec
    summary = {
        "version": "1",
        "case_id": f"{number}-{scenario.key.removeprefix('demo-')}",
        "referral": {
            "kind": scenario.kind,
            "priority": "72h",
            "date": _TODAY,
            "referred_by": {
                "organization": {"name": NORTHSIDE},
                "worker": {"name": "Case worker (demo)", "position": "Case worker"},
            },
            "referred_to": {
                "organization": {"name": HARBOUR},
                "service": {"name": "Demo service", "reference": f"HealthcareService/{service}"},
            },
            "services_requested": [{"domain": d, "details": t} for d, t in scenario.requested],
            "delivery_channel": "hub",
            "reason": scenario.requested[0][1],
            "do_not_contact_client": scenario.do_not_contact,
        },
        "client": {
            "name": {"given": given, "family": family},
            "birth_date": birth_date,
            "languages": [{"code": language, "preferred": True}],
            "interpreter_needed": True,
        },
        "needs": [{"domain": d, "description": t} for d, t in scenario.requested],
        "goals": [
            {"description": text, "domain": domain, "status": status}
            for text, domain, status in scenario.goals
        ],
        "consent": {"reference": f"Consent/{consent}"},
        "summary": f"Demo case {number}: {scenario.requested[0][1]}.",
    }
    return json.dumps(summary).encode()


def _play(
    session: Session,
    scenario: Scenario,
    sender: Caller,
    receiver: Caller,
    client: tuple[uuid.UUID, uuid.UUID],
    spec: tuple[Any, ...],
    services: list[uuid.UUID],
) -> Referral:
    data = _summary(scenario, spec, client[1], services[scenario.service])
    result = adapters.read(data, "summary")
    packet = result.cases[0].packet
    assert packet is not None, result.cases[0].errors
    referral = submit(
        session,
        sender,
        packet=packet,
        source_format="summary",
        idempotency_key=scenario.key,
    ).referral
    for move in scenario.moves:
        if move.status == "completed" and scenario.extra.get("output"):
            outputs = fhir.outputs_from_simple(
                [{"description": scenario.extra["output"], "performed": _TODAY}],
                referral,
            )
            move = Change(status=move.status, outputs=outputs)
        change(session, receiver, referral.id, move)
    for side, text in scenario.thread:
        thread.post(session, receiver if side == "owner" else sender, referral.id, text=text)
    if scenario.resend_to is not None:
        resend.resend(
            session,
            sender,
            referral.id,
            service_id=services[scenario.resend_to],
            idempotency_key=f"{scenario.key}-resent",
        )
    return referral


def _exists(session: Session, org_id: uuid.UUID, key: str) -> bool:
    found = session.scalars(
        select(Referral.id).where(
            Referral.requester_org_id == org_id, Referral.idempotency_key == key
        )
    ).first()
    return found is not None


def load(session: Session, settings: Settings) -> list[str]:
    """Seed the demo referrals and handover between Northside and Harbour (once)."""
    northside, harbour = _org_id(session, NORTHSIDE), _org_id(session, HARBOUR)
    sender = staff_of(session, f"caseworker@northside.{auth_demo.DEMO_DOMAIN}")
    receiver = staff_of(session, f"caseworker@harbour.{auth_demo.DEMO_DOMAIN}")
    if northside is None or harbour is None or sender is None or receiver is None:
        return ["Referrals demo: skipped (demo organisations missing)"]
    services = _services(session, harbour)
    clients = {spec[0]: (spec, _client(session, sender, harbour, spec)) for spec in _CLIENTS}
    played = 0
    for scenario in SCENARIOS:
        spec, client = clients[scenario.client]
        if client is None or _exists(session, sender.organisation_id, scenario.key):
            continue
        _play(session, scenario, sender, receiver, client, spec, services)
        played += 1
    base = settings.public_base_url
    return [
        f"Referrals:      {played} demo referrals added ({len(SCENARIOS)} scenarios, "
        "Northside -> Harbour)",
        f"  web UI:       {base}/ui/inbox (Harbour staff), {base}/ui/outbox (Northside staff)",
    ]
