"""The whole closed loop as two organisations whose systems know only FHIR R4.

An unmodified client (fhirpy's SyncFHIRClient) against the hub served by uvicorn; no refhub
JSON route is called. What is set up outside FHIR is what a hub admin does once when an
organisation joins: the two organisations, their system clients (JWKS), the receiver's
listing and endpoint. Then, through `/fhir` only:

sender: find the service and its organisation in the directory -> register the client
(conditional create of a Patient, twice: one record) -> record the client's Consent naming
the receiving Organization by the id the directory gave -> POST the referral as a
transaction Bundle and read every location it answers;
receiver: find it in the inbox -> read the ServiceRequest, the Patient and every resource it
references -> ask in the thread (Communication) -> accept -> complete with the Gravity
output (a contained Procedure, `resulting-activity`);
sender: reads the question and the outcome from a Task search -> revokes the consent by
PUT (status inactive); the receiver can no longer read the client's data.

Every answer is also checked against HL7's R4 JSON schema by the served app's middleware.
Data is committed under fresh organisations only this test uses.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from fhirpy import SyncFHIRClient
from fhirpy.base.exceptions import ForbiddenError, OperationOutcome, ResourceNotFound

from directory import service as directory_service
from directory.schemas import EndpointIn
from gateway.auth.models import Organisation, OrgStatus
from gateway.runtime import Runtime
from kernel.db import transaction
from tests.consent.factories import fhir_consent
from tests.directory.factories import editor, make_listing
from tests.gateway.auth.factories import RegisteredClient, token_form
from tests.gateway.auth.factories import make_client as make_system_client
from tests.serving import serve

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

PACKET = Path(__file__).parents[3] / "docs" / "examples" / "packet.json"
ACT_REASON = "http://terminology.hl7.org/CodeSystem/v3-ActReason"
DATA = "https://refhub.org/fhir/CodeSystem/data-category"
SDOHCC = "http://hl7.org/fhir/us/sdoh-clinicalcare/CodeSystem/SDOHCC-CodeSystemTemporaryCodes"
CASE_SYSTEM = "https://sender.example/fhir/sid/case-number"
SCOPES = (
    " ".join(
        f"system/{kind}.cruds"
        for kind in (
            "Patient",
            "Consent",
            "ServiceRequest",
            "Task",
            "Communication",
            "Organization",
        )
    )
    + " system/HealthcareService.rs system/DocumentReference.rs"
)


@dataclass
class Live:
    url: str
    run: str
    sender: RegisteredClient
    receiver: RegisteredClient
    sender_org: uuid.UUID
    receiver_org: uuid.UUID


@pytest.fixture
def live(committed: Runtime) -> Iterator[Live]:
    """What the hub admin set up when the two organisations joined."""
    run = uuid.uuid4().hex[:8]
    with transaction(committed.sessions) as session:
        orgs = []
        for name, kind in (
            ("FHIR-only sender", "resettlement_ngo"),
            ("FHIR-only clinic", "health"),
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
        sender = make_system_client(session, sender_org, scopes=tuple(SCOPES.split()))
        receiver = make_system_client(session, receiver_org, scopes=tuple(SCOPES.split()))
        make_listing(
            session,
            receiver_org.id,
            name=f"FHIR-only counselling {run}",
            accepts_electronic_referrals=True,
        )
        directory_service.set_endpoint(
            session,
            editor(receiver_org.id),
            body=EndpointIn(connection_type="rest-hook", address="https://clinic.example/hook"),
        )
        sender_id, receiver_id = sender_org.id, receiver_org.id
    with serve(committed) as url:
        yield Live(url, run, sender, receiver, sender_id, receiver_id)


def _client(url: str, registered: RegisteredClient) -> SyncFHIRClient:
    form = token_form(registered.assertion(f"{url}/auth/token"), scope=SCOPES)
    answer = httpx.post(f"{url}/auth/token", data=form)
    assert answer.status_code == 200, answer.text
    token = answer.json()["access_token"]
    return SyncFHIRClient(f"{url}/fhir", authorization=f"Bearer {token}")


def _consent(patient: str, sender: str, receiver: str) -> dict[str, Any]:
    """The client's consent as the sender's system records it: to the receiving clinic,
    for a referral (ActReason TREAT), identity, contact, needs and case notes; back to the
    sender, case notes (answers may flow back)."""

    def permit(org: str, *categories: str) -> dict[str, Any]:
        return {
            "type": "permit",
            "actor": [
                {
                    "role": {"coding": [{"code": "IRCP"}]},
                    "reference": {"reference": org},
                }
            ],
            "purpose": [{"system": ACT_REASON, "code": "TREAT"}],
            "class": [{"system": DATA, "code": c} for c in categories],
        }

    return fhir_consent(
        patient,
        {
            "type": "deny",
            "provision": [
                permit(receiver, "identity", "contact", "needs", "case-notes"),
                permit(sender, "case-notes"),
            ],
        },
        organization=[{"reference": sender}],
    )


def _referral(sender: str, receiver: str, service: str, consent: str) -> dict[str, Any]:
    """The example packet (docs/examples/packet.json, a plain R4 transaction Bundle) as the
    sender's system would write it for this client, clinic and consent."""
    text = PACKET.read_text(encoding="utf-8")
    example = json.loads(text)
    task = next(e["resource"] for e in example["entry"] if e["resource"]["resourceType"] == "Task")
    request = next(
        e["resource"] for e in example["entry"] if e["resource"]["resourceType"] == "ServiceRequest"
    )
    old_sender = task["requester"]["reference"]
    old_receiver = task["owner"]["reference"]
    old_service = next(
        p["reference"] for p in request["performer"] if p["reference"].startswith("Healthcare")
    )
    old_consent = next(
        s["reference"] for s in request["supportingInfo"] if s["reference"].startswith("Consent/")
    )
    for old, new in (
        (old_sender, sender),
        (old_receiver, receiver),
        (old_service, service),
        (old_consent, consent),
    ):
        text = text.replace(f'"{old}"', f'"{new}"')
    bundle: dict[str, Any] = json.loads(text)
    patient = next(
        e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Patient"
    )
    patient["identifier"] = [{"system": CASE_SYSTEM, "value": "CASE-1"}]
    return bundle


def _resources(bundle: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [e["resource"] for e in bundle.get("entry", []) if e["resource"]["resourceType"] == kind]


def _references(node: Any) -> list[str]:
    if isinstance(node, list):
        return [r for item in node for r in _references(item)]
    if not isinstance(node, dict):
        return []
    found = [node["reference"]] if isinstance(node.get("reference"), str) else []
    return found + [r for k, v in node.items() if k != "contained" for r in _references(v)]


def _read(client: SyncFHIRClient, reference: str) -> dict[str, Any]:
    kind, rid = reference.split("/")[:2]
    found: dict[str, Any] = client.get(kind, rid)
    return found


def test_two_organisations_run_the_closed_loop_with_fhir_only(live: Live) -> None:
    sender = _client(live.url, live.sender)
    receiver = _client(live.url, live.receiver)
    sender_ref = f"Organization/{live.sender_org}"

    # The directory: the service, and its organisation by the reference it gives.
    services = sender.resources("HealthcareService").search(
        name=f"FHIR-only counselling {live.run}"
    )
    service = services.fetch()[0]
    clinic_ref = service["providedBy"]["reference"]
    clinic = _read(sender, clinic_ref)
    assert clinic["id"] == str(live.receiver_org)  # the one identity of the organisation
    assert _read(sender, sender_ref)["name"] == f"FHIR-only sender {live.run}"

    # The client, registered by conditional create: asking twice gives one record.
    patient = sender.resource(
        "Patient",
        identifier=[{"system": CASE_SYSTEM, "value": "CASE-1"}],
        name=[{"given": ["Aziz"], "family": "Rahimi"}],
        birthDate="1986-04-02",
    )
    patient.create(identifier=f"{CASE_SYSTEM}|CASE-1")
    again = sender.resource("Patient", identifier=patient["identifier"], name=patient["name"])
    again.create(identifier=f"{CASE_SYSTEM}|CASE-1")
    assert again["id"] == patient["id"]
    patient_ref = f"Patient/{patient['id']}"

    # The consent names the clinic by the id the directory gave.
    consent = sender.resource("Consent", **_consent(patient_ref, sender_ref, clinic_ref))
    consent.save()
    assert consent["status"] == "active"

    # The referral, and every location the transaction answers reads.
    bundle = _referral(
        sender_ref, clinic_ref, f"HealthcareService/{service['id']}", f"Consent/{consent['id']}"
    )
    answer = sender.execute("", method="post", data=bundle)
    assert answer["type"] == "transaction-response"
    assert len(answer["entry"]) == len(bundle["entry"])
    locations = [e["response"]["location"] for e in answer["entry"] if "location" in e["response"]]
    for location in locations:
        assert _read(sender, location)["resourceType"] == location.split("/")[0]
    task_id = next(loc for loc in locations if loc.startswith("Task/")).split("/")[1]

    # The receiver's inbox, the ServiceRequest and everything it references.
    inbox = (
        receiver.resources("Task")
        .search(owner=clinic_ref, status="requested")
        .include("Task", "focus")
        .fetch_raw()
    )
    assert [t["id"] for t in _resources(inbox, "Task")] == [task_id]
    request = _resources(inbox, "ServiceRequest")[0]
    assert not [r for r in _references(request) if r.startswith("urn:")]
    for reference in _references(request):
        if reference.startswith(("Organization/", "HealthcareService/")):
            continue  # the directory's, read above
        assert _read(receiver, reference)["id"] == reference.split("/")[1], reference
    seen = _read(receiver, request["subject"]["reference"])
    assert seen["name"][0].get("family", seen["name"][0].get("text", "")).endswith("Rahimi")
    assert "birthDate" in seen

    # A question in the thread; the sender reads it.
    question = receiver.resource(
        "Communication",
        status="completed",
        partOf=[{"reference": f"Task/{task_id}"}],
        payload=[{"contentString": "Does the client prefer a Dari-speaking counsellor?"}],
    )
    question.save()
    assert _read(receiver, f"Communication/{question['id']}")["payload"]
    thread = sender.resources("Communication").search(**{"part-of": f"Task/{task_id}"}).fetch()
    assert [c["payload"][0]["contentString"] for c in thread] == [
        "Does the client prefer a Dari-speaking counsellor?"
    ]

    # Accept, then complete with the Gravity output; completing without one is refused.
    task = receiver.reference("Task", task_id).to_resource()
    task["status"] = "accepted"
    task.save()
    task = receiver.reference("Task", task_id).to_resource()
    task["status"] = "completed"
    with pytest.raises(OperationOutcome) as refused:
        task.save()
    assert "output" in str(refused.value).lower()
    task = receiver.reference("Task", task_id).to_resource()
    task["status"] = "completed"
    task["contained"] = [
        {
            "resourceType": "Procedure",
            "id": "procedure-1",
            "status": "completed",
            "basedOn": [{"reference": f"ServiceRequest/{request['id']}"}],
            "code": {
                "coding": [{"system": "http://snomed.info/sct", "code": "410606002"}],
                "text": "Intake assessment and four counselling sessions",
            },
            "subject": {"reference": request["subject"]["reference"]},
        }
    ]
    task["output"] = [
        {
            "type": {"coding": [{"system": SDOHCC, "code": "resulting-activity"}]},
            "valueReference": {"reference": "#procedure-1"},
        }
    ]
    task.save()

    # The sender's "fetch after notification": a Task search carries the outcome.
    outcome = sender.resources("Task").search(_id=task_id).fetch()[0]
    assert outcome["status"] == "completed"
    assert outcome["output"][0]["type"]["coding"][0]["code"] == "resulting-activity"
    assert outcome["contained"][0]["code"]["text"].startswith("Intake assessment")

    # The client withdraws consent: the sender PUTs it inactive; the clinic reads no more.
    current = sender.reference("Consent", consent["id"]).to_resource()
    current["status"] = "inactive"
    current.save()
    assert sender.reference("Consent", consent["id"]).to_resource()["status"] == "inactive"
    for reference in (f"ServiceRequest/{request['id']}", request["subject"]["reference"]):
        with pytest.raises((ForbiddenError, ResourceNotFound)) as gone:
            _read(receiver, reference)
        assert re.search(r"403|404|consent|not found|forbidden", str(gone.value), re.I)
