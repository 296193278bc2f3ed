"""Import reads what it is given: each HSDS document type is recognised by its shape and
imported as that type, or refused with the reason (never a phantom organisation); a service
without organization_id goes under one from its context or the stated default; HSDS 3.1
fields are kept and listed in the report; an unreadable file is named; refhub's code systems
use the hub's canonical URL."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from directory import demo, exporter, importer
from directory.access import Viewer
from directory.models import (
    DirLocation,
    DirOrganization,
    Service,
    ServiceAtLocation,
    Taxonomy,
    TaxonomyTerm,
)
from directory.vocabulary import CATEGORY_SYSTEM, POPULATION_SYSTEM
from tests.directory.hsds_schemas import EXAMPLES

ADMIN = Viewer(member=True, hub_admin=True)
ORUK = Path(__file__).parent / "data" / "oruk"


def _import(db: Session, documents: list[Any], **options: Any) -> importer.ImportReport:
    return importer.import_documents(
        db, "system:cli", documents=documents, source="test", **options
    )


def _organizations(db: Session) -> int:
    return db.scalar(select(func.count()).select_from(DirOrganization)) or 0


def _example(name: str) -> Any:
    return json.loads((EXAMPLES / name).read_text())


def _organization(db: Session) -> uuid.UUID:
    org = uuid.uuid4()
    report = _import(db, [{"id": str(org), "name": "Context org", "email": "a@example.org"}])
    assert report.errors == [] and db.get(DirOrganization, org) is not None
    return org


def test_a_taxonomy_and_its_terms_are_imported_as_such(db: Session) -> None:
    for name in ("taxonomy.json", "taxonomy_list.json"):
        report = _import(db, importer.read_documents(EXAMPLES / name))
        assert (report.errors, report.taxonomies, report.created) == ([], 1, 0)
    taxonomy = db.get(Taxonomy, uuid.UUID(_example("taxonomy.json")["id"]))
    assert taxonomy is not None and taxonomy.uri == "http://example.com"
    for name in ("taxonomy_term.json", "taxonomy_term_list.json"):
        report = _import(db, importer.read_documents(EXAMPLES / name))
        assert (report.errors, report.taxonomy_terms) == ([], 1)
        assert any("not stored" in w.reason and "language" in w.reason for w in report.warnings)
    term = db.get(TaxonomyTerm, uuid.UUID(_example("taxonomy_term.json")["id"]))
    assert term is not None and term.code == "code"
    # The UK profile's taxonomy nests its terms.
    report = _import(db, importer.read_documents(ORUK / "taxonomy.json"))
    assert (report.errors, report.taxonomies, report.taxonomy_terms) == ([], 1, 1)
    assert _organizations(db) == 0  # none of these is an organization


def test_a_location_is_imported_under_its_or_the_default_organization(db: Session) -> None:
    doc = _example("location.json")  # no organization_id
    report = _import(db, [doc])
    assert report.locations == 0 and _organizations(db) == 0
    (problem,) = report.errors
    assert problem.record == f"location {doc['id']}"
    assert "no organization" in problem.reason and "--organization" in problem.reason
    org = _organization(db)
    report = _import(db, [doc], default_organization=org)
    assert (report.errors, report.locations) == ([], 1)
    location = db.get(DirLocation, uuid.UUID(doc["id"]))
    assert location is not None and location.organization_id == org
    assert any("transportation" in w.reason for w in report.warnings)  # named, not kept


def test_a_service_at_location_is_imported_with_its_service(db: Session) -> None:
    doc = _example("service_at_location_full.json")
    report = _import(db, [doc])
    assert (report.errors, report.created) == ([], 1)
    sal = db.get(ServiceAtLocation, uuid.UUID(doc["id"]))
    assert sal is not None and str(sal.service_id) == doc["service"]["id"]
    (exported,) = exporter.export_documents(db, ADMIN)
    (link,) = [s for s in exported["service_at_locations"] if s["id"] == doc["id"]]
    assert [c["id"] for c in link["contacts"]] == [c["id"] for c in doc["contacts"]]
    assert [s["id"] for s in link["schedules"]] == [s["id"] for s in doc["schedules"]]
    lone = {k: v for k, v in doc.items() if k != "service"}
    report = _import(db, [lone])
    assert "no nested service" in report.errors[0].reason


def test_a_service_without_organization_id(db: Session) -> None:
    """Legal in HSDS 3.0: refused unless its context or the import names an organization."""
    doc = {k: v for k, v in _example("service_full.json").items() if k != "organization"}
    doc["service_at_locations"] = []
    before = _organizations(db)
    report = _import(db, [doc])
    assert report.created == 0 and "no organization" in report.errors[0].reason
    assert _organizations(db) == before  # no phantom organisation
    org = _organization(db)
    report = _import(db, [doc], default_organization=org)
    assert (report.errors, report.created) == ([], 1)
    service = db.get(Service, uuid.UUID(doc["id"]))
    assert service is not None and service.organization_id == org
    (exported,) = exporter.export_documents(db, ADMIN)
    assert exported["organization_id"] == str(org)
    # From context: the organization of its location.
    other = {"id": str(uuid.uuid4()), "name": "B", "status": "active"}
    other["service_at_locations"] = [_located(org)]
    report = _import(db, [other])
    assert (report.errors, report.created) == ([], 1)
    assert db.get(Service, uuid.UUID(other["id"])).organization_id == org  # type: ignore[union-attr]


def _located(org: uuid.UUID) -> dict[str, Any]:
    loc = {"id": str(uuid.uuid4()), "location_type": "virtual", "organization_id": str(org)}
    return {"id": str(uuid.uuid4()), "location": loc}


@pytest.mark.parametrize(
    ("doc", "reason"),
    [
        ({"id": str(uuid.uuid4()), "name": "X", "description": "Y"}, "could be an organization"),
        ({"id": str(uuid.uuid4()), "colour": "blue"}, "not an HSDS service"),
        ("just text", "not a JSON object"),
    ],
)
def test_what_is_no_hsds_document_is_refused(db: Session, doc: Any, reason: str) -> None:
    report = _import(db, [doc])
    (problem,) = report.errors
    assert reason in problem.reason and problem.record == "record #1"
    assert _organizations(db) == 0


def test_hsds_31_fields_are_kept_and_reported(db: Session) -> None:
    doc = _example("service_full.json")
    doc["capacities"] = [
        {
            "id": str(uuid.uuid4()),
            "available": 3,
            "updated": "2026-01-01T00:00:00Z",
            "unit": {"id": str(uuid.uuid4()), "name": "beds"},
        }
    ]
    doc["additional_urls"] = [{"id": str(uuid.uuid4()), "url": "https://example.org/more"}]
    doc["organization"]["additional_websites"] = [{"id": str(uuid.uuid4()), "url": "https://x.org"}]
    report = _import(db, [doc])
    assert report.errors == []
    reported = " ".join(w.reason for w in report.warnings)
    for name in ("capacities", "additional_urls", "organization.additional_websites"):
        assert f"HSDS 3.1 field {name}" in reported
    (exported,) = exporter.export_documents(db, ADMIN)
    assert exported["capacities"] == doc["capacities"]
    assert exported["additional_urls"] == doc["additional_urls"]
    assert (
        exported["organization"]["additional_websites"]
        == doc["organization"]["additional_websites"]
    )


def test_an_unreadable_file_is_named(tmp_path: Path) -> None:
    latin = tmp_path / "latin1.json"
    latin.write_bytes('[{"name": "Caf\xe9"}]'.encode("latin-1"))
    with pytest.raises(ValueError, match=r"latin1\.json is not UTF-8"):
        importer.read_documents(latin)
    folder = tmp_path / "tabular"
    folder.mkdir()
    (folder / "services.csv").write_bytes(b"id,name\n1,Caf\xe9\n")
    with pytest.raises(ValueError, match=r"services\.csv is not UTF-8"):
        importer.read_documents(folder)


def test_code_systems_use_the_hub_url(db: Session) -> None:
    """The directory's code systems are refhub's canonical URLs, in HSDS and FHIR alike;
    documents naming the old example.org systems are still understood."""
    demo.load(db, None)
    assert CATEGORY_SYSTEM == "https://refhub.org/fhir/CodeSystem/service-category"
    documents = list(exporter.export_documents(db, ADMIN))
    uris = {
        a["taxonomy_term"]["taxonomy_detail"]["uri"] for d in documents for a in d["attributes"]
    }
    assert CATEGORY_SYSTEM in uris and POPULATION_SYSTEM in uris
    assert not any("example.org" in uri for uri in uris)
    assert "refhub.example.org" not in json.dumps(documents)
    # An old export's population term is still a population.
    doc = next(d for d in documents if any("population" in str(a) for a in d["attributes"]))
    old = json.loads(
        json.dumps(doc).replace(
            "https://refhub.org/fhir/CodeSystem/", "https://refhub.example.org/CodeSystem/"
        )
    )
    for a in old["attributes"]:  # and under the old population taxonomy id
        if "population-served" in a["taxonomy_term"]["term_uri"]:
            a["taxonomy_term"]["taxonomy_detail"].pop("uri")
    report = _import(db, [old])
    assert report.errors == [] and not any("population" in w.reason for w in report.warnings)
