"""FHIR R4 read and search for the directory: HealthcareService, Organization, Location,
Endpoint, with the Human Services Directory IG's search parameters, `_include`/`_revinclude`,
and searchset Bundles paged through `Bundle.link` next.

Unsupported parameters are ignored and left out of the self link; with
`Prefer: handling=strict` they are refused (400 OperationOutcome).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
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
from directory.fhir_search import (
    bundle,
    fhir_response,
    id_list,
    last_updated,
    number,
    params,
    token,
)
from directory.models import DirEndpoint, DirLocation, DirOrganization, Visibility
from directory.search import Query, search
from directory.vocabulary import CATEGORY_SYSTEM, POPULATION_SYSTEM, TYPE_SYSTEM
from kernel.caller import Caller

__all__ = ["make_router"]

COMMON = ("_id", "_lastUpdated", "_count", "_page", "_sort", "_include", "_revinclude", "_format")
HS_PARAMS = (
    *COMMON,
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
ORG_PARAMS = (
    *COMMON,
    "name",
    "type",
    "identifier",
    "address",
    "address-city",
    "address-postalcode",
    "address-country",
    "address-state",
)
LOC_PARAMS = (*ORG_PARAMS, "organization")
EP_PARAMS = (*COMMON, "organization", "connection-type", "status")
HS_INCLUDES = {
    "HealthcareService:providedBy",
    "HealthcareService:location",
    "HealthcareService:endpoint",
}


def _visible_orgs(viewer: Viewer) -> Select[DirOrganization]:
    query = select(DirOrganization)
    if viewer.member or viewer.hub_admin:
        return query
    rule = DirOrganization.visibility == Visibility.PUBLIC
    if viewer.organisation_id is not None:
        rule = or_(rule, DirOrganization.owner_organisation_id == viewer.organisation_id)
    return query.where(rule)


def make_router(wiring: Wiring) -> APIRouter:
    router = APIRouter(prefix="/fhir", tags=["fhir: directory"])
    session_dep = Depends(wiring.session, scope="function")

    def optional(request: Request, session: Session = session_dep) -> Caller | None:
        return wiring.optional_caller(request, session)

    optional_dep = Depends(optional)

    def viewer_for(caller: Caller | None, resource_type: str) -> Viewer:
        scope_ok = caller is not None and wiring.scope_allows(caller.scopes, resource_type, "r")
        return Viewer.of(caller, scope_ok=scope_ok)

    @router.get("/HealthcareService", summary="Search HealthcareService (HSD IG parameters)")
    def search_services(
        request: Request, session: Session = session_dep, caller: Caller | None = optional_dep
    ) -> JSONResponse:
        viewer = viewer_for(caller, "HealthcareService")
        used = params(request, HS_PARAMS)
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
                if value not in HS_INCLUDES:
                    raise BadSearchParameter("_include", f"one of {sorted(HS_INCLUDES)}")
                includes.add(value)
        page = search(session, viewer, query)
        if total_only:
            page.hits = []
        matches = [fhir.healthcare_service(h.details, members=viewer.member) for h in page.hits]
        included: dict[str, dict[str, Any]] = {}
        for hit in page.hits:
            d = hit.details
            if "HealthcareService:providedBy" in includes:
                included[f"o{d.organization.id}"] = fhir.organization_resource(d.organization)
            if "HealthcareService:location" in includes:
                for _, loc in d.locations:
                    included[f"l{loc.id}"] = fhir.location_resource(loc)
            if "HealthcareService:endpoint" in includes and viewer.member and d.endpoint:
                included[f"e{d.endpoint.id}"] = fhir.endpoint_resource(d.endpoint)
        return bundle(
            request, used, matches, list(included.values()), page.total, page.page, page.per_page
        )

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
        render: Callable[[Any], dict[str, Any]],
        revinclude: str,
        viewer: Viewer,
    ) -> JSONResponse:
        used = params(request, allowed)
        stmt, page, count, rev = base, 1, 20, False
        loc = DirLocation
        for key, value in used:
            if key == "_id":
                stmt = stmt.where(model.id.in_(id_list(value, key)))
            elif key == "name":
                stmt = stmt.where(func.lower(model.name).like(value.lower() + "%"))
            elif key == "identifier" and model is DirOrganization:
                stmt = stmt.where(model.identifier == value.rpartition("|")[2])
            elif key == "type" and model is DirOrganization:
                stmt = stmt.where(model.org_type.in_(token(value, None, key)))
            elif key == "organization" and model is not DirOrganization:
                stmt = stmt.where(model.organization_id.in_(id_list(value, key)))
            elif key.startswith("address"):
                column = {
                    "address-city": loc.city,
                    "address-postalcode": loc.postal_code,
                    "address-country": loc.country,
                    "address-state": loc.state_province,
                    "address": loc.address_1,
                }.get(key)
                if column is None:
                    continue
                cond = func.lower(column).like(value.lower() + "%")
                if model is DirLocation:
                    stmt = stmt.where(cond)
                else:
                    stmt = stmt.where(model.id.in_(select(loc.organization_id).where(cond)))
            elif key == "_lastUpdated":
                stmt = stmt.where(model.updated_at >= last_updated(value))
            elif key == "_count":
                count = number(value, key, 1, 100)
            elif key == "_page":
                page = number(value, key, 1, 100000)
            elif key == "_revinclude":
                if not revinclude or value != revinclude:
                    raise BadSearchParameter("_revinclude", f"supported: {revinclude or 'none'}")
                rev = True
        total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
        rows = session.scalars(
            stmt.order_by(model.id).offset((page - 1) * count).limit(count)
        ).all()
        included: list[dict[str, Any]] = []
        if rev and rows:
            query = Query(per_page=100)
            if model is DirOrganization:
                query.organization_ids = [r.id for r in rows]
            else:
                query.location_ids = [r.id for r in rows]
            included = [
                fhir.healthcare_service(h.details, members=viewer.member)
                for h in search(session, viewer, query).hits
            ]
        return bundle(request, used, [render(r) for r in rows], included, total, page, count)

    @router.get("/Organization", summary="Search Organization")
    def search_orgs(
        request: Request, session: Session = session_dep, caller: Caller | None = optional_dep
    ) -> JSONResponse:
        viewer = viewer_for(caller, "Organization")
        return _simple_search(
            request,
            session,
            _visible_orgs(viewer),
            DirOrganization,
            ORG_PARAMS,
            fhir.organization_resource,
            "HealthcareService:organization",
            viewer,
        )

    @router.get("/Organization/{id}", summary="Read an Organization")
    def read_org(
        id: uuid.UUID,
        session: Session = session_dep,
        caller: Caller | None = optional_dep,
    ) -> JSONResponse:
        viewer = viewer_for(caller, "Organization")
        org = session.scalars(_visible_orgs(viewer).where(DirOrganization.id == id)).first()
        if org is None:
            raise ListingNotFound("No such Organization.")
        return fhir_response(fhir.organization_resource(org))

    def _visible_locations(viewer: Viewer) -> Select[Any]:
        orgs = _visible_orgs(viewer).with_only_columns(DirOrganization.id)
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
            fhir.location_resource,
            "HealthcareService:location",
            viewer,
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
            fhir.endpoint_resource,
            "",
            viewer,
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
