"""Public HSDS data refhub did not write: the official HSDS 3.0 examples and the Open Referral
UK profile's examples (tests/directory/data/oruk), imported and exported again, compared
value by value: nothing is dropped. Rows of the tabular examples that link to nothing in
their package are named in the import report (nothing is dropped silently)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session

from directory import exporter, importer
from directory.access import Viewer
from directory.hsds_tabular import SKIPPED, TABLES, read_tabular
from directory.import_shapes import expand
from tests.directory.hsds_compare import dropped, leaves, tables
from tests.directory.hsds_schemas import EXAMPLES

ADMIN = Viewer(member=True, hub_admin=True)
ORUK = Path(__file__).parent / "data" / "oruk"
JSON_SETS = [
    EXAMPLES / "service_full.json",
    EXAMPLES / "service_list.json",
    EXAMPLES / "organization_full.json",
    EXAMPLES / "service_at_location_full.json",
    ORUK / "service_full.json",
    ORUK / "service_list.json",
    ORUK / "organization_full.json",
    ORUK / "service_at_location_full.json",
]


def _name(path: Path) -> str:
    return f"{'oruk' if ORUK in path.parents else 'hsds-3.0'}/{path.name}"


def _services(documents: list[Any]) -> list[dict[str, Any]]:
    """The input's services as the importer sees them (organizations' nested services with
    their organization, a service_at_location inside its service)."""
    return [doc for kind, doc in expand(documents) if kind == "service"]


@pytest.mark.parametrize("path", JSON_SETS, ids=_name)
def test_public_json_comes_back_value_for_value(db: Session, path: Path) -> None:
    documents = importer.read_documents(path)
    report = importer.import_documents(db, "system:cli", documents=documents, source=path.name)
    assert report.errors == []
    exported = {d["id"]: d for d in exporter.export_documents(db, ADMIN)}
    given = _services(documents)
    assert given
    for doc in given:
        assert leaves(doc)
        assert dropped(doc, exported[doc["id"]]) == {}, doc["id"]


def _cells(folder: Path) -> dict[tuple[str, str, str], str]:
    """Every non-empty cell of a tabular folder's HSDS tables, by (file, row id, column)."""
    out = {}
    for name, rows in tables(folder).items():
        header = rows[0]
        for row in rows[1:]:
            record = dict(zip(header, row, strict=False))
            for column, value in record.items():
                if value != "":
                    out[(name, record.get("id", ""), column)] = value
    return out


@pytest.mark.parametrize("folder", [EXAMPLES / "csv", ORUK / "csv"], ids=["hsds-3.0", "oruk"])
def test_public_tabular_comes_back_cell_for_cell(db: Session, folder: Path, tmp_path: Path) -> None:
    """Every cell of the published tables comes back in the tabular export, except the rows
    that link to nothing in their package, which the import report names."""
    documents = importer.read_documents(folder)
    report = importer.import_documents(db, "system:cli", documents=documents, source="csv")
    assert report.errors == []
    unplaced = [d[SKIPPED] for d in documents if SKIPPED in d]
    named = [f"{w.record}: {w.reason}" for w in report.warnings]
    assert all(any(u in reason for reason in named) for u in unplaced)
    out = tmp_path / "export"
    exporter.export_path(db, ADMIN, path=out, target_format="tabular")
    given, got = _cells(folder), _cells(out)
    standard = {path for path, _ in TABLES.values()}
    given = {k: v for k, v in given.items() if k[0] in standard}
    missing = {k: v for k, v in given.items() if got.get(k) != v}
    for name in {k[0] for k in _cells(folder)} - standard:  # the UK profile's extra files
        assert any(f"{name}: not a table of the HSDS 3.0 datapackage" in r for r in named)
    # Each missing cell is named in the report: its row (linked to nothing, or a standalone
    # term whose field refhub does not store) or its column (not an HSDS 3.0 column).
    for file, row, column in missing:
        assert any(row in reason or f"{file}: column {column!r}" in reason for reason in named), (
            file,
            row,
            column,
        )
    # Read back, the export nests the same services.
    assert {d["id"] for d in read_tabular(out) if "status" in d} == {
        d["id"] for d in documents if "status" in d
    }
