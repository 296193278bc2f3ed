"""A small network for workflow scenarios: a sender and two receivers, each signed in with
real SMART Backend Services tokens, a client with a consent, and a case summary to send."""

from __future__ import annotations

import copy
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from adapters import DataCategory
from consent.models import Purpose
from directory import service as directory_service
from directory.schemas import EndpointIn
from gateway.auth.models import Organisation
from tests.consent.factories import grant, make_client, permit, staff
from tests.directory.factories import editor, make_listing
from tests.gateway.auth.factories import RegisteredClient, token_form
from tests.gateway.auth.factories import make_client as make_system_client
from tests.gateway.staff import MakeOrg

EXAMPLE = Path(__file__).parents[3] / "docs" / "examples" / "summary.json"
PERMITTED = (
    DataCategory.IDENTITY,
    DataCategory.CONTACT,
    DataCategory.FAMILY,
    DataCategory.NEEDS,
    DataCategory.CASE_NOTES,
)


@dataclass
class Agency:
    org: Organisation
    http: TestClient
    headers: dict[str, str]
    service_id: uuid.UUID | None = None
    registered: RegisteredClient | None = None

    @property
    def id(self) -> uuid.UUID:
        return self.org.id

    def get(self, url: str, **kw: Any) -> Any:
        return self.http.get(url, headers={**self.headers, **kw.pop("headers", {})}, **kw)

    def post(self, url: str, **kw: Any) -> Any:
        return self.http.post(url, headers={**self.headers, **kw.pop("headers", {})}, **kw)

    def put(self, url: str, **kw: Any) -> Any:
        return self.http.put(url, headers={**self.headers, **kw.pop("headers", {})}, **kw)


@dataclass
class Network:
    sender: Agency
    receiver: Agency
    second: Agency
    client_id: uuid.UUID
    consent_id: uuid.UUID
    db: Session
    extra: dict[str, Any] = field(default_factory=dict)

    def summary(
        self,
        to: Agency | None = None,
        *,
        kind: str = "referral",
        consent_id: uuid.UUID | None = None,
        do_not_contact: bool = False,
    ) -> dict[str, Any]:
        to = to or self.receiver
        data: dict[str, Any] = copy.deepcopy(json.loads(EXAMPLE.read_text()))
        data["referral"]["kind"] = kind
        data["referral"]["referred_by"]["organization"]["reference"] = None
        data["referral"]["referred_to"]["organization"] = {"name": to.org.name}
        data["referral"]["referred_to"]["service"] = {
            "name": "Counselling",
            "reference": f"HealthcareService/{to.service_id}",
        }
        data["referral"]["do_not_contact_client"] = do_not_contact
        data["consent"] = {"reference": f"Consent/{consent_id or self.consent_id}"}
        return data

    def submit(self, to: Agency | None = None, **kw: Any) -> Any:
        key = kw.pop("key", None)
        headers = {"Idempotency-Key": key} if key else {}
        return self.sender.post(
            "/referrals?format=summary", json=self.summary(to, **kw), headers=headers
        )


def bearer(app: FastAPI, registered: RegisteredClient, scope: str) -> dict[str, str]:
    audience = "http://127.0.0.1:8000/auth/token"
    form = token_form(registered.assertion(audience), scope=scope)
    token = TestClient(app).post("/auth/token", data=form)
    assert token.status_code == 200, token.text
    return {"Authorization": f"Bearer {token.json()['access_token']}"}


SCOPES = (
    "system/ServiceRequest.cruds",
    "system/Task.cruds",
    "system/Communication.cruds",
    "system/Consent.cruds",
    "system/DocumentReference.cruds",
    "system/Patient.rs",
)


@pytest.fixture
def agency(app: FastAPI, db: Session, make_org: MakeOrg) -> Callable[..., Agency]:
    def make(name: str, org_type: str = "resettlement_ngo", listed: bool = False) -> Agency:
        org = make_org(name=f"{name} {uuid.uuid4().hex[:6]}", org_type=org_type)
        registered = make_system_client(db, org, algs=("ES384",), scopes=SCOPES)
        headers = bearer(app, registered, " ".join(SCOPES))
        service_id = None
        if listed:
            service_id = make_listing(
                db, org.id, name=f"{name} service", accepts_electronic_referrals=True
            )
            directory_service.set_endpoint(
                db,
                editor(org.id),
                body=EndpointIn(
                    connection_type="rest-hook", address=f"https://{org.id.hex[:8]}.example/hook"
                ),
            )
        db.commit()  # into the test's outer transaction: a refused request cannot undo it
        return Agency(
            org=org,
            http=TestClient(app, raise_server_exceptions=False),
            headers=headers,
            service_id=service_id,
            registered=registered,
        )

    return make


@pytest.fixture
def network(app: FastAPI, db: Session, agency: Callable[..., Agency]) -> Network:
    sender = agency("Harbour Resettlement")
    receiver = agency("Safe Harbour Counselling", "torture_survivor_service", listed=True)
    second = agency("Second Counselling", "torture_survivor_service", listed=True)
    worker = staff(sender.id)
    client = make_client(db, worker)
    record = grant(
        db,
        worker,
        client,
        permit(
            org_type="torture_survivor_service",
            purposes=(Purpose.REFERRAL, Purpose.HANDOVER),
            categories=PERMITTED,
        ),
        # the consent names both agencies: answers and documents may flow back
        permit(
            org=sender.id,
            purposes=(Purpose.REFERRAL, Purpose.HANDOVER),
            categories=(DataCategory.CASE_NOTES, DataCategory.DOCUMENTS),
        ),
    )
    db.commit()
    return Network(
        sender=sender,
        receiver=receiver,
        second=second,
        client_id=client.id,
        consent_id=record.series_id,
        db=db,
    )


def run_outbox(db: Session, *tasks: str) -> int:
    """Run the pending outbox events named `tasks` in the test's transaction, as the relay
    would after a commit (delivery itself is tested with a real worker elsewhere)."""
    from sqlalchemy import select

    from kernel import outbox

    ran = 0
    registry = outbox.registered_tasks()
    for event in db.scalars(
        select(outbox.OutboxEvent).where(
            outbox.OutboxEvent.state == outbox.EventState.PENDING,
            outbox.OutboxEvent.task.in_(tasks),
        )
    ).all():
        with db.begin_nested():
            registry[event.task].handler(db, **event.payload)
        event.state = outbox.EventState.DONE
        ran += 1
    db.commit()
    return ran
