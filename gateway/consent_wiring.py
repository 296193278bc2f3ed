"""Gateway side of consent: the organisation facts consent may not read itself, what a
received referral discloses of its client, and the demo loader (clients with consents
between the demo agencies).

Consent never imports the gateway; the composition root hands it `ORGANISATIONS` and
`DISCLOSURES` and registers `load` in `gateway.demo.DEMO_LOADERS`.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from adapters import DataCategory
from consent import clients as consent_clients
from consent import service as consent_service
from consent import vault as consent_vault
from consent.models import (
    ClientIdentifier,
    GrantMethod,
    GrantorRelationship,
    ProvisionKind,
    Purpose,
)
from consent.schemas import (
    ConsentCreate,
    GrantorIn,
    IdentifierIn,
    IdentityIn,
    ProvisionIn,
    RecipientIn,
)
from gateway.auth.models import Organisation, OrgStatus
from gateway.workflow import access as workflow_access
from gateway.workflow import content as workflow_content
from gateway.workflow.models import Referral
from gateway.workflow.states import Party
from kernel.caller import Caller, CallerKind, Role
from kernel.organisations import OrgType
from kernel.settings import Settings

__all__ = ["DISCLOSURES", "ORGANISATIONS", "GatewayDisclosures", "GatewayOrganisations", "load"]


class GatewayOrganisations:
    """`consent.ports.Organisations` over the identity tables."""

    def type_of(self, session: Session, organisation_id: uuid.UUID) -> str | None:
        return session.scalars(
            select(Organisation.org_type).where(Organisation.id == organisation_id)
        ).first()

    def names(self, session: Session, ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, str]:
        wanted = list(set(ids))
        if not wanted:
            return {}
        rows = session.execute(
            select(Organisation.id, Organisation.name).where(Organisation.id.in_(wanted))
        )
        return {row_id: name for row_id, name in rows}

    def members(self, session: Session) -> list[tuple[uuid.UUID, str, str]]:
        """The active member organisations (id, name, type), by name: who a consent may
        name as recipient."""
        rows = session.execute(
            select(Organisation.id, Organisation.name, Organisation.org_type)
            .where(Organisation.status == OrgStatus.ACTIVE.value)
            .order_by(Organisation.name, Organisation.id)
        )
        return [(row_id, name, str(org_type)) for row_id, name, org_type in rows]


ORGANISATIONS = GatewayOrganisations()


def _packet_patient(packet: dict[str, Any]) -> dict[str, Any] | None:
    for entry in packet.get("entry") or []:
        resource = entry.get("resource") or {}
        if resource.get("resourceType") == "Patient":
            return dict(resource)
    return None


class GatewayDisclosures:
    """`consent.ports.Disclosures` over the referral workflow (read-only)."""

    def patient(
        self, session: Session, caller: Caller, patient_id: uuid.UUID
    ) -> dict[str, Any] | None:
        received = (
            select(Referral)
            .where(
                workflow_access.visible_clause(caller),
                Referral.owner_org_id == caller.organisation_id,
            )
            .order_by(Referral.authored_on.desc(), Referral.id)
        )
        # By the client id only: the hub's FHIR reads name the client so (`Task.for`,
        # `ServiceRequest.subject`); the packet's own Patient id stays inside the packet.
        referral = session.scalars(received.where(Referral.client_id == patient_id)).first()
        if referral is None:
            return None
        packet = workflow_content.packet_for(session, caller, referral, Party.OWNER)
        patient = _packet_patient(packet)
        if patient is None:
            return None
        patient["id"] = str(patient_id)
        return patient


DISCLOSURES = GatewayDisclosures()

NORTHSIDE = "Northside Resettlement Services"
HARBOUR = "Harbour Child Protection Service"
_DEMO_SYSTEM = "https://demo.refhub.org/northside/case"
_LOADER_ID = uuid.UUID("00000000-0000-4000-8000-00000000c025")
_DEMO_CLIENTS = (
    ("N-1001", "Amal Haddad", "1988-04-02", "ar"),
    ("N-1002", "Olena Kovalenko", "1979-11-17", "uk"),
    ("N-1003", "Samir Haddad", "2014-06-30", "ar"),
)


def _org_id(session: Session, name: str) -> uuid.UUID | None:
    return session.scalars(select(Organisation.id).where(Organisation.name == name)).first()


def load(session: Session, settings: Settings) -> list[str]:
    """Demo clients of Northside with consents for Harbour (idempotent by case number)."""
    northside, harbour = _org_id(session, NORTHSIDE), _org_id(session, HARBOUR)
    if northside is None or harbour is None:
        return ["Consent demo: skipped (demo organisations missing)"]
    consent_vault.generate_kek_file(settings.kek_path)
    caller = Caller(
        kind=CallerKind.SYSTEM,
        id=_LOADER_ID,
        organisation_id=northside,
        roles=frozenset({Role.CASE_WORKER}),
    )
    lines = ["Consent demo clients (Northside):"]
    start = dt.datetime.now(dt.UTC)
    for number, name, birth_date, language in _DEMO_CLIENTS:
        existing = session.scalars(
            select(ClientIdentifier.client_id).where(
                ClientIdentifier.organisation_id == northside,
                ClientIdentifier.system == _DEMO_SYSTEM,
                ClientIdentifier.value == number,
            )
        ).first()
        if existing is None:
            client = consent_clients.register_client(
                session,
                caller,
                identity=IdentityIn.model_validate(
                    {"name": name, "birth_date": birth_date, "preferred_language": language}
                ),
                identifiers=[IdentifierIn(system=_DEMO_SYSTEM, value=number)],
            )
            existing = client.id
            child = number == "N-1003"
            consent_service.create_consent(
                session,
                caller,
                client_id=client.id,
                draft=ConsentCreate(
                    grantor=GrantorIn(
                        relationship=GrantorRelationship.PARENT
                        if child
                        else GrantorRelationship.SELF
                    ),
                    method=GrantMethod.WRITTEN,
                    period_start=start,
                    period_end=start + dt.timedelta(days=365),
                    language="ar" if language == "ar" else "uk",
                    provisions=[
                        ProvisionIn(
                            recipients=[RecipientIn(organisation_id=harbour)],
                            purposes=[Purpose.REFERRAL, Purpose.SERVICE_COORDINATION],
                            categories=[
                                DataCategory.IDENTITY,
                                DataCategory.CONTACT,
                                DataCategory.NEEDS,
                                DataCategory.FAMILY,
                            ],
                        ),
                        ProvisionIn(
                            recipients=[RecipientIn(organisation_type=OrgType.CHILD_PROTECTION)],
                            purposes=[Purpose.REFERRAL],
                            categories=[DataCategory.PROTECTION],
                        ),
                        ProvisionIn(kind=ProvisionKind.DENY, categories=[DataCategory.HEALTH]),
                    ],
                ),
            )
        lines.append(f"  {number}: client {existing}")
    return lines
