"""Exporting listings as HSDS 3.0: nested JSON (a list of full services) or the tabular form.

Exports are what a viewer may read: the public view (public listings, no network-only
fields) or the whole directory for hub admins, with refhub's network extension (`refhub`:
visibility, capacity, intake, populations, endpoint) that the importer reads back.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from directory import hsds
from directory.access import Viewer, visible_services
from directory.details import load_details
from directory.hsds_tabular import write_tabular
from directory.models import Service, Taxonomy, TaxonomyTerm

__all__ = ["FORMATS", "export_documents", "export_path"]

FORMATS = ("json", "tabular")
_CHUNK = 500


def export_documents(session: Session, viewer: Viewer) -> Iterator[dict[str, Any]]:
    """Every listing `viewer` may read as a full HSDS service document, in id order."""
    after = None
    while True:
        query = visible_services(viewer).order_by(Service.id).limit(_CHUNK)
        if after is not None:
            query = query.where(Service.id > after)
        rows = session.scalars(query).all()
        if not rows:
            return
        for details in load_details(session, rows):
            yield hsds.service_document(details, members=viewer.member, full=True)
        after = rows[-1].id


def export_path(session: Session, viewer: Viewer, *, path: Path, target_format: str) -> int:
    """Write the export to `path` (a JSON file, or a folder for the tabular form); returns
    the number of services written.

    Raises:
        ValueError: unknown format.
    """
    if target_format not in FORMATS:
        raise ValueError(f"unknown format {target_format!r}; known: {', '.join(FORMATS)}")
    documents = list(export_documents(session, viewer))
    if target_format == "json":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(documents, indent=1, ensure_ascii=False), encoding="utf-8")
    else:
        write_tabular(path, documents, *vocabulary(session))
    return len(documents)


def vocabulary(session: Session) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Every taxonomy term the directory holds (with its taxonomy), and every taxonomy: the
    tabular form lists the vocabulary whether or not a listing uses it."""
    rows = session.execute(
        select(TaxonomyTerm, Taxonomy)
        .join(Taxonomy, Taxonomy.id == TaxonomyTerm.taxonomy_id)
        .order_by(Taxonomy.id, TaxonomyTerm.id)
    )
    terms = [hsds.term_document(term, taxonomy) for term, taxonomy in rows]
    taxonomies = session.scalars(select(Taxonomy).order_by(Taxonomy.id))
    return terms, [hsds.taxonomy_document(t) for t in taxonomies]
