"""An unmodified FHIR client library (fhirpy's SyncFHIRClient) drives a referral through
the hub served by uvicorn: the sender posts a transaction Bundle, the receiver finds it in
its inbox (`Task?owner=...&status=requested&_include=Task:focus`), asks a question in the
thread, accepts and completes it with an output by PUTting the Task; the sender sees the
outcome. Data is committed (the app runs in another thread) and stays in the run's
database, under fresh organisations only this test uses."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest
from fhirpy import SyncFHIRClient

import adapters
from adapters import DataCategory
from consent.models import Purpose
from directory import service as directory_service
from directory.schemas import EndpointIn
from gateway.auth.models import Organisation, OrgStatus
from gateway.runtime import Runtime
from kernel.db import transaction
from tests.consent.factories import grant, make_client, permit, staff
from tests.directory.factories import editor, make_listing
from tests.gateway.auth.factories import RegisteredClient, token_form
from tests.gateway.auth.factories import make_client as make_system_client
from tests.gateway.workflow.conftest import EXAMPLE, SCOPES
from tests.serving import serve

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@dataclass
class Live:
    url: str
    sender: RegisteredClient
    receiver: RegisteredClient
    receiver_org: uuid.UUID
    bundle: dict[str, object]


@pytest.fixture
def live(committed: Runtime) -> Iterator[Live]:
    run = uuid.uuid4().hex[:8]
    with transaction(committed.sessions) as session:
        orgs = []
        for name, kind in (
            ("Fhirpy sender", "resettlement_ngo"),
            ("Fhirpy receiver", "gbv_service"),
        ):
            org = Organisation(
                name=f"{name} {run}",
                org_type=kind,
                status=OrgStatus.ACTIVE.value,
                contact_email="office@example.org",
            )
            session.add(org)
            session.flush()
            orgs.append(org)
        sender_org, receiver_org = orgs
        sender = make_system_client(session, sender_org, scopes=SCOPES)
        receiver = make_system_client(session, receiver_org, scopes=SCOPES)
        service_id = make_listing(
            session, receiver_org.id, name=f"Fhirpy {run}", accepts_electronic_referrals=True
        )
        directory_service.set_endpoint(
            session,
            editor(receiver_org.id),
            body=EndpointIn(connection_type="rest-hook", address="https://receiver.example/hook"),
        )
        worker = staff(sender_org.id)
        client = make_client(session, worker)
        consent = grant(
            session,
            worker,
            client,
            permit(
                org=receiver_org.id,
                purposes=(Purpose.REFERRAL,),
                categories=(DataCategory.IDENTITY, DataCategory.NEEDS, DataCategory.CASE_NOTES),
            ),
            # the consent names both agencies: answers may flow back to the sender
            permit(
                org=sender_org.id,
                purposes=(Purpose.REFERRAL,),
                categories=(DataCategory.CASE_NOTES,),
            ),
        )
        summary = json.loads(EXAMPLE.read_text())
        summary["referral"]["referred_by"]["organization"]["reference"] = None
        summary["referral"]["referred_to"]["organization"] = {"name": receiver_org.name}
        summary["referral"]["referred_to"]["service"] = {
            "reference": f"HealthcareService/{service_id}"
        }
        summary["consent"] = {"reference": f"Consent/{consent.series_id}"}
        receiver_org_id = receiver_org.id
    converted = adapters.convert(json.dumps(summary).encode(), "summary", "fhir")
    bundle = json.loads(converted.outputs[0].content)
    with serve(committed) as url:
        yield Live(url, sender, receiver, receiver_org_id, bundle)


def _bearer(url: str, registered: RegisteredClient) -> str:
    form = token_form(registered.assertion(f"{url}/auth/token"), scope=" ".join(SCOPES))
    answer = httpx.post(f"{url}/auth/token", data=form)
    assert answer.status_code == 200, answer.text
    return f"Bearer {answer.json()['access_token']}"


def test_fhirpy_drives_a_referral_to_completion(live: Live) -> None:
    sender = SyncFHIRClient(f"{live.url}/fhir", authorization=_bearer(live.url, live.sender))
    receiver = SyncFHIRClient(f"{live.url}/fhir", authorization=_bearer(live.url, live.receiver))

    answer = sender.execute("", method="post", data=live.bundle)
    assert answer["type"] == "transaction-response"
    assert len(answer["entry"]) == len(live.bundle["entry"])  # type: ignore[arg-type]
    locations = [e["response"]["location"] for e in answer["entry"] if "location" in e["response"]]
    task_location = next(loc for loc in locations if loc.startswith("Task/"))
    task_id = task_location.split("/")[1]
    for location in locations:  # every location reads (vread for versioned ones)
        if not location.startswith("Patient/"):
            kind, rid, *_ = location.split("/")
            assert sender.reference(kind, rid).to_resource()["id"] == rid

    inbox = (
        receiver.resources("Task")
        .search(owner=f"Organization/{live.receiver_org}", status="requested")
        .include("Task", "focus")
    )
    found = inbox.fetch_raw()
    tasks = [e["resource"] for e in found["entry"] if e["resource"]["resourceType"] == "Task"]
    requests = [
        e["resource"] for e in found["entry"] if e["resource"]["resourceType"] == "ServiceRequest"
    ]
    assert [t["id"] for t in tasks] == [task_id]
    assert len(requests) == 1 and tasks[0]["focus"]["reference"].endswith(requests[0]["id"])
    # the packet's supporting resources, read by the references the ServiceRequest holds
    supporting = [r["reference"] for r in requests[0].get("reasonReference", [])]
    assert supporting and not [r for r in supporting if r.startswith("urn:")]
    for reference in supporting:
        kind, rid = reference.split("/")
        assert receiver.reference(kind, rid).to_resource()["resourceType"] == kind

    question = receiver.resource(
        "Communication",
        status="completed",
        partOf=[{"reference": f"Task/{task_id}"}],
        payload=[{"contentString": "Does the client prefer a male counsellor?"}],
    )
    question.save()
    thread = sender.resources("Communication").search(**{"part-of": f"Task/{task_id}"}).fetch()
    assert [c["payload"][0]["contentString"] for c in thread] == [
        "Does the client prefer a male counsellor?"
    ]

    task = receiver.resources("Task").search(_id=task_id).get()
    task["status"] = "accepted"
    task.save()
    task = receiver.reference("Task", task_id).to_resource()
    task["status"] = "in-progress"
    task.save()
    task = receiver.reference("Task", task_id).to_resource()
    task["status"] = "completed"
    with pytest.raises(Exception) as no_output:  # refer-9: completion needs an output
        task.save()
    assert "Task.output" in str(no_output.value) or "422" in str(no_output.value)
    task = receiver.reference("Task", task_id).to_resource()
    task["status"] = "completed"
    task["contained"] = [
        {
            "resourceType": "Procedure",
            "id": "p1",
            "status": "completed",
            "basedOn": [task["focus"]],
            "subject": task["for"],
            "code": {
                "coding": [{"system": "http://snomed.info/sct", "code": "410606002"}],
                "text": "Intake assessment and four counselling sessions",
            },
            "performedDateTime": "2026-12-01",
        }
    ]
    task["output"] = [
        {
            "type": {
                "coding": [
                    {
                        "system": "http://hl7.org/fhir/us/sdoh-clinicalcare/CodeSystem/"
                        "SDOHCC-CodeSystemTemporaryCodes",
                        "code": "resulting-activity",
                    }
                ]
            },
            "valueReference": {"reference": "#p1"},
        }
    ]
    task.save()

    seen = sender.reference("Task", task_id).to_resource()
    assert seen["status"] == "completed"
    # fetch after notification: the search answers the same Task, outcome included
    searched = sender.resources("Task").search(_id=task_id).get()
    assert searched["output"] == seen["output"] and searched["contained"] == seen["contained"]
    assert seen["businessStatus"]["coding"][0]["code"] == "7.0"
    assert seen["contained"][0]["code"]["text"].startswith("Intake assessment")

    wrong = receiver.reference("Task", task_id).to_resource()
    wrong["status"] = "requested"
    with pytest.raises(Exception) as refused:  # fhirpy raises OperationOutcome on 409
        wrong.save()
    assert "allowed" in str(refused.value).lower() or "409" in str(refused.value)
