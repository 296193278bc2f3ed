"""refhub's own directory API under /directory: search, matching, owners' editing, moderation.

Reads are public (the caller's view decides what is shown); writes need an authenticated
caller and the services decide who may do what.
"""

from __future__ import annotations

import re
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from sqlalchemy.orm import Session

from directory import hsds
from directory import service as directory_service
from directory.access import Viewer
from directory.dependencies import Wiring
from directory.matching import match
from directory.models import Capacity
from directory.schemas import CODE_PATTERN as _CODE_PATTERN
from directory.schemas import EndpointIn, MatchIn, ModerationIn, OrganizationIn, ServiceIn
from directory.search import MAX_PAGE, MAX_PER_PAGE, Hit, Page
from directory.search import Query as SearchQuery
from directory.search import search as run_search
from directory.vocabulary import POPULATIONS
from kernel.caller import Caller
from kernel.inputs import IsoDateTime

__all__ = ["hit_document", "make_router"]

_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"description": "A parameter has an unusable value (the problem names it)"},
    401: {"description": "Not signed in"},
    403: {"description": "Not allowed (the problem says why)"},
    404: {"description": "No such listing, or not one you may see"},
}


def hit_document(hit: Hit, viewer: Viewer) -> dict[str, Any]:
    doc = hsds.service_document(hit.details, members=viewer.member, full=True)
    if hit.distance_km is not None:
        doc["distance_km"] = hit.distance_km
        doc["nearest_location_id"] = str(hit.location_id)
    return doc


def _page(page: Page, viewer: Viewer) -> dict[str, Any]:
    return {
        "total_items": page.total,
        "total_pages": page.pages,
        "page_number": page.page,
        "size": len(page.hits),
        "first_page": page.page == 1,
        "last_page": page.page >= page.pages,
        "empty": page.total == 0,
        "contents": [hit_document(hit, viewer) for hit in page.hits],
    }


_LATITUDE = r"[-+]?(?:90(?:\.0+)?|[1-8]?\d(?:\.\d+)?)"
_LONGITUDE = r"[-+]?(?:180(?:\.0+)?|(?:1[0-7]\d|[1-9]?\d)(?:\.\d+)?)"
POINT = rf"^\s*{_LATITUDE}\s*,\s*{_LONGITUDE}\s*$"
_POINT = re.compile(POINT)
# What the search checks, stated in the document (the checks keep their own messages).
_POINT_DOC = {"description": "latitude,longitude in decimal degrees", "pattern": POINT}
_CODES = {"type": "array", "items": {"type": "string", "pattern": _CODE_PATTERN}}


def _point(value: str | None, name: str) -> tuple[float, float] | None:
    from directory.errors import BadSearchParameter

    if value is None:
        return None
    if not _POINT.fullmatch(value):
        raise BadSearchParameter(name, "give latitude,longitude in decimal degrees")
    lat, lon = (float(part) for part in value.split(","))
    return lat, lon


def make_router(wiring: Wiring) -> APIRouter:
    router = APIRouter(prefix="/directory", tags=["directory"], responses=_ERRORS)
    session_dep = Depends(wiring.session, scope="function")
    caller_dep = Depends(wiring.caller)

    def optional(request: Request, session: Session = session_dep) -> Caller | None:
        return wiring.optional_caller(request, session)

    optional_dep = Depends(optional)

    @router.get("/services", summary="Search listings (public; members see more)")
    def search_services(
        session: Session = session_dep,
        caller: Caller | None = optional_dep,
        category: Annotated[list[str], Query(json_schema_extra=_CODES)] = [],  # noqa: B006
        type: Annotated[list[str], Query(json_schema_extra=_CODES)] = [],  # noqa: B006
        population: Annotated[
            list[str], Query(json_schema_extra={"items": {"enum": list(POPULATIONS)}})
        ] = [],  # noqa: B006
        language: Annotated[list[str], Query()] = [],  # noqa: B006
        q: str | None = None,
        near: Annotated[str | None, Query(json_schema_extra=_POINT_DOC)] = None,
        radius_km: Annotated[
            float | None, Query(json_schema_extra={"exclusiveMinimum": 0, "maximum": 2000})
        ] = None,
        within_area: Annotated[str | None, Query(json_schema_extra=_POINT_DOC)] = None,
        open_now: bool = False,
        accepting_referrals: bool | None = None,
        capacity: Annotated[
            list[str], Query(json_schema_extra={"items": {"enum": [c.value for c in Capacity]}})
        ] = [],  # noqa: B006
        modified_after: IsoDateTime | None = None,
        sort: Annotated[
            str, Query(json_schema_extra={"enum": ["relevance", "distance", "name"]})
        ] = "relevance",
        page: Annotated[int, Query(json_schema_extra={"minimum": 1, "maximum": MAX_PAGE})] = 1,
        per_page: Annotated[
            int, Query(json_schema_extra={"minimum": 1, "maximum": MAX_PER_PAGE})
        ] = 20,
    ) -> dict[str, Any]:
        viewer = wiring.viewer(caller, "HealthcareService")
        point = _point(near, "near")
        query = SearchQuery(
            categories=category,
            types=type,
            populations=population,
            languages=language,
            text=q,
            radius_km=radius_km,
            within_area=_point(within_area, "within_area"),
            open_now=open_now,
            accepting_referrals=accepting_referrals,
            capacity=capacity,
            modified_after=modified_after,
            sort=sort,
            page=page,
            per_page=per_page,
            active=True,
        )
        if point is not None:
            query.latitude, query.longitude = point
        return _page(run_search(session, viewer, query), viewer)

    @router.get("/services/{service_id}", summary="One listing (public; members see more)")
    def read_service(
        service_id: uuid.UUID,
        session: Session = session_dep,
        caller: Caller | None = optional_dep,
    ) -> dict[str, Any]:
        viewer = wiring.viewer(caller, "HealthcareService")
        details = directory_service.get_service(session, viewer, service_id)
        return hsds.service_document(details, members=viewer.member)

    @router.post("/match", summary="Rank services for a client, with reasons (members)")
    def match_services(
        body: MatchIn, session: Session = session_dep, caller: Caller = caller_dep
    ) -> dict[str, Any]:
        viewer = wiring.viewer(caller, "HealthcareService")
        return {
            "matches": [
                {
                    "service": hit_document(m.hit, viewer),
                    "score": m.score,
                    "matched": [r.__dict__ for r in m.matched],
                    "fell_short": [r.__dict__ for r in m.fell_short],
                }
                for m in match(session, viewer, body)
            ]
        }

    @router.put("/organization", summary="Create or replace your organisation's listing")
    def put_organization(
        body: OrganizationIn, session: Session = session_dep, caller: Caller = caller_dep
    ) -> dict[str, Any]:
        org = directory_service.upsert_organization(session, caller, body=body)
        return hsds.organization_document(org)

    @router.put("/organization/endpoint", summary="Set where your referrals are delivered")
    def put_endpoint(
        body: EndpointIn, session: Session = session_dep, caller: Caller = caller_dep
    ) -> dict[str, Any]:
        endpoint = directory_service.set_endpoint(session, caller, body=body)
        return {"id": str(endpoint.id), **body.model_dump()}

    @router.post("/services", status_code=201, summary="Add a listing of your organisation")
    def create_service(
        body: ServiceIn, session: Session = session_dep, caller: Caller = caller_dep
    ) -> dict[str, Any]:
        service = directory_service.create_service(session, caller, body=body)
        details = directory_service.get_service(
            session, wiring.viewer(caller, "HealthcareService"), service.id
        )
        return hsds.service_document(details, members=True)

    @router.put("/services/{service_id}", summary="Replace a listing (new version)")
    def update_service(
        service_id: uuid.UUID,
        body: ServiceIn,
        session: Session = session_dep,
        caller: Caller = caller_dep,
    ) -> dict[str, Any]:
        service = directory_service.update_service(
            session, caller, service_id=service_id, body=body
        )
        details = directory_service.get_service(
            session, wiring.viewer(caller, "HealthcareService"), service.id
        )
        return hsds.service_document(details, members=True)

    @router.post("/services/{service_id}/confirm", summary="Confirm a listing is still right")
    def confirm_service(
        service_id: uuid.UUID, session: Session = session_dep, caller: Caller = caller_dep
    ) -> dict[str, Any]:
        service = directory_service.confirm_service(session, caller, service_id=service_id)
        return {"id": str(service.id), "confirmed_at": service.confirmed_at.isoformat()}

    @router.post("/services/{service_id}/moderation", summary="Suspend or restore (hub admin)")
    def moderate_service(
        service_id: uuid.UUID,
        body: ModerationIn,
        session: Session = session_dep,
        caller: Caller = caller_dep,
    ) -> dict[str, Any]:
        service = directory_service.moderate_service(
            session, caller, service_id=service_id, body=body
        )
        return {"id": str(service.id), "moderation": service.moderation}

    @router.get("/services/{service_id}/versions", summary="A listing's history (owner)")
    def versions(
        service_id: uuid.UUID, session: Session = session_dep, caller: Caller = caller_dep
    ) -> list[dict[str, Any]]:
        rows = directory_service.list_versions(session, caller, service_id=service_id)
        return [
            {
                "version": v.version,
                "change": v.change,
                "actor": v.actor,
                "changed_at": v.changed_at.isoformat(),
                "snapshot": v.snapshot,
            }
            for v in rows
        ]

    return router
