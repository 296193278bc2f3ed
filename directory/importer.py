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
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from sqlalchemy import and_, delete, select, text, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from directory import geometry as directory_geometry
from directory.hsds_tabular import read_tabular
from directory.import_children import (
    children,
    upsert,
    write_bases,
    write_endpoints,
    write_others,
)
from directory.import_records import BadRecord, Record, parse_document
from directory.import_run import ImportReport, Problem, Run
from directory.import_shapes import expand
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
)
from kernel import audit
from kernel.bulk import among, insert_rows
from kernel.db import utcnow

__all__ = ["FORMATS", "ImportReport", "Problem", "import_documents", "read_documents"]

FORMATS = ("json", "tabular")
CHUNK = 2000
_CHILDREN = (ServiceTerm, ServiceLanguage, ServicePopulation, ServiceAtLocation, Schedule)


def read_documents(path: Path, source_format: str | None = None) -> list[dict[str, Any]]:
    """The HSDS documents in `path`: a JSON file (one HSDS object, a list of them, or an API
    page with `contents`) or a tabular folder (or its datapackage.json or one of its CSVs).

    Raises:
        ValueError: unknown format, or a file that cannot be read as one (naming the file).
        FileNotFoundError: nothing at `path`.
    """
    tabular = path.is_dir() or path.suffix == ".csv" or path.name == "datapackage.json"
    fmt = source_format or ("tabular" if tabular else "json")
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}; known: {', '.join(FORMATS)}")
    if fmt == "tabular":
        return read_tabular(path if path.is_dir() else path.parent)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path} is not JSON: {exc}") from None
    except UnicodeDecodeError as exc:
        raise ValueError(f"{path} is not UTF-8 text: {exc.reason} at byte {exc.start}") from None
    if isinstance(data, dict):
        data = data["contents"] if isinstance(data.get("contents"), list) else [data]
    if not isinstance(data, list):
        raise ValueError(f"{path}: expected an HSDS object, a list of them or a page of them")
    return data


def import_documents(
    session: Session,
    actor: str,
    *,
    documents: Iterable[Any],
    source: str,
    on_progress: Callable[[int], None] | None = None,
    default_organization: uuid.UUID | None = None,
) -> ImportReport:
    """Upsert the HSDS documents in `documents`: services, organizations (with or without
    nested services), locations, service_at_locations (with their service), taxonomies and
    taxonomy terms, each told by its shape (`directory.import_shapes`).

    `source` names the input in the audit record (a format and file name, never content);
    `on_progress` is called with the number of records handled after each chunk. A service
    (or location) naming no organization, in itself or its context (an enclosing
    organization, its location's), goes under `default_organization` (an organization the
    directory holds), else it is refused.
    """
    report = ImportReport()
    run = Run(session, report, actor, default_organization=default_organization)
    run.load_vocabulary()
    chunk: list[Record] = []
    for index, parsed in _parse_all(documents):
        if isinstance(parsed, str):  # a tabular row or column the import cannot use
            report.warnings.append(Problem("tabular", parsed))
            continue
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


def _parse_all(documents: Iterable[Any]) -> Iterator[tuple[int, Record | Problem | str]]:
    for index, (kind, doc) in enumerate(expand(documents)):
        if kind == "skipped":
            yield index, str(doc)
            continue
        if kind == "refused":
            yield index, Problem(f"record #{index + 1}", str(doc))
            continue
        try:
            yield index, parse_document(doc, index, kind)
        except BadRecord as exc:
            yield index, Problem(exc.record, exc.reason)


def _refresh_statistics(run: Run) -> None:
    """PostgreSQL: refresh the planner's statistics when the import has doubled what it
    wrote (after 1, 2, 4, ... chunks). Without this, a large first import plans its id
    lookups for the empty tables it started with and scans them, quadratically."""
    session = run.session
    if session.get_bind().dialect.name != "postgresql" or run.chunks & (run.chunks - 1):
        return
    tables = (Service, ServiceVersion, DirLocation, DirOrganization, ServiceAtLocation)
    names = ", ".join(model.__tablename__ for model in tables)
    session.execute(text(f"ANALYZE {names}"))


def _write(run: Run, records: list[Record]) -> None:
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


def _attempt(run: Run, records: list[Record]) -> DBAPIError | None:
    """Write `records` in a savepoint; on refusal undo it (counts and caches too)."""
    report = run.report
    numbers = ("created", "updated", "unchanged", "locations", "taxonomies", "taxonomy_terms")
    counts = [getattr(report, name) for name in numbers]
    problems = (len(report.errors), len(report.warnings))
    try:
        with run.session.begin_nested():
            _write_records(run, records)
    except DBAPIError as exc:
        for name, value in zip(numbers, counts, strict=True):
            setattr(report, name, value)
        del report.errors[problems[0] :]
        del report.warnings[problems[1] :]
        run.load_vocabulary()
        return exc
    return None


def _write_records(run: Run, records: list[Record]) -> None:
    session, report, now = run.session, run.report, utcnow()
    for r in records:  # an owned listing's organization has its owner's id
        owner = (r.service or {}).get("owner_organisation_id")
        if r.org is not None and owner is not None and owner == r.org["id"]:
            r.org["owner_organisation_id"] = owner
    orgs = {r.org["id"]: r.org for r in records if r.org is not None}
    upsert(session, DirOrganization, [{**o, "updated_at": now} for o in orgs.values()])
    run.organizations |= set(orgs)
    report.organizations = len(run.organizations)
    linked = [r for r in records if r.kind in ("service", "location")]
    for r in linked:
        if r.organization_id is None:
            r.organization_id = run.default_organization
    elsewhere = {r.organization_id for r in linked if r.organization_id} - set(orgs)
    known_orgs = set(orgs) | set(
        session.scalars(
            select(DirOrganization.id).where(among(session, DirOrganization.id, elsewhere))
        )
    )
    ready: list[Record] = []
    for r in linked:
        if r.organization_id is None:
            report.errors.append(
                Problem(
                    r.label,
                    "no organization: none nested, no organization_id, none from its "
                    "context; name a default organization (CLI: --organization ID)",
                )
            )
        elif r.organization_id not in known_orgs:
            report.errors.append(Problem(r.label, f"organization {r.organization_id} not found"))
        elif r.kind == "service":
            ready.append(r)
    write_others(run, records, known_orgs, now)
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
    changed = write_endpoints(run, changed, now)
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
    moved = upsert(session, DirLocation, list(locations.values()))
    # Other services' service-at-location rows may point at a location this chunk moved.
    directory_geometry.sync_coordinates(session, moved)
    endpoints: dict[uuid.UUID | None, uuid.UUID] = {
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
            own = r.endpoint["id"] if r.endpoint is not None else None
            row["endpoint_id"] = (
                own or endpoints.get(r.organization_id)
                if row.get("accepts_electronic_referrals")
                else None
            )
        # The kept copy without refhub's extension: that is always written from the rows.
        row["hsds_source"] = {k: v for k, v in r.snapshot.items() if k != "refhub"}
        row.setdefault("confirmed_at", now)
        row.setdefault("stale_notified_at", None)
        if r.id in stored:  # an import never changes an existing listing's owner or moderation
            row.pop("owner_organisation_id", None)
            row.pop("moderation", None)
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
    children(run, changed)
    insert_rows(session, ServiceVersion, versions)
    write_bases(session, [r.id for r in changed])
