"""HSDS 3.0 `/service_at_locations` pages over service-at-location rows (postcode, proximity,
service areas, `full`), and `/organizations` nests the services the caller may see
(`full`, `full_service`); every response checked against the published schemas."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from directory import service as directory_service
from directory.schemas import LocationIn
from kernel.caller import Role
from tests.directory.factories import make_listing
from tests.directory.hsds_schemas import errors
from tests.gateway.staff import MakeAccount, StaffClient


def _valid(schema: str, doc: Any) -> None:
    found = errors(schema, doc)
    assert not found, found[0]


def _box(lat: float, lon: float, half: float) -> dict[str, Any]:
    ring = [
        [lon - half, lat - half],
        [lon + half, lat - half],
        [lon + half, lat + half],
        [lon - half, lat + half],
        [lon - half, lat - half],
    ]
    return {"type": "Polygon", "coordinates": [ring]}


@dataclass
class Seeded:
    org: uuid.UUID  # the HSDS organization id
    alpha: uuid.UUID  # public: Berlin 10115 and Hamburg 20095
    beta: uuid.UUID  # network-only: Berlin 10115
    gamma: uuid.UUID  # public: Potsdam, service area around Berlin
    delta: uuid.UUID  # public: Berlin 10115, service area around Munich


def _berlin(name: str, dlat: float = 0.0) -> LocationIn:
    return LocationIn(
        name=name, address_1="1 Test Street", city="Berlin", postal_code="10115",
        country="DE", latitude=52.52 + dlat, longitude=13.405 + dlat,
    )  # fmt: skip


@pytest.fixture
def seeded(db: Session) -> Seeded:
    owner = uuid.uuid4()
    alpha = make_listing(
        db, owner, name="Alpha clinic", description="Walk-in clinic",
        locations=[
            _berlin("Alpha Berlin"),
            LocationIn(name="Alpha Hamburg", address_1="2 Hafen", city="Hamburg",
                       postal_code="20095", country="DE", latitude=53.55, longitude=9.99),
        ],
    )  # fmt: skip
    beta = make_listing(
        db, owner, name="Beta network shelter", visibility="network",
        locations=[_berlin("Beta Berlin", 0.001)],
    )  # fmt: skip
    gamma = make_listing(
        db, owner, name="Gamma outreach", categories=["health"],
        locations=[LocationIn(name="Gamma Potsdam", city="Potsdam", postal_code="14467",
                              country="DE", latitude=52.39, longitude=13.06)],
        service_areas=[{"name": "Greater Berlin", "extent": _box(52.52, 13.405, 0.3)}],
    )  # fmt: skip
    delta = make_listing(
        db, owner, name="Delta mobile team",
        locations=[_berlin("Delta Berlin", -0.001)],
        service_areas=[{"name": "Munich", "extent": _box(48.14, 11.58, 0.3)}],
    )  # fmt: skip
    org = directory_service.own_organization(db, owner)
    assert org is not None
    db.commit()
    return Seeded(org=org.id, alpha=alpha, beta=beta, gamma=gamma, delta=delta)


@pytest.fixture
def member(make_account: MakeAccount, staff_client: Any) -> StaffClient:
    signed_in: StaffClient = staff_client(make_account(roles=(Role.CASE_WORKER,)))
    return signed_in


def _page(http: Any, url: str) -> dict[str, Any]:
    response = http.get(url)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert body["size"] == len(body["contents"])
    for item in body["contents"]:
        _valid("compiled/service_at_location_list.json", item)
    return body


def _rows(body: dict[str, Any]) -> list[tuple[str, str]]:
    return [(i["service"]["name"], i["location"]["name"]) for i in body["contents"]]


def test_service_at_locations_pages_over_rows(client: TestClient, seeded: Seeded) -> None:
    first = _page(client, "/hsds/service_at_locations")
    assert _rows(first) == [
        ("Alpha clinic", "Alpha Berlin"),
        ("Alpha clinic", "Alpha Hamburg"),
        ("Delta mobile team", "Delta Berlin"),
        ("Gamma outreach", "Gamma Potsdam"),
    ]  # never the network-only Beta
    assert first["total_items"] == 4 and first["total_pages"] == 1
    seen = []
    for number in range(1, 5):
        page = _page(client, f"/hsds/service_at_locations?per_page=1&page={number}")
        assert page["total_items"] == 4 and page["total_pages"] == 4 and page["size"] == 1
        assert page["first_page"] == (number == 1) and page["last_page"] == (number == 4)
        seen += [item["id"] for item in page["contents"]]
    assert seen == [item["id"] for item in first["contents"]]
    past = _page(client, "/hsds/service_at_locations?per_page=1&page=5")
    assert past["size"] == 0 and past["total_items"] == 4 and not past["empty"]
    searched = _page(client, "/hsds/service_at_locations?search=walk-in&per_page=1")
    assert searched["total_items"] == 2 and searched["total_pages"] == 2
    by_org = _page(client, f"/hsds/service_at_locations?organization_id={seeded.org}")
    assert by_org["total_items"] == 4
    terms = client.get("/hsds/taxonomy_terms?top_only=true").json()["contents"]
    housing, health = (next(t for t in terms if t["code"] == c) for c in ("housing", "health"))
    assert housing["taxonomy_id"] == health["taxonomy_id"]
    for query, rows in (
        (f"taxonomy_term_id={housing['id']}", 3),  # Alpha twice, Delta
        (f"taxonomy_term_id={health['id']}", 1),
        (f"taxonomy_id={housing['taxonomy_id']}", 4),
        (f"taxonomy_id={uuid.uuid4()}", 0),
    ):
        assert _page(client, f"/hsds/service_at_locations?{query}")["total_items"] == rows, query


def test_proximity_returns_only_the_rows_within_it(
    client: TestClient, member: StaffClient, seeded: Seeded
) -> None:
    url = "/hsds/service_at_locations?postcode=10115&proximity=5000"
    public = _page(client, url)
    # Alpha's Hamburg site is 250 km away; Gamma's Potsdam site 25 km; Delta serves Munich.
    assert _rows(public) == [("Alpha clinic", "Alpha Berlin")]
    assert public["total_items"] == 1 and public["total_pages"] == 1
    members = _page(member.http, url)
    assert sorted(_rows(members)) == [
        ("Alpha clinic", "Alpha Berlin"),
        ("Beta network shelter", "Beta Berlin"),
    ]
    ids = []
    for number in (1, 2):
        page = _page(member.http, f"{url}&per_page=1&page={number}")
        assert page["total_items"] == 2 and page["size"] == 1
        ids += [item["id"] for item in page["contents"]]
    assert sorted(ids) == sorted(item["id"] for item in members["contents"])
    wide = _page(client, "/hsds/service_at_locations?postcode=10115&proximity=30000")
    assert sorted(_rows(wide)) == [
        ("Alpha clinic", "Alpha Berlin"),
        ("Gamma outreach", "Gamma Potsdam"),
    ]
    for bad in ("proximity=5000", "postcode=99999&proximity=5000",
                "postcode=10115&proximity=far", "postcode=10115&proximity=0",
                "page=0", "per_page=101", "format=ndjson", "taxonomy_id=x"):  # fmt: skip
        assert client.get(f"/hsds/service_at_locations?{bad}").status_code == 400, bad


def test_postcode_matches_locations_and_service_areas(
    client: TestClient, member: StaffClient, seeded: Seeded
) -> None:
    body = _page(client, "/hsds/service_at_locations?postcode=10115")
    # Alpha's Berlin site (not Hamburg); Gamma, whose area holds 10115, at its one site;
    # not Delta, sited in 10115 but serving Munich only; never Beta for the public.
    assert _rows(body) == [("Alpha clinic", "Alpha Berlin"), ("Gamma outreach", "Gamma Potsdam")]
    assert body["total_items"] == 2
    members = _page(member.http, "/hsds/service_at_locations?postcode=10115")
    assert members["total_items"] == 3
    assert str(seeded.beta) in {i["service_id"] for i in members["contents"]}
    by_name = _page(client, "/hsds/service_at_locations?postcode=munich")
    assert _rows(by_name) == [("Delta mobile team", "Delta Berlin")]
    assert _page(client, "/hsds/service_at_locations?postcode=00000")["total_items"] == 0


def test_full_service_at_locations_are_fully_nested(
    client: TestClient, member: StaffClient, seeded: Seeded
) -> None:
    body = client.get("/hsds/service_at_locations?full=true&postcode=10115&proximity=5000").json()
    (item,) = body["contents"]
    _valid("service_at_location.json", item)
    _valid("compiled/service_with_definitions.json", item["service"])
    assert len(item["service"]["service_at_locations"]) == 2 and "refhub" not in item["service"]
    seen = member.get("/hsds/service_at_locations?full=true&postcode=10115&proximity=5000").json()
    beta = next(i for i in seen["contents"] if i["service_id"] == str(seeded.beta))
    _valid("compiled/service_with_definitions.json", beta["service"])
    assert beta["service"]["refhub"]["visibility"] == "network"


def test_organizations_nest_the_services_the_caller_may_see(
    client: TestClient, member: StaffClient, seeded: Seeded
) -> None:
    public_names = ["Alpha clinic", "Delta mobile team", "Gamma outreach"]
    one = client.get(f"/hsds/organizations/{seeded.org}")
    assert one.status_code == 200
    doc = one.json()
    _valid("organization.json", doc)
    assert [s["name"] for s in doc["services"]] == public_names
    for service in doc["services"]:
        _valid("compiled/service_list.json", service)
        assert "organization" not in service and "service_at_locations" not in service
    full = client.get(f"/hsds/organizations/{seeded.org}?full_service=true").json()
    assert [s["name"] for s in full["services"]] == public_names
    for service in full["services"]:
        _valid("compiled/service_with_definitions.json", service)
        assert "refhub" not in service
    alpha = full["services"][0]
    assert [sal["location"]["name"] for sal in alpha["service_at_locations"]] == [
        "Alpha Berlin",
        "Alpha Hamburg",
    ]
    seen = member.get(f"/hsds/organizations/{seeded.org}?full_service=true").json()
    assert str(seeded.beta) in {s["id"] for s in seen["services"]}
    assert all("refhub" in s for s in seen["services"])

    plain = client.get("/hsds/organizations").json()
    assert all("services" not in o for o in plain["contents"])
    for query in ("full=true", "full_service=true", "full=true&full_service=true"):
        listed = client.get(f"/hsds/organizations?{query}").json()
        (org,) = [o for o in listed["contents"] if o["id"] == str(seeded.org)]
        _valid("compiled/organization_list.json", org)
        _valid("organization.json", org)
        assert [s["name"] for s in org["services"]] == public_names, query
        nested = "compiled/service_with_definitions.json" if "service" in query else None
        for service in org["services"]:
            _valid(nested or "compiled/service_list.json", service)
            assert ("schedules" in service) == (nested is not None)
    members_list = member.get("/hsds/organizations?full=true").json()
    (org,) = [o for o in members_list["contents"] if o["id"] == str(seeded.org)]
    assert len(org["services"]) == 4
    assert client.get("/hsds/organizations?format=csv").status_code == 400
