"""HSDS round trips of what the importer keeps: a service's contacts (with their phones) and
cost options come back in the JSON export, the tabular export and the /hsds API, valid
against the published schemas; a plain HSDS re-import leaves a listing's endpoint alone."""

from __future__ import annotations

import copy
import csv
import json
import uuid
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from directory import exporter, hsds, importer
from directory import service as directory_service
from directory.access import Viewer
from directory.details import load_details
from directory.hsds_tabular import NUMBERS, read_tabular
from directory.models import Service
from directory.schemas import EndpointIn, OrganizationIn
from tests.directory.factories import editor, make_listing
from tests.directory.hsds_schemas import EXAMPLES, STANDARDS, errors

ADMIN = Viewer(member=True, hub_admin=True)
SERVICE = uuid.UUID("6f1a3c52-0b8e-4d7e-9a51-3f0c2d9b7e10")
ORG = uuid.UUID("2b7d9e40-5c1f-4a8b-8e33-7d6a0f4c9b21")
CONTACT_1, CONTACT_2 = uuid.uuid5(SERVICE, "contact-1"), uuid.uuid5(SERVICE, "contact-2")


def _document() -> dict[str, Any]:
    return {
        "id": str(SERVICE),
        "name": "Night shelter",
        "status": "active",
        "organization": {"id": str(ORG), "name": "Shelter trust", "description": "Shelters"},
        "contacts": [
            {
                "id": str(CONTACT_1),
                "name": "Ann Persona",
                "title": "Intake coordinator",
                "department": "Intake",
                "email": "intake@shelter.example.org",
                "phones": [
                    {
                        "id": str(uuid.uuid5(CONTACT_1, "desk")),
                        "number": "+44 1234 234567",
                        "extension": 12,
                        "type": "voice",
                        "description": "Intake desk",
                    },
                    {"id": str(uuid.uuid5(CONTACT_1, "text")), "number": "07700 900123"},
                ],
            },
            {"id": str(CONTACT_2), "name": "Night manager", "phones": []},
        ],
        "cost_options": [
            {
                "id": str(uuid.uuid5(SERVICE, "cost-1")),
                "valid_from": "2026-01-01",
                "valid_to": "2026-12-31",
                "option": "Per night",
                "currency": "GBP",
                "amount": 12.5,
                "amount_description": "breakfast included",
            },
            {"id": str(uuid.uuid5(SERVICE, "cost-2")), "option": "Under 18s", "amount": 0},
        ],
    }


def _expected_contacts() -> list[dict[str, Any]]:
    """The document's contacts as HSDS links them: to the service, phones to their contact."""
    return [
        {
            **c,
            "service_id": str(SERVICE),
            "phones": [{**p, "contact_id": c["id"]} for p in c["phones"]],
        }
        for c in _document()["contacts"]
    ]


def _tabular_shape(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Objects as read from the tabular form, which has no empty lists (no rows)."""
    return [{k: v for k, v in item.items() if v != []} for item in items]


def _expected_costs() -> list[dict[str, Any]]:
    return [{**c, "service_id": str(SERVICE)} for c in _document()["cost_options"]]


def _import(db: Session, documents: list[Any]) -> importer.ImportReport:
    return importer.import_documents(db, "system:cli", documents=documents, source="test")


def _table(folder: Path, name: str) -> list[dict[str, Any]]:
    """A table of the tabular export, each row checked against its published schema."""
    standard = json.loads((STANDARDS / "datapackage.json").read_text())
    (resource,) = [r for r in standard["resources"] if r["name"] == name]
    with (folder / resource["path"]).open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        assert reader.fieldnames == [f["name"] for f in resource["schema"]["fields"]]
        rows = []
        for row in reader:
            values: dict[str, Any] = {k: v for k, v in row.items() if v != ""}
            for column in NUMBERS.get(name, ()):
                if column in values:
                    values[column] = float(values[column])
            assert errors(f"{name}.json", values) == [], (name, row)
            rows.append(values)
    return rows


def test_contacts_and_cost_options_survive_exports_and_the_api(
    db: Session, client: TestClient, tmp_path: Path
) -> None:
    report = _import(db, [_document()])
    assert (report.created, report.errors, report.warnings) == (1, [], [])

    # The JSON export.
    exporter.export_path(db, ADMIN, path=tmp_path / "export.json", target_format="json")
    (doc,) = [
        d for d in json.loads((tmp_path / "export.json").read_text()) if d["id"] == str(SERVICE)
    ]
    assert doc["contacts"] == _expected_contacts()
    assert doc["cost_options"] == _expected_costs()
    assert errors("service.json", doc) == []
    assert errors("compiled/service_with_definitions.json", doc) == []

    # The tabular export: contacts.csv, phones.csv (linked to their contact), cost_options.csv.
    folder = tmp_path / "tabular"
    exporter.export_path(db, ADMIN, path=folder, target_format="tabular")
    contacts = _table(folder, "contact")
    assert sorted(c["id"] for c in contacts) == sorted([str(CONTACT_1), str(CONTACT_2)])
    assert all(c["service_id"] == str(SERVICE) for c in contacts)
    phones = _table(folder, "phone")
    assert sorted((p["id"], p["contact_id"]) for p in phones) == sorted(
        (p["id"], str(CONTACT_1)) for p in _document()["contacts"][0]["phones"]
    )
    assert len(_table(folder, "cost_option")) == 2
    (nested,) = [d for d in read_tabular(folder) if d.get("id") == str(SERVICE)]
    assert nested["contacts"] == _tabular_shape(_expected_contacts())
    assert nested["cost_options"] == _expected_costs()
    assert errors("service.json", nested) == []

    # Importing the tabular export stores the same contacts and cost options again.
    service = db.get(Service, SERVICE)
    assert service is not None
    stored = (copy.deepcopy(service.contacts), copy.deepcopy(service.cost_options))
    again = importer.import_documents(
        db, "system:cli", documents=importer.read_documents(folder, "tabular"), source="tabular"
    )
    assert (again.updated, again.errors) == (1, [])
    db.expire_all()
    service = db.get(Service, SERVICE)
    assert service is not None
    assert (service.contacts, service.cost_options) == stored

    # The HSDS API (public, anonymous).
    got = client.get(f"/hsds/services/{SERVICE}")
    assert got.status_code == 200, got.text
    body = got.json()
    assert body["contacts"] == _expected_contacts()
    assert body["cost_options"] == _expected_costs()
    assert errors("compiled/service_with_definitions.json", body) == []


def test_the_published_example_keeps_its_contact_phone(db: Session, tmp_path: Path) -> None:
    """The published CSV example links its one phone to the service and to the contact;
    both links are read, exported (one phones.csv row) and read again."""
    report = importer.import_documents(
        db,
        "system:cli",
        documents=importer.read_documents(EXAMPLES / "csv", "tabular"),
        source="csv",
    )
    assert report.errors == []
    example = json.loads((EXAMPLES / "service_full.json").read_text())
    (contact,) = example["contacts"]
    (doc,) = [
        d for d in exporter.export_documents(db, Viewer.anonymous()) if d["id"] == example["id"]
    ]
    (exported,) = doc["contacts"]
    assert (exported["id"], exported["name"], exported["email"]) == (
        contact["id"],
        contact["name"],
        contact["email"],
    )
    assert [p["id"] for p in exported["phones"]] == [p["id"] for p in contact["phones"]]
    assert [p["id"] for p in doc["phones"]] == [p["id"] for p in example["phones"]]
    assert [c["id"] for c in doc["cost_options"]] == [c["id"] for c in example["cost_options"]]
    assert doc["cost_options"][0]["amount"] == 35
    assert errors("service.json", doc) == []
    folder = tmp_path / "tabular"
    exporter.export_path(db, Viewer.anonymous(), path=folder, target_format="tabular")
    (phone,) = _table(folder, "phone")
    assert (phone["service_id"], phone["contact_id"]) == (example["id"], contact["id"])
    (nested,) = [d for d in read_tabular(folder) if d.get("id") == example["id"]]
    assert nested["contacts"] == doc["contacts"]
    assert nested["phones"] == doc["phones"]


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (lambda d: d["contacts"][0].pop("id"), "contacts.id: missing"),
        (lambda d: d["contacts"][0]["phones"][1].pop("number"), "contacts.phones.number: missing"),
        (
            lambda d: d["contacts"][0]["phones"][0].update(extension="twelve"),
            "contacts.phones.extension: 'twelve' is not a number",
        ),
        (lambda d: d["contacts"][1].update(phones="none"), "contacts.phones: must be a list"),
        (lambda d: d["contacts"][1].update(name={"x": 1}), "contacts.name: must be text"),
        (
            lambda d: d["cost_options"][1].update(amount="free"),
            "cost_options.amount: 'free' is not a number",
        ),
        (lambda d: d["cost_options"][0].update(id="cost-1"), "cost_options.id: 'cost-1' is not"),
    ],
)
def test_bad_contacts_and_cost_options_fail_their_record_only(
    db: Session, change: Any, reason: str
) -> None:
    """A contact or cost option the exports could not write validly fails its record with
    the field's name; the other records land."""
    bad = _document()
    change(bad)
    good = {**_document(), "id": str(uuid.uuid4()), "contacts": [], "cost_options": []}
    report = _import(db, [bad, good])
    assert report.created == 1
    (problem,) = report.errors
    assert problem.record == f"service {SERVICE}"
    assert problem.reason.startswith(reason), problem.reason
    assert db.get(Service, SERVICE) is None


def _listing_with_endpoint(db: Session) -> Service:
    org_id = uuid.uuid4()
    caller = editor(org_id)
    directory_service.upsert_organization(db, caller, body=OrganizationIn(name="Clinic"))
    directory_service.set_endpoint(
        db,
        caller,
        body=EndpointIn(connection_type="hl7-fhir-rest", address="https://clinic.example.org/fhir"),
    )
    service = db.get(Service, make_listing(db, org_id, accepts_electronic_referrals=True))
    assert service is not None and service.endpoint_id is not None
    return service


def _reimported(db: Session, doc: dict[str, Any]) -> Service:
    """Import `doc` over its stored listing (one update, no error) and read the row back."""
    report = _import(db, [doc])
    assert (report.updated, report.errors) == (1, [])
    db.expire_all()
    again = db.get(Service, uuid.UUID(doc["id"]))
    assert again is not None
    return again


def test_plain_hsds_reimport_keeps_the_endpoint(db: Session) -> None:
    """A document without refhub's extension says nothing about electronic referrals: the
    listing keeps its endpoint. One with the extension decides: no electronic referrals, no
    endpoint; electronic referrals again, the organization's endpoint."""
    service = _listing_with_endpoint(db)
    endpoint, version = service.endpoint_id, service.version
    (details,) = load_details(db, [service])
    doc = hsds.service_document(details)  # the public view: no refhub extension
    assert "refhub" not in doc
    doc["name"] = "Clinic intake (renamed)"
    again = _reimported(db, doc)
    assert (again.name, again.version) == ("Clinic intake (renamed)", version + 1)
    assert (again.accepts_electronic_referrals, again.endpoint_id) == (True, endpoint)

    extended = hsds.service_document(details, members=True)
    extended["refhub"]["accepts_electronic_referrals"] = False
    again = _reimported(db, extended)
    assert (again.accepts_electronic_referrals, again.endpoint_id) == (False, None)
    extended["refhub"]["accepts_electronic_referrals"] = True
    again = _reimported(db, extended)
    assert (again.accepts_electronic_referrals, again.endpoint_id) == (True, endpoint)
