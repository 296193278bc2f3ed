"""A referral sent by an organisation, made through the service functions (for tests that
need one without walking the HTTP API, e.g. the isolation walk)."""

from __future__ import annotations

import json
import uuid
from typing import Any

from sqlalchemy.orm import Session

import adapters
from adapters import DataCategory
from consent.models import Purpose
from directory import service as directory_service
from directory.schemas import EndpointIn
from gateway.auth.models import Organisation, OrgStatus
from gateway.workflow import content, fhir_packet
from gateway.workflow.models import Referral
from gateway.workflow.submit import submit
from kernel.caller import Caller, CallerKind, Role
from tests.consent.factories import grant, make_client, permit
from tests.directory.factories import editor, make_listing
from tests.gateway.workflow.conftest import EXAMPLE


def referral_from(db: Session, sender_org_id: uuid.UUID) -> Referral:
    """A requested referral from `sender_org_id` to a fresh listed receiver."""
    receiver = Organisation(
        name=f"Receiver {uuid.uuid4().hex[:8]}",
        org_type="health",
        status=OrgStatus.ACTIVE.value,
        contact_email="intake@example.org",
    )
    db.add(receiver)
    db.flush()
    service_id = make_listing(db, receiver.id, accepts_electronic_referrals=True)
    directory_service.set_endpoint(
        db,
        editor(receiver.id),
        body=EndpointIn(connection_type="rest-hook", address="https://receiver.example/hook"),
    )
    worker = Caller(
        CallerKind.USER, uuid.uuid4(), sender_org_id, roles=frozenset({Role.SUPERVISOR})
    )
    client = make_client(db, worker)
    consent = grant(
        db,
        worker,
        client,
        permit(
            org=receiver.id,
            purposes=(Purpose.REFERRAL,),
            categories=(DataCategory.IDENTITY, DataCategory.NEEDS, DataCategory.CASE_NOTES),
        ),
    )
    summary = json.loads(EXAMPLE.read_text())
    summary["referral"]["referred_to"]["service"] = {"reference": f"HealthcareService/{service_id}"}
    summary["consent"] = {"reference": f"Consent/{consent.series_id}"}
    packet = adapters.read(json.dumps(summary).encode(), "summary").cases[0].packet
    assert packet is not None
    return submit(db, worker, packet=packet, source_format="summary").referral


def workflow_isolation_ids(db: Session, org_id: uuid.UUID) -> dict[str, Any]:
    referral = referral_from(db, org_id)
    packet = content.open_packet(db, referral)
    condition = next(
        e["resource"]["id"]
        for e in packet["entry"]
        if e["resource"]["resourceType"] not in ("Patient", "ServiceRequest", "Task")
    )
    return {
        "referral_id": referral.id,
        "task_id": referral.id,
        "request_id": referral.service_request_id,
        # a packet resource's public id (the walk reads it as every packet resource type)
        "resource_id": fhir_packet.public_id(referral.id, condition),
    }
