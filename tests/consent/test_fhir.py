"""FHIR R4 Consent and Patient: output validates, create/read/search, scope."""

from __future__ import annotations

import uuid
from collections.abc import Callable

from fastapi import FastAPI
from fastapi.testclient import TestClient
from fhir.resources.R4B.consent import Consent
from sqlalchemy.orm import Session

from consent import fhir
from tests.consent.factories import grant, make_client, permit, staff
from tests.gateway.staff import Account, MakeAccount, MakeOrg, StaffClient

Signed = Callable[[Account], StaffClient]


def test_consent_output_validates_and_round_trips(db: Session) -> None:
    from consent import service

    caller = staff(uuid.uuid4())
    client = make_client(db, caller)
    harbour = uuid.uuid4()
    record = grant(db, caller, client, permit(org=harbour), permit(org_type="health"))
    resource = fhir.consent_to_fhir(record, service.provisions_of(db, [record])[record.id])
    parsed = Consent.model_validate(resource)
    assert parsed.scope.coding[0].code == "patient-privacy"
    assert parsed.category[0].coding[0].code == "IDSCL"
    assert parsed.policyRule is not None  # ppc-1
    assert parsed.patient.reference == f"Patient/{client.id}"  # ppc-2
    nested = resource["provision"]["provision"]
    assert nested[0]["actor"][0]["reference"]["reference"] == f"Organization/{harbour}"
    assert nested[1]["modifierExtension"][0]["valueCoding"]["code"] == "health"
    client_id, draft = fhir.consent_from_fhir(resource)
    assert client_id == client.id
    assert [p.recipients[0].organisation_id for p in draft.provisions][:1] == [harbour]


def test_fhir_create_read_search_and_patient(
    make_account: MakeAccount, make_org: MakeOrg, staff_client: Signed, db: Session
) -> None:
    account = make_account()
    http = staff_client(account)
    person = http.post("/consent/clients", json={"identity": {"name": "Olena K"}}).json()["id"]
    harbour = make_org().id  # a Consent names organisations of the network
    resource = {
        "resourceType": "Consent",
        "status": "active",
        "scope": {"coding": [{"system": fhir.SCOPE_SYSTEM, "code": "patient-privacy"}]},
        "category": [{"coding": [{"system": fhir.ACT_CODE, "code": "IDSCL"}]}],
        "patient": {"reference": f"Patient/{person}"},
        "performer": [{"reference": f"Patient/{person}"}],
        "policyRule": {"coding": [{"system": fhir.ACT_CODE, "code": "OPTIN"}]},
        "provision": {
            "type": "deny",
            "period": {"start": "2026-01-01T00:00:00Z", "end": "2027-01-01T00:00:00Z"},
            "provision": [
                {
                    "type": "permit",
                    "actor": [
                        {
                            "role": {"coding": [{"code": "IRCP"}]},
                            "reference": {"reference": f"Organization/{harbour}"},
                        }
                    ],
                    "purpose": [{"system": fhir.PURPOSE_SYSTEM, "code": "handover"}],
                    "class": [
                        {
                            "system": "https://refhub.org/fhir/CodeSystem/data-category",
                            "code": "needs",
                        }
                    ],
                }
            ],
        },
    }
    created = http.post("/fhir/Consent", json=resource)
    assert created.status_code == 201, created.text
    assert created.headers["content-type"].startswith("application/fhir+json")
    cid = created.json()["id"]
    Consent.model_validate(http.get(f"/fhir/Consent/{cid}").json())
    found = http.get(
        "/fhir/Consent",
        params={
            "patient": f"Patient/{person}",
            "actor": f"Organization/{harbour}",
            "purpose": "handover",
            "status": "active",
            "period": "ge2026-06-01",
        },
    ).json()
    assert [e["resource"]["id"] for e in found["entry"]] == [cid]
    assert (
        http.get("/fhir/Consent", params={"purpose": "referral", "patient": person}).json()["total"]
        == 0
    )
    assert (
        http.get("/fhir/Consent", params={"period": "le2025-01-01", "patient": person}).json()[
            "total"
        ]
        == 0
    )
    patient = http.get(f"/fhir/Patient/{person}").json()
    assert patient["name"][0]["text"] == "Olena K"
    no_grantor = {k: v for k, v in resource.items() if k != "performer"}
    refused = http.post("/fhir/Consent", json=no_grantor)
    assert refused.status_code == 422
    assert refused.json()["resourceType"] == "OperationOutcome"

    intruder = staff_client(make_account())
    assert intruder.get(f"/fhir/Consent/{cid}").status_code == 404
    assert intruder.get(f"/fhir/Patient/{person}").status_code == 404
    assert intruder.get("/fhir/Consent", params={"patient": person}).json()["total"] == 0


def test_anonymous_fhir_callers_get_401_operation_outcomes(app: FastAPI) -> None:
    http = TestClient(app, raise_server_exceptions=False)
    some = uuid.uuid4()
    for method, path in [
        ("POST", "/fhir/Consent"),
        ("GET", "/fhir/Consent"),
        ("GET", f"/fhir/Consent/{some}"),
        ("GET", f"/fhir/Patient/{some}"),
    ]:
        answer = http.request(method, path, json={})
        assert answer.status_code == 401, path
        assert answer.json()["issue"][0]["code"] == "login"
