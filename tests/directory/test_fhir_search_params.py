"""FHIR search parameters, modifiers and `_include`/`_revinclude` on the directory's FHIR
routes: each one changes what a search returns, shows in the Bundle's self link, and anything
unsupported is ignored (left out of the self link) or refused with `Prefer: handling=strict`."""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
from fastapi.testclient import TestClient
from fhir.resources.R4B import get_fhir_model_class
from sqlalchemy.orm import Session

from directory import service as directory_service
from directory.fhir import CONNECTION_SYSTEM
from directory.models import DirEndpoint, DirLocation, DirOrganization
from directory.vocabulary import POPULATIONS
from kernel.caller import Role
from tests.directory.factories import make_listing
from tests.gateway.staff import MakeAccount, StaffClient

STRICT = {"Prefer": "handling=strict"}
#: A usable value for each search parameter that takes more than free text.
SAMPLE = {
    "_id": str(uuid.uuid4()),
    "organization": str(uuid.uuid4()),
    "location": str(uuid.uuid4()),
    "_lastUpdated": "ge2020-01-01",
    "_count": "1",
    "active": "true",
    "specialty": next(iter(POPULATIONS)),
}


def _search(http: Any, url: str) -> dict[str, Any]:
    response = http.get(url)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    get_fhir_model_class("Bundle").model_validate(body)  # entries validated as their types
    return body


def _entries(body: dict[str, Any], mode: str) -> set[tuple[str, str]]:
    return {
        (e["resource"]["resourceType"], e["resource"]["id"])
        for e in body.get("entry", [])
        if e["search"]["mode"] == mode
    }


def _self(body: dict[str, Any]) -> list[tuple[str, str]]:
    url = next(link["url"] for link in body["link"] if link["relation"] == "self")
    return parse_qsl(urlsplit(url).query)


def _refused(http: Any, url: str, parameter: str) -> None:
    response = http.get(url, headers=STRICT)
    assert response.status_code == 400, response.text
    outcome = response.json()
    assert outcome["resourceType"] == "OperationOutcome"
    assert parameter in outcome["issue"][0]["details"]["text"]


def _org(db: Session, name: str) -> DirOrganization:
    org = DirOrganization(name=name)
    db.add(org)
    db.flush()
    return org


def _location(db: Session, org: DirOrganization, **fields: Any) -> DirLocation:
    location = DirLocation(organization_id=org.id, **fields)
    db.add(location)
    db.flush()
    return location


def _endpoint(db: Session, org: DirOrganization, kind: str, *, active: bool) -> DirEndpoint:
    endpoint = DirEndpoint(
        organization_id=org.id,
        connection_type=kind,
        address=f"https://{uuid.uuid4().hex[:8]}.example.org/fhir",
        active=active,
    )
    db.add(endpoint)
    db.flush()
    return endpoint


@pytest.fixture
def member(make_account: MakeAccount, staff_client: Any) -> StaffClient:
    client: StaffClient = staff_client(make_account(roles=(Role.CASE_WORKER,)))
    return client


def test_location_type_and_identifier_are_unsupported(client: TestClient, db: Session) -> None:
    org = _org(db, "Location type org")
    physical = _location(db, org, name="Office", location_type="physical")
    virtual = _location(db, org, name="Online", location_type="virtual")
    url = f"/fhir/Location?organization={org.id}&type=vi&identifier=abc"
    body = _search(client, url)
    # Location exposes neither Location.type nor identifiers: both are ignored, not applied.
    assert _entries(body, "match") == {
        ("Location", str(physical.id)),
        ("Location", str(virtual.id)),
    }
    assert [k for k, _ in _self(body)] == ["organization", "_page"]
    _refused(client, url, "type")
    _refused(client, f"/fhir/Location?organization={org.id}&identifier=abc", "identifier")


def test_endpoint_connection_type_and_status(member: StaffClient, db: Session) -> None:
    org = _org(db, "Endpoint org")
    rest = _endpoint(db, org, "hl7-fhir-rest", active=True)
    hook = _endpoint(db, org, "rest-hook", active=False)
    base = f"/fhir/Endpoint?organization={org.id}"
    everything = _search(member, base)
    assert _entries(everything, "match") == {("Endpoint", str(rest.id)), ("Endpoint", str(hook.id))}
    cases = {
        "connection-type=hl7-fhir-rest": {rest.id},
        f"connection-type={CONNECTION_SYSTEM}|rest-hook": {hook.id},
        "connection-type=hl7-fhir-rest,rest-hook": {rest.id, hook.id},
        "connection-type=ihe-xcpd": set(),
        "status=active": {rest.id},
        "status=http://hl7.org/fhir/endpoint-status|off": {hook.id},
        "status=suspended": set(),
        "status=active&connection-type=rest-hook": set(),
    }
    for query, expected in cases.items():
        body = _search(member, f"{base}&{query}")
        assert _entries(body, "match") == {("Endpoint", str(i)) for i in expected}, query
        assert body["total"] == len(expected), query
        params = dict(_self(body))
        for pair in query.split("&"):
            key, _, value = pair.partition("=")
            assert params[key] == value, query
    bad_system = member.get(f"{base}&connection-type=http://example.org/other|hl7-fhir-rest")
    assert bad_system.status_code == 400


def test_healthcare_service_include_organization(
    client: TestClient, db: Session, make_org: Any
) -> None:
    owner = make_org().id
    sid = make_listing(db, owner, name="Include org service")
    org = directory_service.own_organization(db, owner)
    assert org is not None
    plain = _search(client, f"/fhir/HealthcareService?_id={sid}")
    assert _entries(plain, "include") == set()
    for value in ("HealthcareService:organization", "HealthcareService:providedBy"):
        body = _search(client, f"/fhir/HealthcareService?_id={sid}&_include={value}")
        assert _entries(body, "match") == {("HealthcareService", str(sid))}
        assert _entries(body, "include") == {("Organization", str(org.id))}, value
        assert ("_include", value) in _self(body)


def test_location_include_organization_and_organization_revinclude_location(
    client: TestClient, db: Session
) -> None:
    org = _org(db, "Include location org")
    other = _org(db, "Other org")
    here = _location(db, org, name="Here", city="Porto")
    _location(db, other, name="Elsewhere", city="Faro")
    url = f"/fhir/Location?organization={org.id}&_include=Location:organization"
    body = _search(client, url)
    assert _entries(body, "match") == {("Location", str(here.id))}
    assert _entries(body, "include") == {("Organization", str(org.id))}
    assert ("_include", "Location:organization") in _self(body)
    assert _entries(_search(client, f"/fhir/Location?organization={org.id}"), "include") == set()

    url = f"/fhir/Organization?_id={org.id}&_revinclude=Location:organization"
    body = _search(client, url)
    assert _entries(body, "match") == {("Organization", str(org.id))}
    assert _entries(body, "include") == {("Location", str(here.id))}
    assert ("_revinclude", "Location:organization") in _self(body)


def test_organization_include_endpoint_for_members_only(
    client: TestClient, member: StaffClient, db: Session
) -> None:
    org = _org(db, "Include endpoint org")
    endpoint = _endpoint(db, org, "hl7-fhir-rest", active=True)
    url = f"/fhir/Organization?_id={org.id}&_include=Organization:endpoint"
    seen = _search(member, url)
    assert _entries(seen, "match") == {("Organization", str(org.id))}
    assert _entries(seen, "include") == {("Endpoint", str(endpoint.id))}
    assert ("_include", "Organization:endpoint") in _self(seen)
    match = next(e["resource"] for e in seen["entry"] if e["search"]["mode"] == "match")
    assert match["endpoint"] == [{"reference": f"Endpoint/{endpoint.id}"}]
    public = _search(client, url)  # endpoints are for network members only
    assert _entries(public, "include") == set()
    assert all("endpoint" not in e["resource"] for e in public["entry"])


def test_string_modifiers_on_names_and_addresses(client: TestClient, db: Session) -> None:
    tag = f"Zq{uuid.uuid4().hex[:6]}"
    first = _org(db, f"{tag} Harbour House")
    second = _org(db, f"{tag.lower()} harbour house annex")
    third = _org(db, f"The {tag} Harbour")
    cases = {
        f"name={tag.upper()}": {first, second},  # starts-with, case-insensitive
        f"name:exact={tag} Harbour House": {first},
        f"name:exact={tag.lower()} harbour house": set(),  # exact is case-sensitive
        f"name:contains={tag.lower()} HARBOUR": {first, second, third},
        f"name:contains={tag}%": set(),  # a literal %, not a wildcard
    }
    for query, expected in cases.items():
        body = _search(client, f"/fhir/Organization?{query}")
        assert _entries(body, "match") == {("Organization", str(o.id)) for o in expected}, query
        key, _, value = query.partition("=")
        assert (key, value) in _self(body), query

    lisbon = _location(db, first, city="Lisbon", address_1="12 Rua Augusta", postal_code="1100")
    lisbonne = _location(db, first, city="Lisbonne", address_1="3 Quai Lisbon")
    scope = f"/fhir/Location?organization={first.id}"
    cases = {
        "address-city=lisb": {lisbon, lisbonne},
        "address-city:exact=Lisbon": {lisbon},
        "address-city:exact=lisbon": set(),
        "address=12 rua": {lisbon},  # some part of the address starts with it
        "address=rua": set(),
        "address=lisbon": {lisbon, lisbonne},
        "address=1100": {lisbon},
        "address:contains=augusta": {lisbon},
        "address:contains=LISBON": {lisbon, lisbonne},
    }
    for query, expected in cases.items():
        body = _search(client, f"{scope}&{query}")
        assert _entries(body, "match") == {("Location", str(loc.id)) for loc in expected}, query
        key, _, value = query.partition("=")
        assert (key, value) in _self(body), query
    orgs = _search(client, f"/fhir/Organization?name={tag}&address-city:exact=Lisbonne")
    assert _entries(orgs, "match") == {("Organization", str(first.id))}


def test_unsupported_modifiers_and_includes_are_ignored_or_refused(
    client: TestClient, member: StaffClient, db: Session
) -> None:
    org = _org(db, f"Unsupported {uuid.uuid4().hex[:6]}")
    unsupported = [
        (client, f"/fhir/Organization?_id={org.id}&name:text=nothing", "name:text"),
        (client, f"/fhir/Organization?_id={org.id}&_sort=name", "_sort"),
        (client, f"/fhir/Organization?_id={org.id}&_include=Location:organization", "_include"),
        (client, f"/fhir/Organization?_id={org.id}&_include:iterate=Organization:endpoint",
         "_include:iterate"),
        (client, f"/fhir/Location?organization={org.id}&_revinclude=Location:organization",
         "_revinclude"),
        (client, "/fhir/HealthcareService?name:exact=Nothing%20at%20all", "name:exact"),
        (client, "/fhir/HealthcareService?_include=HealthcareService:bogus", "_include"),
        (client, "/fhir/HealthcareService?_revinclude=Location:organization", "_revinclude"),
        (member, f"/fhir/Endpoint?organization={org.id}&_revinclude=Location:organization",
         "_revinclude"),
        (member, f"/fhir/Endpoint?organization={org.id}&status:not=active", "status:not"),
    ]  # fmt: skip
    for http, url, parameter in unsupported:
        body = _search(http, url)  # ignored: the search runs without it
        assert parameter not in {k for k, _ in _self(body)}, url
        _refused(http, url, parameter)
    # an ignored name:text filters nothing
    body = _search(client, f"/fhir/Organization?_id={org.id}&name:text=nothing")
    assert _entries(body, "match") == {("Organization", str(org.id))}
    # the HealthcareService name modifiers are not applied: the default search runs
    assert (
        _search(client, "/fhir/HealthcareService?name:exact=Nothing%20at%20all")["total"]
        == (_search(client, "/fhir/HealthcareService")["total"])
    )


def test_capability_statement_lists_what_the_searches_support(
    client: TestClient, member: StaffClient, db: Session
) -> None:
    statement = client.get("/fhir/metadata").json()
    get_fhir_model_class("CapabilityStatement").model_validate(statement)
    resources = {r["type"]: r for r in statement["rest"][0]["resource"]}
    expected = {
        "HealthcareService": (
            {"name", "organization", "location", "program", "communication",
             "service-category", "service-type", "specialty", "active"},
            {"HealthcareService:organization", "HealthcareService:providedBy",
             "HealthcareService:location", "HealthcareService:endpoint"},
            set(),
        ),
        "Organization": (
            {"name", "address", "address-city", "address-postalcode", "address-country",
             "address-state", "type", "identifier"},
            {"Organization:endpoint"},
            {"HealthcareService:organization", "Location:organization"},
        ),
        "Location": (
            {"name", "address", "address-city", "address-postalcode", "address-country",
             "address-state", "organization"},
            {"Location:organization"},
            {"HealthcareService:location"},
        ),
        "Endpoint": ({"organization", "connection-type", "status"}, set(), set()),
    }  # fmt: skip
    for kind, (names, includes, revincludes) in expected.items():
        entry = resources[kind]
        assert {p["name"] for p in entry["searchParam"]} == names | {
            "_id",
            "_lastUpdated",
            "_count",
        }
        assert set(entry.get("searchInclude", [])) == includes, kind
        assert set(entry.get("searchRevInclude", [])) == revincludes, kind
        # every advertised value is accepted under strict handling
        for name, values in (("_include", includes), ("_revinclude", revincludes)):
            for value in values:
                response = member.get(f"/fhir/{kind}?{name}={value}", headers=STRICT)
                assert response.status_code == 200, (kind, value, response.text)
        for param in entry["searchParam"]:
            value = SAMPLE.get(param["name"], "x")
            response = member.get(f"/fhir/{kind}?{param['name']}={value}", headers=STRICT)
            assert response.status_code == 200, (kind, param["name"], response.text)
