"""FHIR writes: Patient create (conditional too), update and vread; Consent revocation and
amendment by PUT, vread, Locations that resolve; standard purpose and data-class codes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx

from consent.standard_codes import ACT_CODE, ACT_REASON, RESOURCE_TYPES
from tests.consent.factories import fhir_consent
from tests.gateway.staff import Account, MakeAccount, MakeOrg, StaffClient

Signed = Callable[[Account], StaffClient]
CATEGORY = "https://refhub.org/fhir/CodeSystem/data-category"
SYSTEM = "https://agency.example.org/case"


def _put(http: StaffClient, url: str, body: dict[str, Any], **headers: str) -> httpx.Response:
    return http.http.put(url, json=body, headers={"X-CSRF-Token": http.csrf, **headers})


def _path(location: str) -> str:
    return location[location.index("/fhir/") :]


def _patient(name: str, *identifiers: str) -> dict[str, Any]:
    body: dict[str, Any] = {"resourceType": "Patient", "name": [{"text": name}]}
    if identifiers:
        body["identifier"] = [{"system": SYSTEM, "value": v} for v in identifiers]
    return body


def _consent(person: str, org: Any, *provisions: dict[str, Any]) -> dict[str, Any]:
    return fhir_consent(f"Patient/{person}", {"type": "deny", "provision": list(provisions)})


def _permit(org: Any, purpose: tuple[str, str], *classes: tuple[str, str]) -> dict[str, Any]:
    return {
        "type": "permit",
        "actor": [
            {
                "role": {"coding": [{"code": "IRCP"}]},
                "reference": {"reference": f"Organization/{org}"},
            }
        ],
        "purpose": [{"system": purpose[0], "code": purpose[1]}],
        "class": [{"system": s, "code": c} for s, c in classes],
    }


def test_patient_create_conditional_create_update_and_vread(
    make_account: MakeAccount, staff_client: Signed
) -> None:
    http = staff_client(make_account())
    created = http.post("/fhir/Patient", json=_patient("Olena K", "N-1"))
    assert created.status_code == 201, created.text
    person = created.json()["id"]
    assert created.headers["ETag"] == 'W/"1"'
    assert created.json()["meta"]["versionId"] == "1"
    assert created.json()["identifier"] == [{"system": SYSTEM, "value": "N-1"}]
    assert http.get(_path(created.headers["Location"])).json()["id"] == person

    same = http.post(
        "/fhir/Patient",
        json=_patient("Olena K", "N-1"),
        headers={"If-None-Exist": f"identifier={SYSTEM}|N-1"},
    )
    assert same.status_code == 200 and same.json()["id"] == person
    other = http.post(
        "/fhir/Patient",
        json=_patient("Samir H", "N-2"),
        headers={"If-None-Exist": f"identifier={SYSTEM}|N-2"},
    )
    assert other.status_code == 201 and other.json()["id"] != person
    elsewhere = {
        **_patient("Amal H"),
        "identifier": [{"system": "https://other.example.org/id", "value": "N-1"}],
    }
    assert http.post("/fhir/Patient", json=elsewhere).status_code == 201
    several = http.post(
        "/fhir/Patient", json=_patient("Amal H"), headers={"If-None-Exist": "identifier=N-1"}
    )
    assert several.status_code == 412, several.text

    changed = {**_patient("Olena Kovalenko", "N-1"), "id": person, "birthDate": "1979-11-17"}
    updated = _put(http, f"/fhir/Patient/{person}", changed, **{"If-Match": 'W/"1"'})
    assert updated.status_code == 200, updated.text
    assert updated.json()["meta"]["versionId"] == "2"
    assert updated.json()["name"] == [{"text": "Olena Kovalenko"}]
    assert http.get(f"/fhir/Patient/{person}").json()["birthDate"] == "1979-11-17"
    assert http.get(f"/fhir/Patient/{person}/_history/2").status_code == 200
    assert http.get(f"/fhir/Patient/{person}/_history/1").status_code == 404
    stale = _put(http, f"/fhir/Patient/{person}", changed, **{"If-Match": 'W/"1"'})
    assert stale.status_code == 412
    wrong_id = _put(http, f"/fhir/Patient/{person}", {**changed, "id": other.json()["id"]})
    assert wrong_id.status_code == 400
    nameless = _put(http, f"/fhir/Patient/{person}", {"resourceType": "Patient", "id": person})
    assert nameless.status_code == 422
    assert nameless.json()["issue"][-1]["expression"] == ["Patient.name"]

    intruder = staff_client(make_account())
    assert _put(intruder, f"/fhir/Patient/{person}", changed).status_code == 404
    assert http.get(f"/fhir/Patient/{person}").json()["name"] == [{"text": "Olena Kovalenko"}]


def test_consent_revoked_and_amended_by_put_with_versions(
    make_account: MakeAccount, make_org: MakeOrg, staff_client: Signed
) -> None:
    http = staff_client(make_account())
    person = http.post("/fhir/Patient", json=_patient("Olena K")).json()["id"]
    harbour = make_org().id
    body = _consent(person, harbour, _permit(harbour, (ACT_REASON, "COC"), (CATEGORY, "needs")))
    created = http.post("/fhir/Consent", json=body)
    assert created.status_code == 201, created.text
    cid = created.json()["id"]
    assert http.get(_path(created.headers["Location"])).json()["meta"]["versionId"] == "1"
    purposes = created.json()["provision"]["provision"][0]["purpose"]
    assert [p["code"] for p in purposes] == ["service-coordination"]

    amended_body = _consent(
        person, harbour, _permit(harbour, (ACT_REASON, "TREAT"), (CATEGORY, "needs"))
    )
    amended = _put(http, f"/fhir/Consent/{cid}", {**amended_body, "id": cid})
    assert amended.status_code == 200, amended.text
    assert amended.json()["meta"]["versionId"] == "2"
    codes = {p["code"] for p in amended.json()["provision"]["provision"][0]["purpose"]}
    assert codes == {"referral", "handover"}

    stale = _put(
        http,
        f"/fhir/Consent/{cid}",
        {**amended_body, "status": "inactive"},
        **{"If-Match": 'W/"1"'},
    )
    assert stale.status_code == 412
    revoked = _put(http, f"/fhir/Consent/{cid}", {**amended.json(), "status": "inactive"})
    assert revoked.status_code == 200, revoked.text
    assert revoked.json()["status"] == "inactive"
    assert revoked.json()["meta"]["versionId"] == "3"
    assert http.get(_path(revoked.headers["Location"])).json()["status"] == "inactive"
    assert http.get(f"/fhir/Consent/{cid}").json()["status"] == "inactive"
    assert http.get(f"/fhir/Consent/{cid}/_history/1").json()["status"] == "active"
    assert http.get(f"/fhir/Consent/{cid}/_history/9").status_code == 404
    again = _put(http, f"/fhir/Consent/{cid}", {**amended.json(), "status": "inactive"})
    assert again.json()["meta"]["versionId"] == "3"  # revoked once, nothing more
    reactivated = _put(http, f"/fhir/Consent/{cid}", amended_body)
    assert reactivated.status_code == 422  # a revoked consent stays revoked
    draft = http.post("/fhir/Consent", json={**body, "status": "draft"})
    assert draft.status_code == 422
    assert draft.json()["issue"][-1]["expression"] == ["Consent.status"]


def test_standard_purpose_and_class_codes_map_to_refhubs(
    make_account: MakeAccount, make_org: MakeOrg, staff_client: Signed
) -> None:
    http = staff_client(make_account())
    person = http.post("/fhir/Patient", json=_patient("Olena K")).json()["id"]
    harbour = make_org().id
    permit = _permit(
        harbour,
        (ACT_REASON, "CAREMGT"),
        (RESOURCE_TYPES, "Patient"),
        (RESOURCE_TYPES, "DocumentReference"),
    )
    deny = {"type": "deny", "securityLabel": [{"system": ACT_CODE, "code": "PSY"}]}
    sdv = {"type": "deny", "class": [{"system": ACT_CODE, "code": "SDV"}]}
    created = http.post("/fhir/Consent", json=_consent(person, harbour, permit, deny, sdv))
    assert created.status_code == 201, created.text
    nested = created.json()["provision"]["provision"]
    assert {p["code"] for p in nested[0]["purpose"]} == {"service-coordination", "follow-up"}
    assert {c["code"] for c in nested[0]["class"]} == {"identity", "contact", "documents"}
    assert [c["code"] for c in nested[1]["class"]] == ["health"]
    assert [c["code"] for c in nested[2]["class"]] == ["protection"]

    def refused(*provisions: dict[str, Any]) -> list[str]:
        answer = http.post("/fhir/Consent", json=_consent(person, harbour, *provisions))
        assert answer.status_code == 422, answer.text
        return [x for issue in answer.json()["issue"] for x in issue.get("expression", [])]

    part = _permit(harbour, (ACT_REASON, "TREAT"), (ACT_CODE, "PSY"))
    assert refused(part) == ["Consent.provision.provision[0].class[0]"]
    unknown_purpose = _permit(harbour, (ACT_REASON, "HMARKT"), (CATEGORY, "needs"))
    assert refused(unknown_purpose) == ["Consent.provision.provision[0].purpose[0]"]
    unknown_class = _permit(harbour, (ACT_REASON, "TREAT"), ("http://loinc.org", "11488-4"))
    assert refused(unknown_class) == ["Consent.provision.provision[0].class[0]"]
    assert http.get("/fhir/Consent", params={"patient": person}).json()["total"] == 1
