"""FHIR R4 read and search for the directory: HealthcareService, Organization, Location,
Endpoint, with the Human Services Directory IG's search parameters, `_include`/`_revinclude`,
and searchset Bundles paged through `Bundle.link` next.

Unsupported parameters are ignored and left out of the self link; with
`Prefer: handling=strict` they are refused (400 OperationOutcome).
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Callable, Sequence
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session

from directory import fhir
from directory import service as directory_service
from directory.access import Viewer
from directory.dependencies import Wiring
from directory.errors import BadSearchParameter, ListingNotFound, MembersOnly
from directory.fhir_orgs import (
    address_columns,
    endpoint_status,
    member_resource,
    organizations,
    unlisted_members,
    unlisted_searched,
    visible_orgs,
)
from directory.fhir_search import (
    bundle,
    fhir_response,
    id_list,
    last_updated,
    number,
    string_match,
    supported,
    token,
)
from directory.models import DirEndpoint, DirLocation, DirOrganization
from directory.search import Query, search
from directory.vocabulary import CATEGORY_SYSTEM, POPULATION_SYSTEM, TYPE_SYSTEM
from kernel.caller import Caller

__all__ = ["make_router"]

COMMON = ("_id", "_lastUpdated", "_count", "_page", "_include", "_revinclude", "_format")
HS_PARAMS = (
    *COMMON,
    "_sort",
    "name",
    "organization",
    "location",
    "program",
    "communication",
    "service-category",
    "service-type",
    "specialty",
    "active",
)
ADDRESS_PARAMS = (
    "address",
    "address-city",
    "address-postalcode",
    "address-country",
    "address-state",
)
#: String parameters of Organization and Location searches; they take :exact and :contains.
STRING_PARAMS = ("name", *ADDRESS_PARAMS)
ORG_PARAMS = (*COMMON, *STRING_PARAMS, "type", "identifier")
# Location has no identifiers and no Location.type (its physical/virtual kind is
# physicalType), so `type` and `identifier` are unsupported there.
LOC_PARAMS = (*COMMON, *STRING_PARAMS, "organization")
EP_PARAMS = (*COMMON, "organization", "connection-type", "status")
HS_ORGANIZATION = {"HealthcareService:organization", "HealthcareService:providedBy"}


#: A search's `_include`/`_revinclude` value -> the resources it adds for the page's rows.
Adds = Callable[[Session, Viewer, Sequence[Any]], list[dict[str, Any]]]


def make_router(wiring: Wiring) -> APIRouter:
    router = APIRouter(prefix="/fhir", tags=["fhir: directory"])
    session_dep = Depends(wiring.session, scope="function")

    def optional(request: Request, session: Session = session_dep) -> Caller | None:
        return wiring.optional_caller(request, session)

    optional_dep = Depends(optional)

    viewer_for = wiring.viewer
    searchset = functools.partial(bundle, base_url=wiring.base_url)

    @router.get("/HealthcareService", summary="Search HealthcareService (HSD IG parameters)")
    def search_services(
        request: Request, session: Session = session_dep, caller: Caller | None = optional_dep
    ) -> JSONResponse:
        viewer = viewer_for(caller, "HealthcareService")
        used = supported(request, HS_PARAMS, includes=fhir.HS_INCLUDES)
        query, includes, total_only = Query(sort="name"), set(), False
        for key, value in used:
            if key == "_id":
                query.ids += id_list(value, key)
            elif key == "name":
                query.name = value
            elif key == "organization":
                query.organization_ids += id_list(value, key)
            elif key == "location":
                query.location_ids += id_list(value, key)
            elif key == "program":
                query.program = value
            elif key == "communication":
                query.languages += token(value, "urn:ietf:bcp:47", key)
            elif key == "service-category":
                query.categories += token(value, CATEGORY_SYSTEM, key)
            elif key == "service-type":
                query.types += token(value, TYPE_SYSTEM, key)
            elif key == "specialty":
                query.populations += token(value, POPULATION_SYSTEM, key)
            elif key == "active":
                if value not in {"true", "false"}:
                    raise BadSearchParameter("active", "must be true or false")
                query.active = value == "true"
            elif key == "_lastUpdated":
                query.modified_after = last_updated(value)
            elif key == "_count":  # _count=0 asks for the total only (FHIR search 3.2.1.7.4)
                query.per_page = number(value, key, 0, 100) or 1
                total_only = value.strip() == "0"
            elif key == "_page":
                query.page = number(value, key, 1, 100000)
            elif key == "_sort" and value.lstrip("-") != "name":
                raise BadSearchParameter("_sort", "only name is supported")
            elif key == "_include":
                includes.add(value)
        page = search(session, viewer, query)
        if total_only:
            page.hits = []
        matches = [fhir.healthcare_service(h.details, members=viewer.member) for h in page.hits]
        orgs: dict[uuid.UUID, DirOrganization] = {}
        included: dict[str, dict[str, Any]] = {}
        for hit in page.hits:
            d = hit.details
            if includes & HS_ORGANIZATION:
                orgs[d.organization.id] = d.organization
            if "HealthcareService:location" in includes:
                for _, loc in d.locations:
                    included[f"Location/{loc.id}"] = fhir.location_resource(loc)
            if "HealthcareService:endpoint" in includes and viewer.member and d.endpoint:
                included[f"Endpoint/{d.endpoint.id}"] = fhir.endpoint_resource(d.endpoint)
        found = [*organizations(session, viewer, list(orgs.values())), *included.values()]
        return searchset(request, used, matches, found, page.total, page.page, page.per_page)

    @router.get("/HealthcareService/{id}", summary="Read a HealthcareService")
    def read_service(
        id: uuid.UUID,
        session: Session = session_dep,
        caller: Caller | None = optional_dep,
    ) -> JSONResponse:
        viewer = viewer_for(caller, "HealthcareService")
        details = directory_service.get_service(session, viewer, id)
        return fhir_response(fhir.healthcare_service(details, members=viewer.member))

    def _simple_search(
        request: Request,
        session: Session,
        base: Select[Any],
        model: Any,
        allowed: tuple[str, ...],
        render: Callable[[Sequence[Any]], list[dict[str, Any]]],
        viewer: Viewer,
        includes: dict[str, Adds],
        revincludes: dict[str, Adds],
    ) -> JSONResponse:
        used = supported(
            request, allowed, strings=STRING_PARAMS, includes=includes, revincludes=revincludes
        )
        stmt, page, count, adds = base, 1, 20, []
        for key, value in used:
            name, _, modifier = key.partition(":")
            if name == "_id":
                stmt = stmt.where(model.id.in_(id_list(value, key)))
            elif name == "name":
                stmt = stmt.where(string_match(model.name, value, modifier))
            elif name == "identifier":  # Organization only
                stmt = stmt.where(model.identifier == value.rpartition("|")[2])
            elif name == "type":  # Organization only
                stmt = stmt.where(model.org_type.in_(token(value, None, key)))
            elif name == "organization":
                stmt = stmt.where(model.organization_id.in_(id_list(value, key)))
            elif name == "connection-type":
                codes = token(value, fhir.CONNECTION_SYSTEM, key)
                stmt = stmt.where(DirEndpoint.connection_type.in_(codes))
            elif name == "status":
                stmt = stmt.where(endpoint_status(value))
            elif name in ADDRESS_PARAMS:
                cond = or_(*(string_match(c, value, modifier) for c in address_columns(name)))
                if model is DirLocation:
                    stmt = stmt.where(cond)
                else:  # an Organization's addresses are those of its locations
                    stmt = stmt.where(model.id.in_(select(DirLocation.organization_id).where(cond)))
            elif name == "_lastUpdated":
                stmt = stmt.where(model.updated_at >= last_updated(value))
            elif name == "_count":
                count = number(value, key, 1, 100)
            elif name == "_page":
                page = number(value, key, 1, 100000)
            elif name == "_include":
                adds.append(includes[value])
            elif name == "_revinclude":
                adds.append(revincludes[value])
        total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
        rows = session.scalars(
            stmt.order_by(model.id).offset((page - 1) * count).limit(count)
        ).all()
        included: dict[str, dict[str, Any]] = {}
        for add in dict.fromkeys(adds) if rows else ():
            for resource in add(session, viewer, rows):
                included.setdefault(f"{resource['resourceType']}/{resource['id']}", resource)
        matches = render(rows)
        if model is DirOrganization:  # network organisations without a listing, after them
            extra = unlisted_searched(session, viewer, wiring.members, used)
            start = max(0, (page - 1) * count - total)
            matches += [member_resource(m) for m in extra[start : start + count - len(rows)]]
            total += len(extra)
        return searchset(request, used, matches, list(included.values()), total, page, count)

    def services_of(kind: str) -> Adds:
        def add(session: Session, viewer: Viewer, rows: Sequence[Any]) -> list[dict[str, Any]]:
            query = Query(per_page=100)
            if kind == "organization":
                query.organization_ids = [r.id for r in rows]
            else:
                query.location_ids = [r.id for r in rows]
            return [
                fhir.healthcare_service(h.details, members=viewer.member)
                for h in search(session, viewer, query).hits
            ]

        return add

    def locations_of_orgs(
        session: Session, viewer: Viewer, orgs: Sequence[Any]
    ) -> list[dict[str, Any]]:
        ids = [o.id for o in orgs]
        stmt = select(DirLocation).where(DirLocation.organization_id.in_(ids))
        return [
            fhir.location_resource(loc) for loc in session.scalars(stmt.order_by(DirLocation.id))
        ]

    def orgs_of(session: Session, viewer: Viewer, rows: Sequence[Any]) -> list[dict[str, Any]]:
        ids = {r.organization_id for r in rows}
        stmt = visible_orgs(viewer).where(DirOrganization.id.in_(ids))
        return organizations(
            session, viewer, session.scalars(stmt.order_by(DirOrganization.id)).all()
        )

    def endpoints_of_orgs(
        session: Session, viewer: Viewer, orgs: Sequence[Any]
    ) -> list[dict[str, Any]]:
        if not viewer.member:  # Endpoints are for network members only
            return []
        stmt = select(DirEndpoint).where(DirEndpoint.organization_id.in_([o.id for o in orgs]))
        return [fhir.endpoint_resource(e) for e in session.scalars(stmt.order_by(DirEndpoint.id))]

    @router.get("/Organization", summary="Search Organization")
    def search_orgs(
        request: Request, session: Session = session_dep, caller: Caller | None = optional_dep
    ) -> JSONResponse:
        viewer = viewer_for(caller, "Organization")
        return _simple_search(
            request,
            session,
            visible_orgs(viewer),
            DirOrganization,
            ORG_PARAMS,
            lambda rows: organizations(session, viewer, rows),
            viewer,
            {"Organization:endpoint": endpoints_of_orgs},
            {
                "HealthcareService:organization": services_of("organization"),
                "Location:organization": locations_of_orgs,
            },
        )

    @router.get(
        "/Organization/{id}",
        summary="Read an Organization (a listing, or a network organisation without one)",
    )
    def read_org(
        id: uuid.UUID,
        session: Session = session_dep,
        caller: Caller | None = optional_dep,
    ) -> JSONResponse:
        viewer = viewer_for(caller, "Organization")
        org = session.scalars(visible_orgs(viewer).where(DirOrganization.id == id)).first()
        if org is not None:
            return fhir_response(organizations(session, viewer, [org])[0])
        unlisted = unlisted_members(session, viewer, wiring.members, [id])
        if not unlisted:
            raise ListingNotFound("No such Organization.")
        return fhir_response(member_resource(unlisted[0]))

    def _visible_locations(viewer: Viewer) -> Select[Any]:
        orgs = visible_orgs(viewer).with_only_columns(DirOrganization.id)
        return select(DirLocation).where(DirLocation.organization_id.in_(orgs))

    @router.get("/Location", summary="Search Location")
    def search_locations(
        request: Request, session: Session = session_dep, caller: Caller | None = optional_dep
    ) -> JSONResponse:
        viewer = viewer_for(caller, "Location")
        return _simple_search(
            request,
            session,
            _visible_locations(viewer),
            DirLocation,
            LOC_PARAMS,
            lambda rows: [fhir.location_resource(r) for r in rows],
            viewer,
            {"Location:organization": orgs_of},
            {"HealthcareService:location": services_of("location")},
        )

    @router.get("/Location/{id}", summary="Read a Location")
    def read_location(
        id: uuid.UUID,
        session: Session = session_dep,
        caller: Caller | None = optional_dep,
    ) -> JSONResponse:
        viewer = viewer_for(caller, "Location")
        loc = session.scalars(_visible_locations(viewer).where(DirLocation.id == id)).first()
        if loc is None:
            raise ListingNotFound("No such Location.")
        return fhir_response(fhir.location_resource(loc))

    def _members(caller: Caller | None) -> Viewer:
        viewer = viewer_for(caller, "Endpoint")
        if not viewer.member:
            raise MembersOnly("Endpoints and keys are visible to network members only.")
        return viewer

    @router.get("/Endpoint", summary="Search Endpoint (network members only)")
    def search_endpoints(
        request: Request, session: Session = session_dep, caller: Caller | None = optional_dep
    ) -> JSONResponse:
        viewer = _members(caller)
        return _simple_search(
            request,
            session,
            select(DirEndpoint),
            DirEndpoint,
            EP_PARAMS,
            lambda rows: [fhir.endpoint_resource(r) for r in rows],
            viewer,
            {},
            {},
        )

    @router.get("/Endpoint/{id}", summary="Read an Endpoint (network members only)")
    def read_endpoint(
        id: uuid.UUID,
        session: Session = session_dep,
        caller: Caller | None = optional_dep,
    ) -> JSONResponse:
        _members(caller)
        endpoint = session.get(DirEndpoint, id)
        if endpoint is None:
            raise ListingNotFound("No such Endpoint.")
        return fhir_response(fhir.endpoint_resource(endpoint))

    return router
