"""Loading a page of listings with everything the HSDS and FHIR views show, in a few queries."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from sqlalchemy import literal, select, union_all
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
    Taxonomy,
    TaxonomyTerm,
)

__all__ = ["Details", "Term", "load_details", "load_services"]


@dataclass(frozen=True)
class Term:
    term: TaxonomyTerm
    taxonomy: Taxonomy


@dataclass
class Details:
    """A listing and its related rows."""

    service: Service
    organization: DirOrganization
    terms: list[Term] = field(default_factory=list)
    languages: list[str] = field(default_factory=list)
    populations: list[str] = field(default_factory=list)
    locations: list[tuple[ServiceAtLocation, DirLocation]] = field(default_factory=list)
    schedules: list[Schedule] = field(default_factory=list)
    areas: list[ServiceArea] = field(default_factory=list)
    endpoint: DirEndpoint | None = None

    def codes(self, system: str) -> list[str]:
        return sorted(t.term.code for t in self.terms if t.taxonomy.uri == system)


def load_services(
    session: Session, ids: Sequence[uuid.UUID]
) -> tuple[list[Service], dict[uuid.UUID, DirOrganization]]:
    """The services `ids` (in that order, each once; unknown ids skipped) and their
    organisations, in one query."""
    services: dict[uuid.UUID, Service] = {}
    orgs: dict[uuid.UUID, DirOrganization] = {}
    if ids:
        for service, org in session.execute(
            select(Service, DirOrganization)
            .join(DirOrganization, DirOrganization.id == Service.organization_id)
            .where(Service.id.in_(set(ids)))
        ):
            services[service.id], orgs[org.id] = service, org
    return [services[i] for i in dict.fromkeys(ids) if i in services], orgs


def load_details(
    session: Session,
    services: Sequence[Service],
    organizations: Mapping[uuid.UUID, DirOrganization] | None = None,
) -> list[Details]:
    """Details for each service, in the order given (`organizations`: those already loaded)."""
    if not services:
        return []
    ids = [s.id for s in services]
    orgs = dict(organizations or {})
    missing = {s.organization_id for s in services} - orgs.keys()
    if missing:
        orgs.update(
            (o.id, o)
            for o in session.scalars(select(DirOrganization).where(DirOrganization.id.in_(missing)))
        )
    out = {s.id: Details(service=s, organization=orgs[s.organization_id]) for s in services}
    for service_id, term, taxonomy in session.execute(
        select(ServiceTerm.service_id, TaxonomyTerm, Taxonomy)
        .join(TaxonomyTerm, TaxonomyTerm.id == ServiceTerm.term_id)
        .join(Taxonomy, Taxonomy.id == TaxonomyTerm.taxonomy_id)
        .where(ServiceTerm.service_id.in_(ids))
    ):
        out[service_id].terms.append(Term(term, taxonomy))
    # Languages and populations: two short lists of codes, in one round trip.
    codes = union_all(
        select(ServiceLanguage.service_id, literal("l"), ServiceLanguage.code).where(
            ServiceLanguage.service_id.in_(ids)
        ),
        select(ServicePopulation.service_id, literal("p"), ServicePopulation.code).where(
            ServicePopulation.service_id.in_(ids)
        ),
    )
    for service_id, kind, code in session.execute(codes):
        details = out[service_id]
        (details.languages if kind == "l" else details.populations).append(code)
    for sal, loc in session.execute(
        select(ServiceAtLocation, DirLocation)
        .join(DirLocation, DirLocation.id == ServiceAtLocation.location_id)
        .where(ServiceAtLocation.service_id.in_(ids))
        .order_by(DirLocation.name, DirLocation.id)
    ).all():
        out[sal.service_id].locations.append((sal, loc))
    for sched in session.scalars(
        select(Schedule).where(Schedule.service_id.in_(ids)).order_by(Schedule.opens_at)
    ):
        out[sched.service_id].schedules.append(sched)
    for area in session.scalars(select(ServiceArea).where(ServiceArea.service_id.in_(ids))):
        out[area.service_id].areas.append(area)
    endpoint_ids = {s.endpoint_id for s in services if s.endpoint_id is not None}
    if endpoint_ids:
        endpoints = {
            e.id: e
            for e in session.scalars(select(DirEndpoint).where(DirEndpoint.id.in_(endpoint_ids)))
        }
        for s in services:
            if s.endpoint_id is not None:
                out[s.id].endpoint = endpoints.get(s.endpoint_id)
    for details in out.values():
        details.terms.sort(key=lambda t: (t.taxonomy.uri or "", t.term.code))
        details.languages.sort()
        details.populations.sort()
    return [out[i] for i in ids]
