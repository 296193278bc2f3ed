"""Writing an import's related rows: taxonomy terms, a service's children, documents that
are not services (organizations, locations, taxonomies, terms), delivery endpoints, and the
document refhub writes from the rows after the import (`Service.hsds_base`)."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from directory import geometry as directory_geometry
from directory.details import load_details
from directory.hsds import modelled_document
from directory.import_records import Record
from directory.import_run import Problem, Run
from directory.models import (
    DirEndpoint,
    DirLocation,
    Schedule,
    Service,
    ServiceArea,
    ServiceAtLocation,
    ServiceLanguage,
    ServicePopulation,
    ServiceTerm,
    Taxonomy,
    TaxonomyTerm,
)
from directory.search import search_keys
from kernel.bulk import among, insert_rows

__all__ = ["children", "term_id", "upsert", "write_bases", "write_endpoints", "write_others"]


def upsert(session: Session, model: Any, rows: list[dict[str, Any]]) -> set[Any]:
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


def term_id(run: Run, record: Record, term: dict[str, Any]) -> uuid.UUID:
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


def children(run: Run, records: list[Record]) -> None:
    terms, languages, populations, sals, schedules, areas = [], [], [], [], [], []
    # The coordinates as `_write_records` stored the locations (the last record wins).
    coordinates = {
        loc["id"]: {"latitude": loc["latitude"], "longitude": loc["longitude"]}
        for r in records
        for loc in r.locations
    }
    for r in records:
        term_ids = {term_id(run, r, term) for term in r.terms}
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


def write_endpoints(run: Run, records: list[Record], now: Any) -> list[Record]:
    """Upsert the delivery endpoints the records' refhub extension names, under the
    record's organization; returns the records that may be written (an endpoint id that
    belongs to another organization fails its record: an import never moves an endpoint)."""
    session = run.session
    named = [r for r in records if r.endpoint is not None]
    if not named:
        return records
    owners = dict(
        session.execute(
            select(DirEndpoint.id, DirEndpoint.organization_id).where(
                among(session, DirEndpoint.id, {r.endpoint["id"] for r in named if r.endpoint})
            )
        ).all()
    )
    rows: dict[uuid.UUID, dict[str, Any]] = {}
    refused: set[uuid.UUID] = set()
    for r in named:
        assert r.endpoint is not None
        owner = owners.get(r.endpoint["id"], r.organization_id)
        if owner != r.organization_id:
            run.report.errors.append(
                Problem(
                    r.label,
                    f"refhub.endpoint.id: endpoint {r.endpoint['id']} belongs to "
                    "another organization",
                )
            )
            refused.add(r.id)
            continue
        rows[r.endpoint["id"]] = {
            **r.endpoint,
            "organization_id": r.organization_id,
            "updated_at": now,
        }
    upsert(session, DirEndpoint, list(rows.values()))
    return [r for r in records if r.id not in refused]


def write_others(run: Run, records: list[Record], known_orgs: set[uuid.UUID], now: Any) -> None:
    """Write the records that are not services: locations (under a known organization),
    taxonomies and taxonomy terms (organizations are written with the services')."""
    session, report = run.session, run.report
    locations = [
        {**r.locations[0], "organization_id": r.organization_id, "updated_at": now}
        for r in records
        if r.kind == "location" and r.organization_id in known_orgs
    ]
    for loc in locations:
        loc.pop("_organization_id", None)
    upsert(session, DirLocation, locations)
    if locations:
        directory_geometry.sync_coordinates(session, {loc["id"] for loc in locations})
    report.locations += len(locations)
    taxonomies = [r.taxonomy for r in records if r.kind == "taxonomy" and r.taxonomy]
    upsert(session, Taxonomy, taxonomies)
    for t in taxonomies:
        run.taxonomies[t["id"]] = t["uri"]
        if t["uri"]:
            run.taxonomy_uris[t["uri"]] = t["id"]
    report.taxonomies += len(taxonomies)
    for r in records:
        if r.kind != "taxonomy_term":
            continue
        if r.terms:
            term_id(run, r, r.terms[0])
            report.taxonomy_terms += 1
        else:
            report.warnings.append(Problem(r.label, "a refhub population term: not stored"))


def write_bases(session: Session, ids: list[uuid.UUID]) -> None:
    """Store, for each imported service, the document refhub writes from its rows now (the
    base `directory.hsds_merge` compares later documents with)."""
    if not ids:
        return
    session.expire_all()  # rows were written with bulk statements
    services = session.scalars(select(Service).where(among(session, Service.id, ids))).all()
    bases = [
        {"id": d.service.id, "hsds_base": modelled_document(d)}
        for d in load_details(session, services)
    ]
    session.execute(update(Service), bases)
