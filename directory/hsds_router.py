"""The HSDS 3.0 API under /hsds, as `standards/hsds/3.0/schema/openapi.json` defines it.

Public reads; members (signed-in staff, system clients) see network-only listings too.
"""

from __future__ import annotations

import datetime as dt
import math
import uuid
from collections.abc import Sequence
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi import Query as Param
from sqlalchemy import ColumnElement, Select, exists, func, or_, select
from sqlalchemy.orm import Session

from directory import hsds
from directory import service as directory_service
from directory.access import Viewer, visible_services
from directory.dependencies import Wiring
from directory.details import Details, load_details, load_services
from directory.errors import BadSearchParameter, ListingNotFound
from directory.models import (
    DirLocation,
    DirOrganization,
    Service,
    ServiceArea,
    ServiceAtLocation,
    ServiceTerm,
    Taxonomy,
    TaxonomyTerm,
    Visibility,
)
from directory.search import MAX_PAGE as _PAGES
from directory.search import (
    Page,
    Query,
    areas_holding,
    distance_sql,
    like_pattern,
    near_box,
    search,
)
from kernel.caller import Caller
from kernel.inputs import IsoDateTime

__all__ = ["make_router"]

# The parameters' limits as the document states them; the checks below keep their messages.
PageNumber = Annotated[int, Param(json_schema_extra={"minimum": 1, "maximum": _PAGES})]
PerPage = Annotated[int, Param(json_schema_extra={"minimum": 1, "maximum": 100})]
UuidText = Annotated[str | None, Param(json_schema_extra={"format": "uuid"})]
JsonOnly = Annotated[str, Param(json_schema_extra={"enum": ["json"]})]


def _uuid(value: str | None, name: str) -> list[uuid.UUID]:
    if value is None:
        return []
    try:
        return [uuid.UUID(value)]
    except ValueError:
        raise BadSearchParameter(name, "must be a UUID") from None


MAX_PAGE = 100_000


def _paging(page: int, per_page: int) -> None:
    if not 1 <= page <= MAX_PAGE:  # past it the offset overflows the database's integers
        raise BadSearchParameter("page", f"must be between 1 and {MAX_PAGE}")
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
    def about() -> dict[str, Any]:
        return {
            "version": hsds.HSDS_VERSION,
            "profile": "https://docs.openreferral.org/en/v3.0/",
            "openapi_url": f"{wiring.base_url}/openapi.json",
        }

    @router.get("/services", summary="Services (search, taxonomy, organization, modified)")
    def services(
        session: Session = session_dep,
        caller: Caller | None = optional_dep,
        search: str | None = None,
        page: PageNumber = 1,
        per_page: PerPage = 20,
        taxonomy_term_id: UuidText = None,
        taxonomy_id: UuidText = None,
        organization_id: UuidText = None,
        modified_after: IsoDateTime | None = None,
        minimal: bool = False,
        full: bool = False,
        format: JsonOnly = "json",
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

    def _org_services(
        session: Session,
        caller: Caller | None,
        orgs: Sequence[DirOrganization],
        *,
        full_service: bool,
    ) -> dict[uuid.UUID, list[dict[str, Any]]]:
        """The services of each organization that the caller may see, by name: the list shape,
        or with `full_service` fully nested (with refhub's extension for network members)."""
        viewer = wiring.viewer(caller, "HealthcareService")
        by_org: dict[uuid.UUID, list[dict[str, Any]]] = {o.id: [] for o in orgs}
        if not orgs:
            return by_org
        found = session.scalars(
            visible_services(viewer)
            .where(Service.organization_id.in_(list(by_org)))
            .order_by(Service.name, Service.id)
        ).all()
        known = {o.id: o for o in orgs}
        if full_service:
            details = load_details(session, found, known)
        else:
            details = [Details(service=s, organization=known[s.organization_id]) for s in found]
        for d in details:
            doc = hsds.service_document(d, members=viewer.member, full=full_service)
            by_org[d.service.organization_id].append(hsds.without_organization(doc))
        return by_org

    @router.get("/organizations", summary="Organizations")
    def organizations(
        session: Session = session_dep,
        caller: Caller | None = optional_dep,
        search: str | None = None,
        page: PageNumber = 1,
        per_page: PerPage = 20,
        full: bool = False,
        full_service: bool = False,
        format: JsonOnly = "json",
    ) -> dict[str, Any]:
        """`full`: each organization with its `services` (list shape); `full_service`: with
        its services fully nested."""
        if format != "json":
            raise BadSearchParameter("format", "only json is offered")
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
        docs = [hsds.organization_document(o) for o in rows]
        if full or full_service:
            nested = _org_services(session, caller, rows, full_service=full_service)
            for doc, org in zip(docs, rows, strict=True):
                doc["services"] = nested[org.id]
        return _wrap(total, page, per_page, docs)

    @router.get("/organizations/{id}", summary="One organization, with its services")
    def organization(
        id: uuid.UUID,
        session: Session = session_dep,
        caller: Caller | None = optional_dep,
        full_service: bool = False,
    ) -> dict[str, Any]:
        org = session.scalars(
            _orgs(wiring.viewer(caller, "Organization")).where(DirOrganization.id == id)
        ).first()
        if org is None:
            raise ListingNotFound("No such organization.")
        doc = hsds.organization_document(org)
        doc["services"] = _org_services(session, caller, [org], full_service=full_service)[org.id]
        return doc

    @router.get("/service_at_locations", summary="Services at locations (postcode, proximity)")
    def service_at_locations(
        session: Session = session_dep,
        caller: Caller | None = optional_dep,
        search: str | None = None,
        page: PageNumber = 1,
        per_page: PerPage = 20,
        taxonomy_term_id: UuidText = None,
        taxonomy_id: UuidText = None,
        organization_id: UuidText = None,
        modified_after: IsoDateTime | None = None,
        full: bool = False,
        format: JsonOnly = "json",
        postcode: str | None = None,
        proximity: Annotated[float | None, Param(gt=0, le=2_000_000)] = None,
    ) -> dict[str, Any]:
        """One row per service at location the caller may see (its service visible to them).

        `postcode`: rows at a location with that postcode; a service with service areas
        instead matches at all its locations when one of its areas is named by the postcode
        or holds the postcode's centroid (the mean of the known locations with it), and not
        otherwise. `proximity` (metres, with `postcode`): rows whose location is within that
        distance of the centroid, nearest first (service areas still narrow as above)."""
        if format != "json":
            raise BadSearchParameter("format", "only json is offered")
        _paging(page, per_page)
        viewer = wiring.viewer(caller, "HealthcareService")
        stmt = _sal_rows(
            visible_services(viewer),
            search=search,
            term_ids=_uuid(taxonomy_term_id, "taxonomy_term_id"),
            taxonomy_ids=_uuid(taxonomy_id, "taxonomy_id"),
            organization_ids=_uuid(organization_id, "organization_id"),
            modified_after=modified_after,
        )
        order: list[Any] = []
        if proximity is not None:
            if postcode is None:
                raise BadSearchParameter("proximity", "needs a postcode")
            metres = proximity
            centre = _postcode_centre(session, postcode)
            if centre is None:
                raise BadSearchParameter("postcode", "no known location has this postcode")
            km = metres / 1000
            distance = distance_sql(*centre)
            stmt = stmt.where(*near_box(*centre, km), distance <= km)
            covering = _covering(session, postcode, centre)
            stmt = stmt.where(or_(~_has_area(), Service.id.in_(covering)))
            order.append(distance)
        elif postcode is not None:
            stmt = stmt.where(
                or_(
                    (DirLocation.postal_code == postcode) & ~_has_area(),
                    Service.id.in_(
                        _covering(session, postcode, _postcode_centre(session, postcode))
                    ),
                )
            )
        order += [Service.name, Service.id, DirLocation.name, DirLocation.id, ServiceAtLocation.id]
        total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
        rows = session.execute(
            stmt.with_only_columns(ServiceAtLocation, DirLocation)
            .order_by(*order)
            .offset((page - 1) * per_page)
            .limit(per_page)
        ).all()
        documents = _service_documents(
            session, [sal.service_id for sal, _loc in rows], members=viewer.member, full=full
        )
        contents = [
            hsds.service_at_location_document(sal, loc, documents[sal.service_id])
            for sal, loc in rows
        ]
        return _wrap(total, page, per_page, contents)

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
        session: Session = session_dep,
        search: str | None = None,
        page: PageNumber = 1,
        per_page: PerPage = 20,
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
        page: PageNumber = 1,
        per_page: PerPage = 20,
        taxonomy_id: UuidText = None,
        top_only: bool = False,
        parent_id: UuidText = None,
    ) -> dict[str, Any]:
        _paging(page, per_page)
        stmt = select(TaxonomyTerm, Taxonomy).join(
            Taxonomy, Taxonomy.id == TaxonomyTerm.taxonomy_id
        )
        if search:
            stmt = stmt.where(func.lower(TaxonomyTerm.name).contains(search.lower()))
        if taxonomy_id is not None:
            stmt = stmt.where(TaxonomyTerm.taxonomy_id.in_(_uuid(taxonomy_id, "taxonomy_id")))
        if top_only:
            stmt = stmt.where(TaxonomyTerm.parent_id.is_(None))
        if parent_id is not None:
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


def _sal_rows(
    services: Select[Service],
    *,
    search: str | None,
    term_ids: list[uuid.UUID],
    taxonomy_ids: list[uuid.UUID],
    organization_ids: list[uuid.UUID],
    modified_after: dt.datetime | None,
) -> Select[Any]:
    """`SELECT service_at_location.id` of the visible `services` that match the filters."""
    where: list[ColumnElement[bool]] = []
    if search:
        where.append(func.lower(Service.search_text).like(like_pattern(search), escape="\\"))
    if term_ids:
        where.append(
            exists().where(ServiceTerm.service_id == Service.id, ServiceTerm.term_id.in_(term_ids))
        )
    if taxonomy_ids:
        where.append(
            exists().where(
                ServiceTerm.service_id == Service.id,
                TaxonomyTerm.id == ServiceTerm.term_id,
                TaxonomyTerm.taxonomy_id.in_(taxonomy_ids),
            )
        )
    if organization_ids:
        where.append(Service.organization_id.in_(organization_ids))
    if modified_after is not None:
        where.append(Service.updated_at >= modified_after)
    return (
        services.with_only_columns(ServiceAtLocation.id, maintain_column_froms=False)
        .select_from(Service)
        .join(ServiceAtLocation, ServiceAtLocation.service_id == Service.id)
        .join(DirLocation, DirLocation.id == ServiceAtLocation.location_id)
        .where(*where)
    )


def _has_area() -> ColumnElement[bool]:
    return exists().where(ServiceArea.service_id == Service.id)


def _postcode_centre(session: Session, postcode: str) -> tuple[float, float] | None:
    """The centroid of a postcode: the mean position of the known locations that have it."""
    lat, lon = session.execute(
        select(func.avg(DirLocation.latitude), func.avg(DirLocation.longitude)).where(
            DirLocation.postal_code == postcode
        )
    ).one()
    return None if lat is None or lon is None else (float(lat), float(lon))


def _covering(
    session: Session, postcode: str, centre: tuple[float, float] | None
) -> set[uuid.UUID]:
    """Services with a service area named by `postcode` or holding its centroid `centre`."""
    named = select(ServiceArea.service_id).where(func.lower(ServiceArea.name) == postcode.lower())
    found = set(session.scalars(named))
    return found | areas_holding(session, *centre) if centre is not None else found


def _service_documents(
    session: Session, ids: list[uuid.UUID], *, members: bool, full: bool
) -> dict[uuid.UUID, dict[str, Any]]:
    """The HSDS documents of the services `ids` (list shape, or fully nested with `full`)."""
    ordered, orgs = load_services(session, ids)
    if full:
        details = load_details(session, ordered, orgs)
    else:
        details = [Details(service=s, organization=orgs[s.organization_id]) for s in ordered]
    return {d.service.id: hsds.service_document(d, members=members, full=full) for d in details}
