"""The HSDS 3.0 API under /hsds, as `standards/hsds/3.0/schema/openapi.json` defines it.

Public reads; members (signed-in staff, system clients) see network-only listings too.
"""

from __future__ import annotations

import datetime as dt
import math
import uuid
from typing import Any

from fastapi import APIRouter, Depends, Request
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from directory import hsds
from directory import service as directory_service
from directory.access import Viewer
from directory.dependencies import Wiring
from directory.errors import BadSearchParameter, ListingNotFound
from directory.models import DirLocation, DirOrganization, Taxonomy, TaxonomyTerm, Visibility
from directory.search import Page, Query, search
from kernel.caller import Caller

__all__ = ["make_router"]


def _uuid(value: str | None, name: str) -> list[uuid.UUID]:
    if value is None:
        return []
    try:
        return [uuid.UUID(value)]
    except ValueError:
        raise BadSearchParameter(name, "must be a UUID") from None


def _paging(page: int, per_page: int) -> None:
    if page < 1:
        raise BadSearchParameter("page", "must be 1 or more")
    if not 1 <= per_page <= 100:
        raise BadSearchParameter("per_page", "must be between 1 and 100")


def _wrap(total: int, page: int, per_page: int, contents: list[dict[str, Any]]) -> dict[str, Any]:
    pages = max(1, math.ceil(total / per_page))
    return {
        "total_items": total,
        "total_pages": pages,
        "page_number": page,
        "size": len(contents),
        "first_page": page == 1,
        "last_page": page >= pages,
        "empty": total == 0,
        "contents": contents,
    }


def _page_of(page: Page, contents: list[dict[str, Any]]) -> dict[str, Any]:
    return _wrap(page.total, page.page, page.per_page, contents)


def make_router(wiring: Wiring) -> APIRouter:
    router = APIRouter(prefix="/hsds", tags=["hsds 3.0"])
    session_dep = Depends(wiring.session, scope="function")

    def optional(request: Request, session: Session = session_dep) -> Caller | None:
        return wiring.optional_caller(request, session)

    optional_dep = Depends(optional)

    @router.get("/", summary="About this HSDS API")
    def about(request: Request) -> dict[str, Any]:
        base = str(request.base_url).rstrip("/")
        return {
            "version": hsds.HSDS_VERSION,
            "profile": "https://docs.openreferral.org/en/v3.0/",
            "openapi_url": f"{base}/openapi.json",
        }

    @router.get("/services", summary="Services (search, taxonomy, organization, modified)")
    def services(
        session: Session = session_dep,
        caller: Caller | None = optional_dep,
        search: str | None = None,
        page: int = 1,
        per_page: int = 20,
        taxonomy_term_id: str | None = None,
        taxonomy_id: str | None = None,
        organization_id: str | None = None,
        modified_after: dt.datetime | None = None,
        minimal: bool = False,
        full: bool = False,
        format: str = "json",
    ) -> dict[str, Any]:
        if format != "json":
            raise BadSearchParameter("format", "only json is offered")
        viewer = wiring.viewer(caller, "HealthcareService")
        query = Query(
            text=search,
            page=page,
            per_page=per_page,
            sort="name",
            term_ids=_uuid(taxonomy_term_id, "taxonomy_term_id"),
            taxonomy_ids=_uuid(taxonomy_id, "taxonomy_id"),
            organization_ids=_uuid(organization_id, "organization_id"),
            modified_after=modified_after,
        )
        result = _search(session, viewer, query)
        if minimal:
            contents = [
                {
                    "id": str(h.details.service.id),
                    "name": h.details.service.name,
                    "status": h.details.service.status,
                    "last_modified": hsds.service_document(h.details, full=False)["last_modified"],
                }
                for h in result.hits
            ]
        else:
            contents = [hsds.service_document(h.details, full=full) for h in result.hits]
        return _page_of(result, contents)

    @router.get("/services/{id}", summary="One service, fully nested")
    def service(
        id: uuid.UUID,
        session: Session = session_dep,
        caller: Caller | None = optional_dep,
    ) -> dict[str, Any]:
        details = directory_service.get_service(
            session, wiring.viewer(caller, "HealthcareService"), id
        )
        return hsds.service_document(details)

    def _orgs(viewer: Viewer) -> Any:
        stmt = select(DirOrganization)
        if not viewer.member:
            stmt = stmt.where(DirOrganization.visibility == Visibility.PUBLIC)
        return stmt

    @router.get("/organizations", summary="Organizations")
    def organizations(
        session: Session = session_dep,
        caller: Caller | None = optional_dep,
        search: str | None = None,
        page: int = 1,
        per_page: int = 20,
        full: bool = False,
        full_service: bool = False,
    ) -> dict[str, Any]:
        _paging(page, per_page)
        stmt = _orgs(wiring.viewer(caller, "Organization"))
        if search:
            stmt = stmt.where(func.lower(DirOrganization.name).contains(search.lower()))
        total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
        rows = session.scalars(
            stmt.order_by(DirOrganization.name, DirOrganization.id)
            .offset((page - 1) * per_page)
            .limit(per_page)
        ).all()
        return _wrap(total, page, per_page, [hsds.organization_document(o) for o in rows])

    @router.get("/organizations/{id}", summary="One organization")
    def organization(
        id: uuid.UUID,
        session: Session = session_dep,
        caller: Caller | None = optional_dep,
    ) -> dict[str, Any]:
        org = session.scalars(
            _orgs(wiring.viewer(caller, "Organization")).where(DirOrganization.id == id)
        ).first()
        if org is None:
            raise ListingNotFound("No such organization.")
        return hsds.organization_document(org)

    @router.get("/service_at_locations", summary="Services at locations (postcode, proximity)")
    def service_at_locations(
        session: Session = session_dep,
        caller: Caller | None = optional_dep,
        search: str | None = None,
        page: int = 1,
        per_page: int = 20,
        taxonomy_term_id: str | None = None,
        taxonomy_id: str | None = None,
        organization_id: str | None = None,
        modified_after: dt.datetime | None = None,
        postcode: str | None = None,
        proximity: str | None = None,
    ) -> dict[str, Any]:
        viewer = wiring.viewer(caller, "HealthcareService")
        query = Query(
            text=search,
            page=page,
            per_page=per_page,
            sort="name",
            term_ids=_uuid(taxonomy_term_id, "taxonomy_term_id"),
            taxonomy_ids=_uuid(taxonomy_id, "taxonomy_id"),
            organization_ids=_uuid(organization_id, "organization_id"),
            modified_after=modified_after,
        )
        if proximity is not None:
            if postcode is None:
                raise BadSearchParameter("proximity", "needs a postcode")
            try:
                metres = float(proximity)
            except ValueError:
                raise BadSearchParameter("proximity", "metres, a number") from None
            centre = session.execute(
                select(func.avg(DirLocation.latitude), func.avg(DirLocation.longitude)).where(
                    DirLocation.postal_code == postcode
                )
            ).one()
            if centre[0] is None:
                raise BadSearchParameter("postcode", "no known location has this postcode")
            query.latitude, query.longitude = float(centre[0]), float(centre[1])
            query.radius_km, query.sort = metres / 1000, "distance"
        elif postcode is not None:
            query.postcode = postcode
        result = _search(session, viewer, query)
        contents = []
        for hit in result.hits:
            listing = hsds.service_document(hit.details, full=False)
            for sal, loc in hit.details.locations:
                contents.append(
                    {
                        "id": str(sal.id),
                        "service_id": str(sal.service_id),
                        "location_id": str(loc.id),
                        "service": listing,
                        "location": hsds.location_document(loc),
                    }
                )
        return _page_of(result, contents)

    @router.get("/service_at_locations/{id}", summary="The service of one service_at_location")
    def service_at_location(
        id: uuid.UUID,
        session: Session = session_dep,
        caller: Caller | None = optional_dep,
    ) -> dict[str, Any]:
        from directory.models import ServiceAtLocation

        sal = session.get(ServiceAtLocation, id)
        if sal is None:
            raise ListingNotFound("No such service_at_location.")
        details = directory_service.get_service(
            session, wiring.viewer(caller, "HealthcareService"), sal.service_id
        )
        return hsds.service_document(details)

    @router.get("/taxonomies", summary="Taxonomies")
    def taxonomies(
        session: Session = session_dep, search: str | None = None, page: int = 1, per_page: int = 20
    ) -> dict[str, Any]:
        _paging(page, per_page)
        stmt = select(Taxonomy)
        if search:
            stmt = stmt.where(func.lower(Taxonomy.name).contains(search.lower()))
        total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
        rows = session.scalars(
            stmt.order_by(Taxonomy.name).offset((page - 1) * per_page).limit(per_page)
        ).all()
        return _wrap(total, page, per_page, [hsds.taxonomy_document(t) for t in rows])

    @router.get("/taxonomies/{id}", summary="One taxonomy")
    def taxonomy(id: uuid.UUID, session: Session = session_dep) -> dict[str, Any]:
        row = session.get(Taxonomy, id)
        if row is None:
            raise ListingNotFound("No such taxonomy.")
        return hsds.taxonomy_document(row)

    @router.get("/taxonomy_terms", summary="Taxonomy terms")
    def taxonomy_terms(
        session: Session = session_dep,
        search: str | None = None,
        page: int = 1,
        per_page: int = 20,
        taxonomy_id: str | None = None,
        top_only: bool = False,
        parent_id: str | None = None,
    ) -> dict[str, Any]:
        _paging(page, per_page)
        stmt = select(TaxonomyTerm, Taxonomy).join(
            Taxonomy, Taxonomy.id == TaxonomyTerm.taxonomy_id
        )
        if search:
            stmt = stmt.where(func.lower(TaxonomyTerm.name).contains(search.lower()))
        if taxonomy_id:
            stmt = stmt.where(TaxonomyTerm.taxonomy_id.in_(_uuid(taxonomy_id, "taxonomy_id")))
        if top_only:
            stmt = stmt.where(TaxonomyTerm.parent_id.is_(None))
        if parent_id:
            stmt = stmt.where(TaxonomyTerm.parent_id.in_(_uuid(parent_id, "parent_id")))
        total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
        rows = session.execute(
            stmt.order_by(TaxonomyTerm.code, TaxonomyTerm.id)
            .offset((page - 1) * per_page)
            .limit(per_page)
        ).all()
        return _wrap(total, page, per_page, [hsds.term_document(t, tx) for t, tx in rows])

    @router.get("/taxonomy_terms/{id}", summary="One taxonomy term")
    def taxonomy_term(id: uuid.UUID, session: Session = session_dep) -> dict[str, Any]:
        row = session.get(TaxonomyTerm, id)
        if row is None:
            raise ListingNotFound("No such taxonomy term.")
        return hsds.term_document(row, session.get(Taxonomy, row.taxonomy_id))

    return router


def _search(session: Session, viewer: Viewer, query: Query) -> Page:
    return search(session, viewer, query)
