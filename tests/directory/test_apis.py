"""The HTTP surfaces: FHIR (validated with fhir.resources), HSDS (validated against the
published schemas), who sees what, and bad parameters."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from fhir.resources.R4B import get_fhir_model_class
from jsonschema import Draft7Validator
from referencing import Registry, Resource
from sqlalchemy.orm import Session

from directory import service as directory_service
from directory.schemas import EndpointIn
from kernel.caller import Role
from tests.directory.factories import editor, make_listing
from tests.gateway.auth.factories import make_client, token_form
from tests.gateway.staff import MakeAccount, StaffClient

HSDS = Path(__file__).resolve().parents[3] / "shared" / "standards" / "hsds" / "3.0" / "schema"
if not HSDS.exists():
    HSDS = Path("/work/shared/standards/hsds/3.0/schema")


def _validator(name: str) -> Draft7Validator:
    registry: Registry[Any] = Registry()
    for path in HSDS.glob("*.json"):
        if path.name != "openapi.json":
            registry = registry.with_resource(
                path.name, Resource.opaque(json.loads(path.read_text()))
            )
    return Draft7Validator(json.loads((HSDS / name).read_text()), registry=registry)


def _valid(schema: str, doc: Any) -> None:
    errors = sorted(_validator(schema).iter_errors(doc), key=str)
    assert not errors, errors[0]


def _fhir_valid(resource: dict[str, Any]) -> None:
    get_fhir_model_class(resource["resourceType"]).model_validate(resource)


@pytest.mark.usefixtures("demo_directory")
def test_fhir_search_include_and_paging(client: TestClient) -> None:
    url = "/fhir/HealthcareService?service-category=https://refhub.org/fhir/CodeSystem/service-category|housing&_count=5&_include=HealthcareService:providedBy&bogus=1"
    bundle = client.get(url).json()
    _fhir_valid(bundle)
    assert bundle["type"] == "searchset" and bundle["total"] > 5
    matches = [e for e in bundle["entry"] if e["search"]["mode"] == "match"]
    assert len(matches) == 5
    assert any(e["resource"]["resourceType"] == "Organization" for e in bundle["entry"])
    links = {link["relation"]: link["url"] for link in bundle["link"]}
    assert "bogus" not in links["self"]
    assert all("endpoint" not in e["resource"] for e in matches)  # public view
    following = client.get(links["next"].replace("http://testserver", "")).json()
    ids = {e["resource"]["id"] for e in following["entry"] if e["search"]["mode"] == "match"}
    assert ids and not ids & {e["resource"]["id"] for e in matches}
    strict = client.get("/fhir/HealthcareService?bogus=1", headers={"Prefer": "handling=strict"})
    assert strict.status_code == 400 and strict.json()["resourceType"] == "OperationOutcome"


@pytest.mark.usefixtures("demo_directory")
def test_fhir_params_and_revinclude(client: TestClient) -> None:
    for query in ("communication=ti", "specialty=lgbtiq", "name=trauma", "active=true",
                  "service-type=mental-health-1"):  # fmt: skip
        bundle = client.get(f"/fhir/HealthcareService?{query}").json()
        assert bundle["total"] > 0, query
    orgs = client.get("/fhir/Organization?name=centre&_revinclude=HealthcareService:organization")
    body = orgs.json()
    _fhir_valid(body)
    assert body["total"] == 1
    assert {e["resource"]["resourceType"] for e in body["entry"]} == {
        "Organization",
        "HealthcareService",
    }
    locations = client.get("/fhir/Location?address-city=Berlin").json()
    _fhir_valid(locations)
    assert locations["total"] == 6
    read = client.get(f"/fhir/Location/{locations['entry'][0]['resource']['id']}")
    assert read.status_code == 200
    _fhir_valid(read.json())


def test_endpoints_are_for_network_members_only(
    client: TestClient, make_account: MakeAccount, staff_client: Any, db: Session
) -> None:
    admin: StaffClient = staff_client(make_account(roles=(Role.ORG_ADMIN,)))
    assert admin.http.put("/directory/organization", json={"name": "Clinic"},
                          headers={"X-CSRF-Token": admin.csrf}).status_code == 200  # fmt: skip
    jwk = {"kty": "OKP", "crv": "X25519", "x": "hSDwCYkwp1R0i33ctD73Wg2_Og0mOBr066SpjqqbTmo"}
    put = admin.http.put(
        "/directory/organization/endpoint",
        json={"connection_type": "hl7-fhir-rest", "address": "https://clinic.example.org/fhir",
              "public_jwk": jwk},
        headers={"X-CSRF-Token": admin.csrf},
    )  # fmt: skip
    assert put.status_code == 200, put.text
    created = admin.post(
        "/directory/services",
        json={
            "name": "Clinic intake",
            "categories": ["health"],
            "accepts_electronic_referrals": True,
        },
    )
    assert created.status_code == 201, created.text
    sid = created.json()["id"]
    assert created.json()["refhub"]["endpoint"]["public_jwk"] == jwk
    anonymous = TestClient(client.app, raise_server_exceptions=False)
    assert anonymous.get("/fhir/Endpoint").status_code == 401
    public = anonymous.get(f"/fhir/HealthcareService/{sid}").json()
    assert "endpoint" not in public
    assert "refhub" not in anonymous.get(f"/directory/services/{sid}").json()
    member: StaffClient = staff_client(make_account(roles=(Role.CASE_WORKER,)))
    seen = member.get(f"/fhir/HealthcareService/{sid}").json()
    _fhir_valid(seen)
    endpoint = member.get(f"/fhir/{seen['endpoint'][0]['reference']}")
    assert endpoint.status_code == 200
    _fhir_valid(endpoint.json())
    assert endpoint.json()["address"] == "https://clinic.example.org/fhir"
    foreign = member.http.put(f"/directory/services/{sid}", json={"name": "Mine now"},
                              headers={"X-CSRF-Token": member.csrf})  # fmt: skip
    assert foreign.status_code == 403


@pytest.mark.usefixtures("demo_directory")
def test_hsds_api_validates_against_the_schemas(client: TestClient) -> None:
    root = client.get("/hsds/").json()
    assert root["version"] == "3.0"
    page = client.get("/hsds/services?per_page=3&search=shelter").json()
    assert page["total_items"] == 5 and page["size"] == 3 and page["total_pages"] == 2
    for item in page["contents"]:
        _valid("compiled/service_list.json", item)
    one = client.get(f"/hsds/services/{page['contents'][0]['id']}").json()
    _valid("compiled/service_with_definitions.json", one)
    for item in client.get("/hsds/organizations").json()["contents"]:
        _valid("organization.json", item)
    terms = client.get("/hsds/taxonomy_terms?top_only=true").json()["contents"]
    for term in terms:
        _valid("taxonomy_term.json", term)
    housing = next(t for t in terms if t["code"] == "housing")
    by_term = client.get(f"/hsds/services?taxonomy_term_id={housing['id']}").json()
    assert by_term["total_items"] == 15
    sal = client.get("/hsds/service_at_locations?postcode=10115&proximity=5000").json()
    assert sal["total_items"] == 14  # 16 in Berlin, 2 of them network-only
    for item in sal["contents"]:
        _valid("compiled/service_at_location_list.json", item)
    for taxonomy in client.get("/hsds/taxonomies").json()["contents"]:
        _valid("taxonomy.json", taxonomy)


def test_bad_parameters_get_400_naming_them(client: TestClient) -> None:
    bad = client.get("/directory/services?near=abc")
    assert bad.status_code == 400 and "near" in bad.json()["detail"]
    assert client.get("/hsds/services?per_page=1000").status_code == 400
    # Parameters of the wrong type are named too: 400, not 422 (nothing in a body to process).
    for url, name in (
        ("/directory/services?page=two", "query.page"),
        ("/directory/services?radius_km=far", "query.radius_km"),
        ("/directory/services?modified_after=yesterday", "query.modified_after"),
        ("/hsds/services?per_page=x", "query.per_page"),
        ("/hsds/services?full=perhaps", "query.full"),
        ("/hsds/service_at_locations?page=-", "query.page"),
    ):
        typed = client.get(url)
        assert typed.status_code == 400, url
        assert typed.headers["content-type"].startswith("application/problem+json")
        assert [e["location"] for e in typed.json()["errors"]] == [name], url
    outcome = client.get("/fhir/HealthcareService?_count=101")
    assert outcome.status_code == 400
    assert "_count" in outcome.json()["issue"][0]["details"]["text"]
    total_only = client.get("/fhir/HealthcareService?_count=0")  # FHIR: the total, no entries
    assert total_only.status_code == 200
    assert "entry" not in total_only.json() or total_only.json()["entry"] == []


def test_system_clients_see_members_listings_only_with_a_directory_scope(
    app: FastAPI, db: Session, make_account: MakeAccount
) -> None:
    """A system client is a network member for the directory only when its token's scopes
    allow reading the type; with other scopes it sees what the public sees."""
    owner = make_account(roles=(Role.ORG_ADMIN,))
    shown = make_listing(db, owner.org.id, accepts_electronic_referrals=True)
    hidden = make_listing(db, owner.org.id, name="Network-only shelter", visibility="network")
    directory_service.set_endpoint(
        db,
        editor(owner.org.id),
        body=EndpointIn(
            connection_type="hl7-fhir-rest", address="https://shelter.example.org/fhir"
        ),
    )
    listing_org = directory_service.own_organization(db, owner.org.id).id  # type: ignore[union-attr]
    db.commit()
    caller_org = make_account(roles=(Role.ORG_ADMIN,)).org
    registered = make_client(db, caller_org, scopes=("system/*.rs",))
    db.commit()
    http = TestClient(app, raise_server_exceptions=False)

    def bearer(scope: str) -> dict[str, str]:
        form = token_form(registered.assertion("http://127.0.0.1:8000/auth/token"), scope=scope)
        token = http.post("/auth/token", data=form)
        assert token.status_code == 200, token.text
        return {"Authorization": f"Bearer {token.json()['access_token']}"}

    def listed(headers: dict[str, str]) -> set[str]:
        found = http.get(f"/hsds/services?organization_id={listing_org}", headers=headers)
        assert found.status_code == 200, found.text
        return {s["id"] for s in found.json()["contents"]}

    tasks_only = bearer("system/Task.rs")
    assert listed(tasks_only) == {str(shown)}
    one = http.get(f"/directory/services/{shown}", headers=tasks_only).json()
    assert "refhub" not in one  # no endpoint, no key
    assert http.get(f"/directory/services/{hidden}", headers=tasks_only).status_code == 404
    assert http.get(f"/hsds/services/{hidden}", headers=tasks_only).status_code == 404

    directory_reader = bearer("system/HealthcareService.rs system/Organization.rs")
    assert listed(directory_reader) == {str(shown), str(hidden)}
    member_view = http.get(f"/directory/services/{shown}", headers=directory_reader).json()
    assert member_view["refhub"]["endpoint"]["address"] == "https://shelter.example.org/fhir"


def test_capacity_is_sent_as_gravitys_capacity_status(
    client: TestClient, db: Session, make_account: MakeAccount
) -> None:
    """HealthcareService capacity uses the Gravity SDOH Clinical Care extension: its status
    code where Gravity has one, the note and expected wait as its notes, and the wait in days
    in refhub's own extension."""
    org = make_account(roles=(Role.ORG_ADMIN,)).org.id
    waitlisted = make_listing(
        db, org, capacity="waitlist", capacity_note="Evening group only", wait_time_days=14
    )
    assessed = make_listing(
        db, org, name="Assessment first", capacity="additional-assessment-required"
    )
    db.commit()
    gravity = "http://hl7.org/fhir/us/sdoh-clinicalcare"
    status_url = f"{gravity}/StructureDefinition/SDOHCC-ExtensionHealthcareServiceCapacityStatus"

    resource = client.get(f"/fhir/HealthcareService/{waitlisted}").json()
    _fhir_valid(resource)
    by_url = {e["url"]: e for e in resource["extension"]}
    parts = {p["url"]: p for p in by_url[status_url]["extension"]}
    assert parts["capacityStatus"]["valueCodeableConcept"]["coding"][0] == {
        "system": f"{gravity}/CodeSystem/SDOHCC-CodeSystemTemporaryCodes",
        "code": "no-capacity-has-waitlist",
        "display": "No Capacity - Has Waitlist",
    }
    assert parts["capacityNotes"]["valueString"] == "Evening group only; expected wait 14 days"
    wait_url = "https://refhub.org/fhir/StructureDefinition/wait-time-days"
    assert by_url[wait_url]["valueInteger"] == 14

    other = client.get(f"/fhir/HealthcareService/{assessed}").json()
    (extension,) = other["extension"]
    (status,) = extension["extension"]  # no notes, no wait
    assert status["valueCodeableConcept"]["coding"][0] == {
        "system": "https://refhub.org/fhir/CodeSystem/service-capacity",
        "code": "additional-assessment-required",
    }
