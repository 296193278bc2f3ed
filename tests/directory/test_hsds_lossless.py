"""HSDS 3: what goes in comes out. Export -> import into an empty hub -> export gives the same
documents (JSON and tabular), the tabular export passes the official HSDS datapackage (types,
formats, foreign keys), refhub's own edits win over the kept copy of an imported document,
and a network-only listing stays network-only."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest
from frictionless import Package
from sqlalchemy.orm import Session

from directory import demo, exporter, importer
from directory import service as directory_service
from directory.access import Viewer
from directory.hsds_tables import EXTENSION_FILE
from directory.models import DirEndpoint, Service, Visibility
from directory.schemas import CapacityIn, ModerationIn
from kernel.caller import Caller, CallerKind, Role
from tests.directory.factories import editor
from tests.directory.hsds_compare import dropped, empty_directory, read_json, tables
from tests.directory.hsds_fixtures import ENDPOINT, OWNER, SERVICE, rich_document
from tests.directory.hsds_schemas import STANDARDS, errors

ADMIN = Viewer(member=True, hub_admin=True)


def _import(db: Session, documents: list[Any]) -> importer.ImportReport:
    report = importer.import_documents(db, "system:cli", documents=documents, source="test")
    assert report.errors == [], report.errors
    return report


def _export(db: Session, viewer: Viewer = ADMIN) -> list[dict[str, Any]]:
    return list(exporter.export_documents(db, viewer))


def _hub(db: Session) -> None:
    """The demo directory plus the rich imported listing."""
    demo.load(db, None)
    _import(db, [rich_document()])


def test_the_imported_document_comes_back_whole(db: Session) -> None:
    """Every value of the imported document is in the export, as given: schedules in full
    (monthly rules, times and offsets as written), the service_at_location's contacts,
    phones and schedules, programs, funding, metadata, last_modified, the extension."""
    _hub(db)
    (doc,) = [d for d in _export(db) if d["id"] == SERVICE]
    assert dropped(rich_document(), doc) == {}
    assert doc["last_modified"] == "2025-11-02T08:15:00.000Z"
    assert errors("service.json", doc) == []


def test_json_export_import_export_is_identical(db: Session, tmp_path: Path) -> None:
    _hub(db)
    first = tmp_path / "first.json"
    count = exporter.export_path(db, ADMIN, path=first, target_format="json")
    empty_directory(db)
    assert _export(db) == []
    report = _import(db, importer.read_documents(first))
    assert report.created == count
    second = tmp_path / "second.json"
    exporter.export_path(db, ADMIN, path=second, target_format="json")
    assert read_json(second) == read_json(first)
    # The network-only listing is network-only in the new hub too.
    service = db.get(Service, uuid.UUID(SERVICE))
    assert service is not None and service.visibility == Visibility.NETWORK
    assert SERVICE not in {d["id"] for d in _export(db, Viewer.anonymous())}
    endpoint = db.get(DirEndpoint, uuid.UUID(ENDPOINT))
    assert endpoint is not None and service.endpoint_id == endpoint.id
    assert service.owner_organisation_id == uuid.UUID(OWNER)


def test_tabular_export_import_export_is_identical(db: Session, tmp_path: Path) -> None:
    _hub(db)
    first = tmp_path / "first"
    count = exporter.export_path(db, ADMIN, path=first, target_format="tabular")
    assert (first / EXTENSION_FILE).exists()  # the members' export carries the extension
    empty_directory(db)
    report = _import(db, importer.read_documents(first))
    assert report.created == count
    second = tmp_path / "second"
    exporter.export_path(db, ADMIN, path=second, target_format="tabular")
    assert tables(second) == tables(first)
    assert read_json(second / "datapackage.json") == read_json(first / "datapackage.json")
    service = db.get(Service, uuid.UUID(SERVICE))
    assert service is not None and service.visibility == Visibility.NETWORK
    assert SERVICE not in {d["id"] for d in _export(db, Viewer.anonymous())}


def _validate(descriptor: Path, folder: Path) -> list[str]:
    """frictionless's validation of the CSV files in `folder` against `descriptor`, table by
    table (its package-level validation in 5.18 skips the foreign keys)."""
    found = []
    for resource in read_json(descriptor)["resources"]:
        package = Package(read_json(descriptor), basepath=str(folder))
        report = package.get_resource(resource["name"]).validate()
        found += [f"{resource['name']}: {e.type}: {e.note}" for t in report.tasks for e in t.errors]
    return found[:20]


def test_the_check_finds_what_the_official_example_breaks() -> None:
    """The validator used here does check foreign keys: the published CSV example's location
    names an organization the example does not have."""
    problems = _validate(STANDARDS / "datapackage.json", STANDARDS / "examples" / "csv")
    assert any(p.startswith("location: foreign-key") for p in problems), problems


@pytest.mark.parametrize("viewer", [ADMIN, Viewer.anonymous()], ids=["members", "public"])
def test_tabular_export_passes_the_official_datapackage(
    db: Session, tmp_path: Path, viewer: Viewer
) -> None:
    """The published HSDS 3.0 datapackage (types, formats, required fields, enums, primary
    and foreign keys) accepts the export, and so does the descriptor the export writes (the
    published one, plus refhub's extension resource in a members' export)."""
    _hub(db)
    folder = tmp_path / "tabular"
    exporter.export_path(db, viewer, path=folder, target_format="tabular")
    assert _validate(STANDARDS / "datapackage.json", folder) == []
    written = read_json(folder / "datapackage.json")
    official = read_json(STANDARDS / "datapackage.json")
    assert written["resources"][: len(official["resources"])] == official["resources"]
    assert _validate(folder / "datapackage.json", folder) == []
    # Terms name their taxonomies, and taxonomies.csv has them.
    rows = tables(folder)
    taxonomy_ids = {row[0] for row in rows["taxonomies.csv"][1:]}
    term_taxonomies = {row[7] for row in rows["taxonomy_terms.csv"][1:]}
    assert term_taxonomies and term_taxonomies <= taxonomy_ids


def test_refhub_edits_win_over_the_kept_copy(db: Session) -> None:
    """What refhub changes after the import (capacity and its note, a moderation verdict)
    is exported as changed; what it does not model stays as imported."""
    _hub(db)
    sid = uuid.UUID(SERVICE)
    directory_service.update_capacity(
        db,
        editor(uuid.UUID(OWNER)),
        service_id=sid,
        body=CapacityIn.model_validate(
            {"capacity": "no-capacity", "wait_time_days": 30, "capacity_note": "Full"}
        ),
    )
    admin = Caller(CallerKind.USER, uuid.uuid4(), None, roles=frozenset({Role.HUB_ADMIN}))
    directory_service.moderate_service(
        db, admin, service_id=sid, body=ModerationIn(action="suspend", reason="Checking")
    )
    db.expire_all()
    (doc,) = [d for d in _export(db) if d["id"] == SERVICE]
    assert doc["refhub"]["capacity"] == "no-capacity"
    assert doc["refhub"]["wait_time_days"] == 30
    assert doc["alert"] == "Full"
    assert doc["refhub"]["moderation"] == "suspended"
    assert doc["last_modified"] != rich_document()["last_modified"]
    left = dropped(rich_document(), doc)
    assert set(left) == {
        "alert",
        "last_modified",
        "refhub.capacity",
        "refhub.capacity_note",
        "refhub.wait_time_days",
    }


def test_a_reimport_never_lifts_a_suspension_or_changes_the_owner(db: Session) -> None:
    """A listing suspended since its import stays suspended, with its owner, when the old
    document (moderation ok, another owner) is imported again; the export says so."""
    _hub(db)
    sid = uuid.UUID(SERVICE)
    admin = Caller(CallerKind.USER, uuid.uuid4(), None, roles=frozenset({Role.HUB_ADMIN}))
    directory_service.moderate_service(
        db, admin, service_id=sid, body=ModerationIn(action="suspend", reason="Checking")
    )
    old = rich_document()
    old["refhub"] |= {"moderation": "ok", "owner_organisation_id": str(uuid.uuid4())}
    old["name"] = "Renamed upstream"
    assert _import(db, [old]).updated == 1
    db.expire_all()
    service = db.get(Service, sid)
    assert service is not None
    assert (service.moderation, service.owner_organisation_id) == ("suspended", uuid.UUID(OWNER))
    (doc,) = [d for d in _export(db) if d["id"] == SERVICE]
    assert doc["name"] == "Renamed upstream"
    assert doc["refhub"]["moderation"] == "suspended"
    assert doc["refhub"]["owner_organisation_id"] == OWNER
