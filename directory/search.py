"""Directory search: filters, radius, open now, relevance or distance order, paging; in SQL.

Distance: a bounding-box prefilter on the location index, then the haversine formula in SQL
(`sin`, `cos`, `asin`, `sqrt`, `radians`, `power`: PostgreSQL, and SQLite 3.35+ built with its
math functions, as CPython's are). "Inside a service area": bounding box in SQL, exact
point-in-polygon in Python on the few areas whose box holds the point.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
import uuid
import zoneinfo
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import (
    ARRAY,
    ColumnElement,
    Text,
    and_,
    case,
    exists,
    func,
    literal,
    literal_column,
    or_,
    select,
)
from sqlalchemy.orm import Session

from directory.access import Viewer, visible_services
from directory.details import Details, load_details, load_services
from directory.errors import BadSearchParameter
from directory.models import (
    Capacity,
    DirLocation,
    Schedule,
    Service,
    ServiceArea,
    ServiceAtLocation,
    ServiceLanguage,
    ServicePopulation,
    ServiceTerm,
    TaxonomyTerm,
)
from directory.taxonomy import term_ids
from directory.vocabulary import CATEGORY_SYSTEM, POPULATIONS, TYPE_SYSTEM

__all__ = [
    "EARTH_RADIUS_KM",
    "Hit",
    "Page",
    "Query",
    "areas_holding",
    "distance_sql",
    "haversine_km",
    "like_pattern",
    "near_box",
    "nearest",
    "point_in_polygon",
    "search",
    "search_keys",
]

EARTH_RADIUS_KM = 6371.0088
_DAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
MAX_PAGE = 100_000
MAX_PER_PAGE = 100


@dataclass
class Query:
    """What a search asks for; every field optional (empty means no filter)."""

    categories: list[str] = field(default_factory=list)
    types: list[str] = field(default_factory=list)
    term_ids: list[uuid.UUID] = field(default_factory=list)
    taxonomy_ids: list[uuid.UUID] = field(default_factory=list)
    populations: list[str] = field(default_factory=list)
    languages: list[str] = field(default_factory=list)
    text: str | None = None
    name: str | None = None
    program: str | None = None
    ids: list[uuid.UUID] = field(default_factory=list)
    organization_ids: list[uuid.UUID] = field(default_factory=list)
    location_ids: list[uuid.UUID] = field(default_factory=list)
    postcode: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    radius_km: float | None = None
    within_area: tuple[float, float] | None = None
    open_now: bool = False
    accepting_referrals: bool | None = None
    capacity: list[str] = field(default_factory=list)
    active: bool | None = None
    modified_after: dt.datetime | None = None
    sort: str = "relevance"
    page: int = 1
    per_page: int = 20

    def check(self) -> None:
        """Raise `BadSearchParameter` naming the first parameter with an unusable value."""
        if not 1 <= self.page <= MAX_PAGE:  # past it the offset overflows database integers
            raise BadSearchParameter("page", f"must be between 1 and {MAX_PAGE}")
        if not 1 <= self.per_page <= MAX_PER_PAGE:
            raise BadSearchParameter("per_page", f"must be between 1 and {MAX_PER_PAGE}")
        unknown = sorted(set(self.populations) - set(POPULATIONS))
        if unknown:
            raise BadSearchParameter("population", f"unknown code {unknown[0]!r}")
        bad_capacity = sorted(set(self.capacity) - {c.value for c in Capacity})
        if bad_capacity:
            raise BadSearchParameter("capacity", f"unknown code {bad_capacity[0]!r}")
        point = (self.latitude, self.longitude)
        if (point[0] is None) != (point[1] is None):
            raise BadSearchParameter("near", "give both latitude and longitude")
        if point[0] is not None and not -90 <= point[0] <= 90:
            raise BadSearchParameter("near", "latitude must be within -90..90")
        if point[1] is not None and not -180 <= point[1] <= 180:
            raise BadSearchParameter("near", "longitude must be within -180..180")
        if self.radius_km is not None and not 0 < self.radius_km <= 2000:
            raise BadSearchParameter("radius", "must be above 0 and at most 2000 km")
        if self.radius_km is not None and point[0] is None:
            raise BadSearchParameter("radius", "needs a point (near)")
        if self.sort not in {"relevance", "distance", "name"}:
            raise BadSearchParameter("sort", "one of relevance, distance, name")
        if self.sort == "distance" and point[0] is None:
            raise BadSearchParameter("sort", "distance needs a point (near)")


@dataclass
class Hit:
    details: Details
    distance_km: float | None = None
    location_id: uuid.UUID | None = None


@dataclass
class Page:
    hits: list[Hit]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.per_page))


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dlat, dlon = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dlat / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dlon / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))


# The radius search reads the coordinates copied onto the service-at-location rows (kept in
# sync with the locations by `directory.geometry.sync_coordinates`): one indexed table, no join
# of every service-location row to the locations in the box. On PostgreSQL it also narrows
# those rows by the service's term and language keys (GIN), ANDed with the box index.
_LAT, _LON = ServiceAtLocation.latitude, ServiceAtLocation.longitude
_KEYS = func.string_to_array(ServiceAtLocation.search_keys, literal_column("' '"))


@functools.lru_cache(maxsize=4096)  # a directory has few terms; imports ask for each often
def _term_key(term_id: uuid.UUID) -> str:
    return f"t:{term_id}"


def _language_key(code: str) -> str:
    return f"l:{code}"


def search_keys(term_ids: Iterable[uuid.UUID], languages: Iterable[str]) -> str:
    """A service's `ServiceAtLocation.search_keys`: its taxonomy terms and languages (as
    stored in `ServiceTerm` and `ServiceLanguage`), space-separated."""
    keys = sorted({_term_key(t) for t in term_ids}) + sorted({_language_key(c) for c in languages})
    return " ".join(keys)


def distance_sql(lat: float, lon: float) -> ColumnElement[float]:
    """Haversine km from the point to a service-at-location row's copied coordinates."""
    rlat = func.radians(_LAT)
    a = func.power(func.sin((rlat - math.radians(lat)) / 2), 2) + math.cos(
        math.radians(lat)
    ) * func.cos(rlat) * func.power(func.sin((func.radians(_LON) - math.radians(lon)) / 2), 2)
    return 2 * EARTH_RADIUS_KM * func.asin(func.sqrt(a))


def near_box(lat: float, lon: float, km: float) -> list[ColumnElement[bool]]:
    """A latitude/longitude box around the point holding every row within `km` of it."""
    dlat = km / 111.0 + 0.01
    clauses: list[ColumnElement[bool]] = [_LAT.between(lat - dlat, lat + dlat)]
    cos_lat = math.cos(math.radians(min(89.0, abs(lat) + dlat)))
    dlon = km / (111.32 * cos_lat) + 0.01 if cos_lat > 0.01 else 360.0
    if lon - dlon >= -180 and lon + dlon <= 180:  # no wrap across the antimeridian
        clauses.append(_LON.between(lon - dlon, lon + dlon))
    return clauses


def areas_holding(session: Session, lat: float, lon: float) -> set[uuid.UUID]:
    """The services one of whose service areas holds the point: the areas' bounding boxes
    in SQL, then point-in-polygon on the few whose box holds it."""
    boxes = session.execute(
        select(ServiceArea.service_id, ServiceArea.extent).where(
            ServiceArea.min_lat <= lat,
            ServiceArea.max_lat >= lat,
            ServiceArea.min_lon <= lon,
            ServiceArea.max_lon >= lon,
        )
    ).all()
    return {sid for sid, extent in boxes if point_in_polygon(lat, lon, extent)}


def point_in_polygon(lat: float, lon: float, extent: dict[str, Any] | None) -> bool:
    """Whether a GeoJSON Polygon or MultiPolygon holds the point (ray casting)."""
    if not extent:
        return False
    polygons = [extent["coordinates"]] if extent.get("type") == "Polygon" else extent["coordinates"]
    for polygon in polygons:
        ring = polygon[0]
        inside = False
        for (x1, y1), (x2, y2) in zip(ring, ring[1:] + ring[:1], strict=True):
            if (y1 > lat) != (y2 > lat) and lon < (x2 - x1) * (lat - y1) / (y2 - y1) + x1:
                inside = not inside
        if inside:
            return True
    return False


def _has(model: Any, column: Any, values: list[Any]) -> ColumnElement[bool]:
    return exists().where(model.service_id == Service.id, column.in_(values))


def _open_now(session: Session, now: dt.datetime) -> ColumnElement[bool]:
    zones = session.scalars(select(Service.timezone).distinct()).all()
    clauses: list[ColumnElement[bool]] = []
    for zone in zones:
        local = now.astimezone(zoneinfo.ZoneInfo(zone))
        hhmm, day = local.strftime("%H:%M"), _DAYS[local.weekday()]
        clauses.append(
            and_(
                Service.timezone == zone,
                exists().where(
                    Schedule.service_id == Service.id,
                    Schedule.byday.like(f"%{day}%"),
                    Schedule.opens_at <= hhmm,
                    Schedule.closes_at > hhmm,
                ),
            )
        )
    return or_(*clauses) if clauses else literal(False)


def like_pattern(text: str) -> str:
    """A case-insensitive substring LIKE pattern (escape character backslash)."""
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def search(
    session: Session, viewer: Viewer, query: Query, *, now: dt.datetime | None = None
) -> Page:
    """One page of the listings the viewer may see that satisfy `query`."""
    query.check()
    stmt = visible_services(viewer)
    where: list[ColumnElement[bool]] = []
    # Each term or language filter as the keys of which a matching service has at least one.
    key_filters: list[list[str]] = []

    def has_term(ids: list[uuid.UUID]) -> None:
        where.append(_has(ServiceTerm, ServiceTerm.term_id, ids))
        key_filters.append([_term_key(t) for t in ids])

    for system, codes in ((CATEGORY_SYSTEM, query.categories), (TYPE_SYSTEM, query.types)):
        if codes:
            has_term(term_ids(session, system, codes))
    if query.term_ids:
        has_term(query.term_ids)
    if query.taxonomy_ids:
        in_taxonomy = select(TaxonomyTerm.id).where(
            TaxonomyTerm.taxonomy_id.in_(query.taxonomy_ids)
        )
        has_term(list(session.scalars(in_taxonomy)))
    if query.populations:
        where.append(_has(ServicePopulation, ServicePopulation.code, query.populations))
    if query.languages:
        codes = [c.lower() for c in query.languages]
        where.append(_has(ServiceLanguage, ServiceLanguage.code, codes))
        key_filters.append([_language_key(c) for c in codes])
    if query.text:
        where.append(func.lower(Service.search_text).like(like_pattern(query.text), escape="\\"))
    if query.name:
        prefix = query.name.lower().replace("%", "\\%").replace("_", "\\_")
        where.append(func.lower(Service.name).like(prefix + "%", escape="\\"))
    if query.program:
        where.append(func.lower(Service.program) == query.program.lower())
    if query.ids:
        where.append(Service.id.in_(query.ids))
    if query.organization_ids:
        where.append(Service.organization_id.in_(query.organization_ids))
    if query.location_ids:
        where.append(_has(ServiceAtLocation, ServiceAtLocation.location_id, query.location_ids))
    if query.postcode:
        at_postcode = select(DirLocation.id).where(DirLocation.postal_code == query.postcode)
        where.append(
            _has(
                ServiceAtLocation, ServiceAtLocation.location_id, list(session.scalars(at_postcode))
            )
        )
    if query.accepting_referrals is not None:
        where.append(Service.accepts_electronic_referrals.is_(query.accepting_referrals))
    if query.capacity:
        where.append(Service.capacity.in_(query.capacity))
    if query.active is not None:
        where.append((Service.status == "active") if query.active else (Service.status != "active"))
    if query.modified_after is not None:
        where.append(Service.updated_at >= query.modified_after)
    if query.open_now:
        where.append(_open_now(session, now or dt.datetime.now(dt.UTC)))
    if query.within_area is not None:
        where.append(Service.id.in_(areas_holding(session, *query.within_area)))
    distance = None
    if query.latitude is not None and query.longitude is not None:
        dist = distance_sql(query.latitude, query.longitude)
        closest = (
            select(ServiceAtLocation.service_id.label("sid"), func.min(dist).label("km"))
            .where(*near_box(query.latitude, query.longitude, query.radius_km or 20000.0))
            .group_by(ServiceAtLocation.service_id)
        )
        if query.radius_km is not None:
            closest = closest.having(func.min(dist) <= query.radius_km)
        if session.get_bind().dialect.name == "postgresql":
            # Redundant with the EXISTS filters above (same data): lets PostgreSQL AND the
            # keys' GIN bitmap with the box's, instead of computing the distance for every
            # service in the box and intersecting afterwards.
            closest = closest.where(
                *(_KEYS.op("&&")(literal(keys, ARRAY(Text))) for keys in key_filters)
            )
        distance = closest.subquery()
        stmt = stmt.join(distance, distance.c.sid == Service.id)
    stmt = stmt.where(*where)
    order: list[Any] = []
    if query.sort == "distance" and distance is not None:
        order.append(distance.c.km)
    elif query.sort == "relevance" and query.text:
        like = like_pattern(query.text)
        order.append(case((func.lower(Service.name).like(like, escape="\\"), 0), else_=1))
    elif query.sort == "relevance" and distance is not None:
        order.append(distance.c.km)
    order += [Service.name, Service.id]
    # The page's ids and the total first (a window count, so the filters run once), narrow
    # enough for PostgreSQL to read the listing columns from `ix_directory_service_listing`
    # alone; then the page's 20 rows. Only a page past the end needs a separate count.
    narrow = stmt.with_only_columns(Service.id)
    found = session.execute(
        narrow.add_columns(func.count().over().label("total"))
        .order_by(*order)
        .offset((query.page - 1) * query.per_page)
        .limit(query.per_page)
    ).all()
    if found:
        total = int(found[0].total)
    elif query.page == 1:
        total = 0
    else:
        counted = select(func.count()).select_from(narrow.order_by(None).subquery())
        total = session.scalar(counted) or 0
    ids = [row.id for row in found]
    hits = [Hit(details) for details in load_details(session, *load_services(session, ids))]
    if query.latitude is not None and query.longitude is not None:
        for hit in hits:
            nearest(hit, query.latitude, query.longitude)
    return Page(hits=hits, total=total, page=query.page, per_page=query.per_page)


def nearest(hit: Hit, lat: float, lon: float) -> None:
    """Set the hit's distance and nearest location from its located sites, if any."""
    best: tuple[float, uuid.UUID] | None = None
    for _sal, loc in hit.details.locations:
        if loc.latitude is None or loc.longitude is None:
            continue
        km = haversine_km(lat, lon, loc.latitude, loc.longitude)
        if best is None or km < best[0]:
            best = (km, loc.id)
    if best is not None:
        hit.distance_km, hit.location_id = round(best[0], 3), best[1]
