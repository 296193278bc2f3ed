"""HSDS import and export: the published examples in both forms, exports valid against the
published schemas, broken rows reported while good ones land, dry runs, idempotent upserts."""

from __future__ import annotations

import csv
import json
import shutil
import uuid
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from directory import demo, exporter, importer
from directory.access import Viewer
from directory.hsds_tabular import NUMBERS, TABLES, read_tabular, write_tabular
from directory.models import (
    DirLocation,
    DirOrganization,
    Service,
    ServiceAtLocation,
    ServiceLanguage,
    ServiceVersion,
)
from gateway.cli.main import app as cli
from gateway.runtime import Runtime
from kernel.audit import AuditRecord
from tests.directory.hsds_schemas import EXAMPLES, STANDARDS, errors

EXAMPLE_SERVICE = uuid.UUID("ac148810-d857-441c-9679-408f346de14b")
ADMIN = Viewer(member=True, hub_admin=True)
FORMS = [
    ("service_full.json", "json"),
    ("service_list.json", "json"),
    ("organization_full.json", "json"),
    ("organization_list.json", "json"),
    ("csv", "tabular"),
]


def _import(db: Session, path: Path, fmt: str | None = None) -> importer.ImportReport:
    return importer.import_documents(
        db, "system:cli", documents=importer.read_documents(path, fmt), source=path.name
    )


def _count(db: Session, model: Any) -> int:
    return db.scalar(select(func.count()).select_from(model)) or 0


@pytest.mark.parametrize(("name", "fmt"), FORMS)
def test_imports_the_published_examples(db: Session, name: str, fmt: str) -> None:
    report = _import(db, EXAMPLES / name, fmt)
    assert report.errors == []
    alone = report.locations + report.taxonomies + report.taxonomy_terms  # not services
    assert report.created + report.updated + report.unchanged == report.records - alone - (
        1 if name == "organization_list.json" else 0
    )
    if name == "organization_list.json":  # organizations only, no services
        assert report.organizations == 1
        assert db.get(DirOrganization, uuid.UUID("d9d5e0f5-d3ce-4f73-9a2f-4dd0ecc6c610"))
        return
    service = db.get(Service, EXAMPLE_SERVICE)
    assert service is not None
    assert service.name == "Community Counselling"
    assert service.minimum_age == 12
    if name != "service_list.json":  # the list shape carries no nested details
        langs = db.scalars(
            select(ServiceLanguage.code).where(ServiceLanguage.service_id == EXAMPLE_SERVICE)
        ).all()
        assert langs == ["ur"]
        location = db.get(DirLocation, uuid.UUID("3a19ff88-4620-4d17-9830-ac1d859eb5d5"))
        assert location is not None
        assert (location.city, location.postal_code) == ("MyCity", "ABC 1234")
        assert location.latitude is None  # the example's latitude 100 is out of range
        assert any("coordinate 100" in w.reason for w in report.warnings)


def test_exports_validate_against_the_published_schemas(db: Session, tmp_path: Path) -> None:
    demo.load(db, None)
    for name, fmt in FORMS:
        assert _import(db, EXAMPLES / name, fmt).errors == []
    for viewer in (ADMIN, Viewer.anonymous()):
        documents = list(exporter.export_documents(db, viewer))
        assert len(documents) > 50
        for doc in documents:
            assert errors("service.json", doc) == [], doc["id"]
    documents = list(exporter.export_documents(db, ADMIN))
    json_path = tmp_path / "export.json"
    assert exporter.export_path(db, ADMIN, path=json_path, target_format="json") == len(documents)
    assert json.loads(json_path.read_text()) == documents

    folder = tmp_path / "tabular"
    counts = write_tabular(folder, documents)
    assert counts["service"] == len(documents) and counts["location"] > 0
    standard = json.loads((STANDARDS / "datapackage.json").read_text())
    for resource in standard["resources"]:  # every table, with the standard's columns
        with (folder / resource["path"]).open(newline="", encoding="utf-8") as handle:
            reader = csv.DictReader(handle)
            assert reader.fieldnames == [f["name"] for f in resource["schema"]["fields"]]
            for row in reader:  # every row valid against its table's schema
                values: dict[str, Any] = {k: v for k, v in row.items() if v != ""}
                for column in NUMBERS.get(resource["name"], ()):
                    if column in values:
                        values[column] = float(values[column])
                assert errors(f"{resource['name']}.json", values) == [], (resource["name"], row)
    assert set(TABLES) == {r["name"] for r in standard["resources"]}
    nested = [d for d in read_tabular(folder) if "services" not in d]
    assert len(nested) == len(documents)
    for doc in nested:
        assert errors("service.json", doc) == []
    again = _import(db, folder, "tabular")
    assert again.errors == [] and again.created == 0


def test_network_fields_survive_an_export_and_reimport(db: Session) -> None:
    demo.load(db, None)
    waitlisted = db.scalars(select(Service).where(Service.capacity == "waitlist")).first()
    assert waitlisted is not None
    version = waitlisted.version
    (doc,) = [d for d in exporter.export_documents(db, ADMIN) if d["id"] == str(waitlisted.id)]
    doc["name"] = "Renamed by the import"
    report = importer.import_documents(db, "system:cli", documents=[doc], source="test")
    assert (report.updated, report.errors) == (1, [])
    db.expire_all()
    service = db.get(Service, waitlisted.id)
    assert service is not None
    assert (service.name, service.capacity, service.wait_time_days) == (
        "Renamed by the import",
        "waitlist",
        21,
    )
    assert service.version == version + 1


def _broken_folder(tmp_path: Path) -> tuple[Path, uuid.UUID]:
    folder = tmp_path / "csv"
    shutil.copytree(EXAMPLES / "csv", folder)
    good = uuid.uuid4()
    with (folder / "services.csv").open("a", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        org = "d9d5e0f5-d3ce-4f73-9a2f-4dd0ecc6c610"
        writer.writerow([good, org, "", "Good extra service"] + [""] * 4 + ["active"])
        writer.writerow(["not-a-uuid", org, "", "Bad id"] + [""] * 4 + ["active"])
        writer.writerow([uuid.uuid4(), org, "", "Bad status"] + [""] * 4 + ["closed-ish"])
        stranger = uuid.uuid4()
        writer.writerow(
            [uuid.uuid4(), stranger, "", "Unknown organization"] + [""] * 4 + ["active"]
        )
        writer.writerow([uuid.uuid4(), org, "", ""] + [""] * 4 + ["active"])
    return folder, good


def test_broken_rows_are_reported_and_good_rows_land(db: Session, tmp_path: Path) -> None:
    folder, good = _broken_folder(tmp_path)
    report = _import(db, folder)
    reasons = sorted(p.reason for p in report.errors)
    assert len(reasons) == 4
    assert reasons[0].startswith("id: 'not-a-uuid' is not a UUID")
    assert any(r.startswith("name: missing") for r in reasons)
    assert any(r.startswith("organization ") and r.endswith("not found") for r in reasons)
    assert any(r.startswith("status: 'closed-ish'") for r in reasons)
    assert all(p.record.startswith("service ") for p in report.errors)
    assert report.created == 2
    assert db.get(Service, good) is not None
    assert db.get(Service, EXAMPLE_SERVICE) is not None


def test_rows_the_database_refuses_fail_alone(db: Session) -> None:
    """Two services claiming the same service_at_location id: the chunk is retried record
    by record, so only the second fails."""
    doc = json.loads((EXAMPLES / "service_full.json").read_text())
    twin = {**doc, "id": str(uuid.uuid4()), "name": "Twin"}
    report = importer.import_documents(db, "system:cli", documents=[doc, twin], source="test")
    assert report.created == 1
    assert [p.record for p in report.errors] == [f"service {twin['id']}"]
    assert report.errors[0].reason.startswith("refused by the database")
    assert db.get(Service, EXAMPLE_SERVICE) is not None


def _fresh_ids(doc: Any, ids: dict[str, str]) -> Any:
    """`doc` with every UUID replaced by a new one (the same one wherever it recurs)."""
    if isinstance(doc, dict):
        return {k: _fresh_ids(v, ids) for k, v in doc.items()}
    if isinstance(doc, list):
        return [_fresh_ids(v, ids) for v in doc]
    if isinstance(doc, str) and len(doc) == 36 and doc.count("-") == 4:
        return ids.setdefault(doc, str(uuid.uuid4()))
    return doc


def test_refused_records_in_a_large_chunk_fail_alone(db: Session) -> None:
    """A chunk the database refuses is split until only its refused records fail: two
    twins among sixty services, the rest all land."""
    doc = json.loads((EXAMPLES / "service_full.json").read_text())
    docs = [_fresh_ids(doc, {}) for _ in range(60)]
    twins = [{**docs[i], "id": str(uuid.uuid4()), "name": "Twin"} for i in (7, 41)]
    batch = [*docs[:30], twins[0], *docs[30:], twins[1]]
    report = importer.import_documents(db, "system:cli", documents=batch, source="test")
    assert report.created == 60
    assert [p.record for p in report.errors] == [f"service {t['id']}" for t in twins]
    ids = [uuid.UUID(d["id"]) for d in docs]
    stored = db.scalars(select(Service.id).where(Service.id.in_(ids)))
    assert len(set(stored)) == 60


def test_reimport_is_idempotent_and_audited(db: Session) -> None:
    first = _import(db, EXAMPLES / "csv")
    counted = [ServiceAtLocation, ServiceLanguage, ServiceVersion, DirLocation, DirOrganization]
    before = [_count(db, model) for model in counted]
    second = _import(db, EXAMPLES / "csv")
    assert (first.created, second.created, second.updated, second.unchanged) == (1, 0, 0, 1)
    assert [_count(db, model) for model in counted] == before
    db.commit()  # the audit chain is written at commit (a savepoint of the test transaction)
    records = db.scalars(
        select(AuditRecord)
        .where(AuditRecord.action == "directory.import")
        .order_by(AuditRecord.seq)
    ).all()[-2:]
    assert [r.actor for r in records] == ["system:cli", "system:cli"]
    assert records[0].detail["created"] == 1 and records[1].detail["unchanged"] == 1


def test_cli_dry_run_reports_and_changes_nothing(runtime: Runtime, tmp_path: Path) -> None:
    folder, good = _broken_folder(tmp_path)
    with runtime.sessions() as session:
        before = (_count(session, Service), _count(session, AuditRecord))
    result = CliRunner().invoke(cli, ["directory", "import", str(folder), "--dry-run"])
    assert result.exit_code == 1, result.output
    # The example's taxonomy and its term (linked to no service here) are records too.
    assert "dry run, nothing changed: 8 records, 2 created" in result.output
    assert "error: service not-a-uuid: id: 'not-a-uuid' is not a UUID" in result.output
    with runtime.sessions() as session:
        assert (_count(session, Service), _count(session, AuditRecord)) == before
        assert session.get(Service, good) is None
    unreadable = CliRunner().invoke(cli, ["directory", "import", str(tmp_path / "missing.json")])
    assert unreadable.exit_code == 2
