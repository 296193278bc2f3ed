"""Importing HSDS 3.0 listings (nested JSON, or the tabular form read by `hsds_tabular`).

Every record is checked on its own first; a broken one is reported (its id and why) and
skipped while the others land. Writes are upserts by the records' own stable ids, done in
chunks with bulk statements (COPY on PostgreSQL); if the database refuses a chunk, it is
split in halves and retried in savepoints until only the refused records fail. A record
identical to what the last import stored is left alone, so re-importing a file changes
nothing. One audit record per run.
The caller commits (or rolls back, for a dry run).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import and_, delete, insert, select, text, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from directory import geometry as directory_geometry
from directory.hsds_tabular import read_tabular
from directory.import_records import BadRecord, Record, parse_document
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
from directory.search import search_keys
from kernel import audit
from kernel.bulk import among, insert_rows
from kernel.db import utcnow

__all__ = ["FORMATS", "ImportReport", "Problem", "import_documents", "read_documents"]

FORMATS = ("json", "tabular")
CHUNK = 2000
_CHILDREN = (ServiceTerm, ServiceLanguage, ServicePopulation, ServiceAtLocation, Schedule)


@dataclass(frozen=True)
class Problem:
    """One record that was not imported (or imported with a part left out), and why."""

    record: str
    reason: str


@dataclass
class ImportReport:
    """What an import run did (or, in a dry run, would have done)."""

    records: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    organizations: int = 0
    errors: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)

    @property
    def failed(self) -> int:
        return len(self.errors)

    def counts(self) -> dict[str, int]:
        return {
            "records": self.records,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "organizations": self.organizations,
            "failed": self.failed,
            "warnings": len(self.warnings),
        }


def read_documents(path: Path, source_format: str | None = None) -> list[dict[str, Any]]:
    """The HSDS documents in `path`: a JSON file (a list of services or organizations, one
    object, or an API page with `contents`) or a tabular folder (or its datapackage.json).

    Raises:
        ValueError: unknown format, unreadable JSON, or no documents in it.
        FileNotFoundError: nothing at `path`.
    """
    fmt = source_format or ("tabular" if path.is_dir() or path.suffix == ".csv" else "json")
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}; known: {', '.join(FORMATS)}")
    if fmt == "tabular":
        return read_tabular(path if path.is_dir() else path.parent)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path} is not JSON: {exc}") from None
    if isinstance(data, dict):
        data = data["contents"] if isinstance(data.get("contents"), list) else [data]
    if not isinstance(data, list):
        raise ValueError(f"{path}: expected a list of HSDS services or organizations")
    return data


def _is_organization(doc: dict[str, Any]) -> bool:
    """HSDS services always carry `status`; organizations carry nested `services` or no
    link to an organization."""
    if isinstance(doc.get("services"), list):
        return True
    return not {"status", "organization_id", "organization"} & set(doc)


def _expand(documents: Iterable[Any]) -> Iterable[dict[str, Any] | Any]:
    """Service documents, with organization documents' nested services given their org;
    an organization without services stays as itself (an organization-only record)."""
    for doc in documents:
        if isinstance(doc, dict) and _is_organization(doc):
            found = doc.get("services")
            services: list[Any] = found if isinstance(found, list) else []
            org = {k: v for k, v in doc.items() if k != "services"}
            if not services:
                yield org | {"_organization_only": True}
            for nested in services:
                yield {**nested, "organization": org} if isinstance(nested, dict) else nested
        else:
            yield doc


@dataclass
class _Run:
    session: Session
    report: ImportReport
    actor: str
    organizations: set[uuid.UUID] = field(default_factory=set)
    chunks: int = 0
    terms: dict[uuid.UUID, uuid.UUID] = field(default_factory=dict)
    term_codes: dict[tuple[uuid.UUID, str], uuid.UUID] = field(default_factory=dict)
    taxonomies: dict[uuid.UUID, str | None] = field(default_factory=dict)
    taxonomy_uris: dict[str, uuid.UUID] = field(default_factory=dict)

    def load_vocabulary(self) -> None:
        self.taxonomies = {
            tid: uri for tid, uri in self.session.execute(select(Taxonomy.id, Taxonomy.uri))
        }
        self.taxonomy_uris = {uri: tid for tid, uri in self.taxonomies.items() if uri}
        rows = self.session.execute(
            select(TaxonomyTerm.id, TaxonomyTerm.taxonomy_id, TaxonomyTerm.code)
        )
        self.terms, self.term_codes = {}, {}
        for term_id, taxonomy_id, code in rows:
            self.terms[term_id] = term_id
            self.term_codes[(taxonomy_id, code)] = term_id


def import_documents(
    session: Session,
    actor: str,
    *,
    documents: Iterable[Any],
    source: str,
    on_progress: Callable[[int], None] | None = None,
) -> ImportReport:
    """Upsert the listings in `documents` (HSDS service or organization documents).

    `source` names the input in the audit record (a format and file name, never content);
    `on_progress` is called with the number of records handled after each chunk.
    """
    report = ImportReport()
    run = _Run(session, report, actor)
    run.load_vocabulary()
    chunk: list[Record] = []
    for index, parsed in _parse_all(documents):
        report.records += 1
        if isinstance(parsed, Problem):
            report.errors.append(parsed)
            continue
        report.warnings += [Problem(parsed.label, w) for w in parsed.warnings]
        chunk.append(parsed)
        if len(chunk) >= CHUNK:
            _write(run, chunk)
            chunk = []
            run.chunks += 1
            _refresh_statistics(run)
            if on_progress is not None:
                on_progress(index + 1)
    if chunk:
        _write(run, chunk)
    if on_progress is not None:
        on_progress(report.records)
    audit.record(
        session,
        actor=actor,
        action="directory.import",
        subject=None,
        detail={"source": source[:200], **report.counts()},
    )
    return report


def _parse_all(documents: Iterable[Any]) -> Iterator[tuple[int, Record | Problem]]:
    for index, doc in enumerate(_expand(documents)):
        try:
            yield index, parse_document(doc, index)
        except BadRecord as exc:
            yield index, Problem(exc.record, exc.reason)


def _refresh_statistics(run: _Run) -> None:
    """PostgreSQL: refresh the planner's statistics when the import has doubled what it
    wrote (after 1, 2, 4, ... chunks). Without this, a large first import plans its id
    lookups for the empty tables it started with and scans them, quadratically."""
    session = run.session
    if session.get_bind().dialect.name != "postgresql" or run.chunks & (run.chunks - 1):
        return
    tables = (Service, ServiceVersion, DirLocation, DirOrganization, ServiceAtLocation)
    names = ", ".join(model.__tablename__ for model in tables)
    session.execute(text(f"ANALYZE {names}"))


def _write(run: _Run, records: list[Record]) -> None:
    """Write records in one savepoint; if the database refuses them, write each half the
    same way, down to single records, so only the refused ones fail (a few bad records in
    a chunk cost a few dozen attempts, not one per record)."""
    refused = _attempt(run, records)
    if refused is None:
        return
    if len(records) > 1:
        half = len(records) // 2
        _write(run, records[:half])
        _write(run, records[half:])
        return
    reason = str(refused.orig).strip().splitlines()[0] if refused.orig else str(refused)
    run.report.errors.append(Problem(records[0].label, f"refused by the database: {reason}"))


def _attempt(run: _Run, records: list[Record]) -> DBAPIError | None:
    """Write `records` in a savepoint; on refusal undo it (counts and caches too)."""
    report = run.report
    counts = (report.created, report.updated, report.unchanged, len(report.errors))
    try:
        with run.session.begin_nested():
            _write_records(run, records)
    except DBAPIError as exc:
        report.created, report.updated, report.unchanged = counts[:3]
        del report.errors[counts[3] :]
        run.load_vocabulary()
        return exc
    return None


def _upsert(session: Session, model: Any, rows: Sequence[dict[str, Any]]) -> set[Any]:
    """Insert the rows whose id is new, update the others; returns the ids that existed."""
    if not rows:
        return set()
    ids = [row["id"] for row in rows]
    existing = set(session.scalars(select(model.id).where(among(session, model.id, ids))))
    new = [row for row in rows if row["id"] not in existing]
    old = [row for row in rows if row["id"] in existing]
    if new:
        insert_rows(session, model, new)
    if old:
        session.execute(update(model), old)
    return existing


def _write_records(run: _Run, records: list[Record]) -> None:
    session, report, now = run.session, run.report, utcnow()
    orgs = {r.org["id"]: r.org for r in records if r.org is not None}
    _upsert(session, DirOrganization, [{**o, "updated_at": now} for o in orgs.values()])
    run.organizations |= set(orgs)
    report.organizations = len(run.organizations)
    services = [r for r in records if r.service is not None]
    elsewhere = {r.organization_id for r in services} - set(orgs)
    known_orgs = set(orgs) | set(
        session.scalars(
            select(DirOrganization.id).where(among(session, DirOrganization.id, elsewhere))
        )
    )
    ready: list[Record] = []
    for r in services:
        if r.organization_id in known_orgs:
            ready.append(r)
        else:
            report.errors.append(Problem(r.label, f"organization {r.organization_id} not found"))
    if not ready:
        return
    ids = [r.id for r in ready]
    stored = {
        sid: (version, snapshot)
        for sid, version, snapshot in session.execute(
            select(Service.id, Service.version, ServiceVersion.snapshot)
            .outerjoin(
                ServiceVersion,
                and_(
                    ServiceVersion.service_id == Service.id,
                    ServiceVersion.version == Service.version,
                ),
            )
            .where(among(session, Service.id, ids))
        )
    }
    changed = [r for r in ready if r.id not in stored or stored[r.id][1] != r.snapshot]
    report.unchanged += len(ready) - len(changed)
    if not changed:
        return
    old_ids = [r.id for r in changed if r.id in stored]
    for model in _CHILDREN:
        session.execute(delete(model).where(among(session, model.service_id, old_ids)))
    session.execute(delete(ServiceArea).where(among(session, ServiceArea.service_id, old_ids)))
    locations: dict[uuid.UUID, dict[str, Any]] = {}
    for r in changed:
        for loc in r.locations:
            owner = loc.pop("_organization_id", None)
            loc["organization_id"] = owner if owner in known_orgs else r.organization_id
            locations[loc["id"]] = {**loc, "updated_at": now}
    moved = _upsert(session, DirLocation, list(locations.values()))
    # Other services' service-at-location rows may point at a location this chunk moved.
    directory_geometry.sync_coordinates(session, moved)
    endpoints = {
        org_id: endpoint_id
        for org_id, endpoint_id in session.execute(
            select(DirEndpoint.organization_id, DirEndpoint.id).where(
                among(session, DirEndpoint.organization_id, {r.organization_id for r in changed})
            )
        )
    }
    new_rows, old_rows, versions = [], [], []
    for r in changed:
        row = {
            **(r.service or {}),
            "id": r.id,
            "organization_id": r.organization_id,
            "updated_at": now,
        }
        if "accepts_electronic_referrals" in row or r.id not in stored:
            # The endpoint follows the document's refhub extension; a document without it
            # (plain HSDS) leaves an existing listing's endpoint as it is.
            row["endpoint_id"] = (
                endpoints.get(r.organization_id)
                if row.get("accepts_electronic_referrals")
                else None
            )
        row["confirmed_at"], row["stale_notified_at"] = now, None
        if r.id in stored:
            row["version"] = stored[r.id][0] + 1
            old_rows.append(row)
        else:
            new_rows.append({**row, "version": 1, "created_at": now})
        versions.append(
            {
                "id": uuid.uuid4(),
                "service_id": r.id,
                "version": row["version"] if r.id in stored else 1,
                "change": "import",
                "actor": run.actor,
                "changed_at": now,
                "snapshot": r.snapshot,
            }
        )
    if new_rows:
        insert_rows(session, Service, new_rows)
    if old_rows:
        session.execute(update(Service), old_rows)
    report.created += len(new_rows)
    report.updated += len(old_rows)
    _children(run, changed)
    insert_rows(session, ServiceVersion, versions)


def _term_id(run: _Run, record: Record, term: dict[str, Any]) -> uuid.UUID:
    """The stored term for an imported one (found by id, then by taxonomy and code)."""
    if term["id"] in run.terms:
        return run.terms[term["id"]]
    taxonomy = term["taxonomy"]
    tax_id = run.taxonomy_uris.get(taxonomy["uri"]) if taxonomy["uri"] else None
    tax_id = tax_id or taxonomy["id"]
    if tax_id not in run.taxonomies:
        run.session.execute(insert(Taxonomy), [{**taxonomy, "id": tax_id}])
        run.taxonomies[tax_id] = taxonomy["uri"]
        if taxonomy["uri"]:
            run.taxonomy_uris[taxonomy["uri"]] = tax_id
    found = run.term_codes.get((tax_id, term["code"]))
    if found is None:
        parent = run.terms.get(term["parent_id"]) if term["parent_id"] else None
        if term["parent_id"] and parent is None:
            run.report.warnings.append(
                Problem(record.label, f"term {term['id']}: parent {term['parent_id']} unknown")
            )
        values = {k: v for k, v in term.items() if k != "taxonomy"}
        run.session.execute(
            insert(TaxonomyTerm), [{**values, "taxonomy_id": tax_id, "parent_id": parent}]
        )
        found = term["id"]
        run.term_codes[(tax_id, term["code"])] = found
    run.terms[term["id"]] = found
    return found


def _children(run: _Run, records: list[Record]) -> None:
    terms, languages, populations, sals, schedules, areas = [], [], [], [], [], []
    # The coordinates as `_write_records` stored the locations (the last record wins).
    coordinates = {
        loc["id"]: {"latitude": loc["latitude"], "longitude": loc["longitude"]}
        for r in records
        for loc in r.locations
    }
    for r in records:
        term_ids = {_term_id(run, r, term) for term in r.terms}
        terms += [{"service_id": r.id, "term_id": t} for t in sorted(term_ids)]
        languages += [{"service_id": r.id, "code": c} for c in r.languages]
        populations += [{"service_id": r.id, "code": c} for c in r.populations]
        keys = search_keys(term_ids, r.languages)
        sals += [
            {**sal, **coordinates[sal["location_id"]], "search_keys": keys, "service_id": r.id}
            for sal in r.service_at_locations
        ]
        schedules += [{**s, "service_id": r.id} for s in r.schedules]
        areas += [{**a, "service_id": r.id} for a in r.service_areas]
    for model, rows in (
        (ServiceTerm, terms),
        (ServiceLanguage, languages),
        (ServicePopulation, populations),
        (ServiceAtLocation, sals),
        (Schedule, schedules),
        (ServiceArea, areas),
    ):
        if rows:
            insert_rows(run.session, model, rows)
