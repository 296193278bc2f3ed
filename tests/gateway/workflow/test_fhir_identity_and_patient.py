"""FHIR only, as an integrator: the Organization id `/fhir/Organization` answers is the one a
Consent names and a referral matches; the receiver reads the referral's Patient through
`/fhir/Patient` as consent permits; revoking the Consent through FHIR stops it."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from directory import service as directory_service
from directory.schemas import EndpointIn
from tests.consent.factories import fhir_consent
from tests.directory.factories import editor, make_listing
from tests.gateway.auth.factories import make_client as make_system_client
from tests.gateway.staff import MakeOrg
from tests.gateway.workflow.conftest import SCOPES, Agency, Network, bearer

FHIR_SCOPES = (*SCOPES, "system/Patient.cruds", "system/Organization.rs")
ACT_REASON = "http://terminology.hl7.org/CodeSystem/v3-ActReason"
CATEGORY = "https://refhub.org/fhir/CodeSystem/data-category"
IRCP = {"system": "http://terminology.hl7.org/CodeSystem/v3-ParticipationType", "code": "IRCP"}


@pytest.fixture
def fhir_agency(app: FastAPI, db: Session, make_org: MakeOrg) -> Callable[..., Agency]:
    def make(name: str, org_type: str = "resettlement_ngo", listed: bool = False) -> Agency:
        org = make_org(name=f"{name} {uuid.uuid4().hex[:6]}", org_type=org_type)
        registered = make_system_client(db, org, algs=("ES384",), scopes=FHIR_SCOPES)
        service_id = None
        if listed:
            service_id = make_listing(db, org.id, accepts_electronic_referrals=True)
            directory_service.set_endpoint(
                db,
                editor(org.id),
                body=EndpointIn(
                    connection_type="rest-hook", address=f"https://{org.id.hex[:8]}.example/hook"
                ),
            )
        db.commit()
        return Agency(
            org=org,
            http=TestClient(app, raise_server_exceptions=False),
            headers=bearer(app, registered, " ".join(FHIR_SCOPES)),
            service_id=service_id,
            registered=registered,
        )

    return make


def _consent(person: str, org_ref: str, **provision: Any) -> dict[str, Any]:
    return fhir_consent(
        f"Patient/{person}",
        {
            "type": "permit",
            "actor": [{"role": {"coding": [IRCP]}, "reference": {"reference": org_ref}}],
            "purpose": [{"system": ACT_REASON, "code": "TREAT"}],
            "class": [
                {"system": CATEGORY, "code": code} for code in ("identity", "contact", "needs")
            ],
            **provision,
        },
    )


def _path(location: str) -> str:
    return location[location.index("/fhir/") :]


def test_consent_naming_the_fhir_organization_id_permits_the_referral(
    fhir_agency: Callable[..., Agency], db: Session
) -> None:
    sender = fhir_agency("Sender")
    receiver = fhir_agency("Receiver", "torture_survivor_service", listed=True)
    listing = f"Listing org {receiver.id.hex[:6]}"
    found = sender.get("/fhir/Organization", params={"name": listing}).json()
    assert found["total"] == 1
    org_id = found["entry"][0]["resource"]["id"]
    assert org_id == str(receiver.id)  # one organisation, one FHIR identity
    service = sender.get(f"/fhir/HealthcareService/{receiver.service_id}").json()
    assert service["providedBy"]["reference"] == f"Organization/{org_id}"

    created = sender.post(
        "/fhir/Patient",
        json={"resourceType": "Patient", "name": [{"given": ["Amal"], "family": "Haddad"}]},
    )
    assert created.status_code == 201, created.text
    person = created.json()["id"]
    consent = sender.post("/fhir/Consent", json=_consent(person, f"Organization/{org_id}"))
    assert consent.status_code == 201, consent.text
    body = consent.json()
    actor = body["provision"]["provision"][0]["actor"][0]["reference"]["reference"]
    assert sender.get(f"/fhir/{actor}").status_code == 200  # the reference resolves
    custodian = body["organization"][0]["reference"]
    assert sender.get(f"/fhir/{custodian}").status_code == 200  # an unlisted org resolves
    assert sender.get(_path(consent.headers["Location"])).json()["id"] == body["id"]

    network = Network(sender, receiver, receiver, uuid.UUID(person), uuid.UUID(body["id"]), db)
    sent = network.submit()
    assert sent.status_code == 201, sent.text  # the consent matches the referral
    rid = sent.json()["id"]

    # The receiver reads the client through FHIR, under the client's id:
    # the packet's Patient as consent permits it (identity and contact: name, telecom).
    packet = receiver.get(f"/referrals/{rid}/packet").json()
    packet_patient = next(
        e["resource"] for e in packet["entry"] if e["resource"]["resourceType"] == "Patient"
    )
    patient = receiver.get(f"/fhir/Patient/{person}")
    assert patient.status_code == 200, patient.text
    assert patient.json()["id"] == person
    assert patient.json()["name"] == packet_patient["name"]
    assert patient.json()["telecom"] == packet_patient["telecom"]
    # the hub's FHIR reads name the client by that id, never by the packet's inner one
    assert receiver.get(f"/fhir/Task/{rid}").json()["for"]["reference"] == f"Patient/{person}"
    assert receiver.get(f"/fhir/Patient/{packet_patient['id']}").status_code == 404
    outsider = fhir_agency("Outsider")
    assert outsider.get(f"/fhir/Patient/{person}").status_code == 404

    # Revoked through FHIR: the receiver no longer reads the client.
    revoked = sender.put(f"/fhir/Consent/{body['id']}", json={**body, "status": "inactive"})
    assert revoked.status_code == 200, revoked.text
    assert revoked.json()["status"] == "inactive"
    assert revoked.json()["meta"]["versionId"] == "2"
    assert receiver.get(f"/fhir/Patient/{person}").status_code in (403, 404)
    again = network.submit()
    assert again.status_code == 422 and "no longer in force" in again.json()["detail"]


def test_consent_naming_an_unknown_organisation_is_refused_and_not_stored(
    fhir_agency: Callable[..., Agency],
) -> None:
    sender = fhir_agency("Sender")
    person = sender.post(
        "/fhir/Patient", json={"resourceType": "Patient", "name": [{"text": "Olena K"}]}
    ).json()["id"]
    stranger = uuid.uuid4()
    refused = sender.post("/fhir/Consent", json=_consent(person, f"Organization/{stranger}"))
    assert refused.status_code == 422, refused.text
    expressions = [x for issue in refused.json()["issue"] for x in issue.get("expression", [])]
    assert expressions == ["Consent.provision.actor[0].reference"]
    custodian = {
        **_consent(person, f"Organization/{sender.id}"),
        "organization": [{"reference": f"Organization/{stranger}"}],
    }
    refused = sender.post("/fhir/Consent", json=custodian)
    assert refused.status_code == 422
    assert refused.json()["issue"][-1]["expression"] == ["Consent.organization[0].reference"]
    assert sender.get("/fhir/Consent", params={"patient": person}).json()["total"] == 0
