"""HSDS test helpers: emptying the directory inside a test's transaction (an empty hub),
and comparing documents value by value and tabular folders row by row."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

from sqlalchemy import delete
from sqlalchemy.orm import Session

from directory.models import (
    DirEndpoint,
    DirLocation,
    DirOrganization,
    Schedule,
    Service,
    ServiceArea,
    ServiceAtLocation,
    ServiceLanguage,
    ServicePopulation,
    ServiceTerm,
    ServiceVersion,
    Taxonomy,
    TaxonomyTerm,
)


def empty_directory(db: Session) -> None:
    """Delete every directory row (inside the test's transaction): an empty hub."""
    for model in (
        ServiceVersion,
        ServiceTerm,
        ServiceLanguage,
        ServicePopulation,
        ServiceAtLocation,
        Schedule,
        ServiceArea,
        Service,
        DirEndpoint,
        DirLocation,
        DirOrganization,
        TaxonomyTerm,
        Taxonomy,
    ):
        db.execute(delete(model))
    db.flush()
    db.expire_all()


def leaves(doc: Any, path: str = "") -> dict[str, Any]:
    """Every value in `doc` by its path (list items by their id, else their position)."""
    out: dict[str, Any] = {}
    if isinstance(doc, dict):
        for key, value in doc.items():
            out.update(leaves(value, f"{path}.{key}" if path else key))
    elif isinstance(doc, list) and doc:
        for position, item in enumerate(doc):
            key = item["id"] if isinstance(item, dict) and "id" in item else str(position)
            out.update(leaves(item, f"{path}[{key}]"))
    else:
        out[path] = doc
    return out


def dropped(given: Any, exported: Any) -> dict[str, Any]:
    """The values of `given` that `exported` does not have (at the same path)."""
    have = leaves(exported)
    return {k: v for k, v in leaves(given).items() if k not in have or have[k] != v}


def tables(folder: Path) -> dict[str, list[list[str]]]:
    """Every CSV file of a tabular folder: its header, then its rows sorted."""
    out = {}
    for file in sorted(folder.glob("*.csv")):
        with file.open(newline="", encoding="utf-8") as handle:
            rows = list(csv.reader(handle))
        out[file.name] = rows[:1] + sorted(rows[1:])
    return out


def read_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))
