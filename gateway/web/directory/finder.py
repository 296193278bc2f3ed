"""The "Find a service" form: its fields as typed, parsed into the directory's search `Query`
or matching `MatchIn`, run through `directory.search` / `directory.matching`.

With a need chosen the list comes from matching (best match first, each service with the
reasons it matched or fell short); every other filter narrows it as the search API's filters
do (a search restricted to the matched services), and a chosen distance keeps only those
matching says are near enough (a site within it, or a service area holding the place).
Without a need it is the search API's list, nearest first when a place is given.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError
from sqlalchemy.orm import Session

from directory import lookups as directory_lookups
from directory import matching as directory_matching
from directory import search as directory_search
from directory.access import Viewer
from directory.errors import BadSearchParameter
from directory.models import Capacity
from directory.schemas import MatchIn

__all__ = ["PER_PAGE", "RADII", "Found", "SearchForm", "find"]

PER_PAGE = 20
#: Distances offered, km ("" = any distance).
RADII = ("5", "10", "25", "50", "100", "")
_POINT = re.compile(r"^\s*([+-]?\d+(?:\.\d+)?)\s*,\s*([+-]?\d+(?:\.\d+)?)\s*$")
#: The furthest a match looks when no distance is chosen (MatchIn's ceiling).
_ANY_KM = 1000.0
#: Which form field a search or match parameter belongs to.
_FIELDS = {
    "near": "place",
    "latitude": "place",
    "longitude": "place",
    "radius": "radius",
    "max_distance_km": "radius",
    "population": "population",
    "populations": "population",
    "languages": "language",
    "capacity": "capacity",
    "needs": "need",
    "page": "",
}


@dataclass
class SearchForm:
    """The form's values as the person typed them (re-shown as they are)."""

    need: str = ""
    population: str = ""
    language: str = ""
    place: str = ""
    radius: str = "25"
    accepting: bool = False
    capacity: list[str] = field(default_factory=list)
    open_now: bool = False
    q: str = ""
    page: int = 1

    @property
    def asked(self) -> bool:
        """Whether any filter is set (an empty form lists every service)."""
        return bool(
            self.need
            or self.population
            or self.language
            or self.place
            or self.accepting
            or self.capacity
            or self.open_now
            or self.q
        )


@dataclass
class Found:
    """One page of results: search hits, or matches with their reasons."""

    hits: list[directory_search.Hit]
    reasons: dict[Any, list[directory_matching.Reason]]
    total: int
    page: int
    radius_km: float | None
    errors: list[tuple[str, str]] = field(default_factory=list)

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / PER_PAGE))


def _problem(field_name: str, code: str) -> Found:
    return Found([], {}, 0, 1, None, errors=[(field_name, code)])


def _field_of(parameter: str) -> tuple[str, str]:
    """The form field a directory parameter belongs to, and the error code for it."""
    name = _FIELDS.get(parameter, "")
    return name, name or parameter


def _point(session: Session, place: str) -> tuple[float, float] | str:
    """The place as a point, or the error code for the place field."""
    found = _POINT.match(place)
    if found:
        return float(found.group(1)), float(found.group(2))
    if "," in place and re.search(r"\d", place) and not re.search(r"[a-zA-Z]", place):
        return "bad-point"
    point = directory_lookups.postcode_point(session, place)
    return point if point is not None else "unknown-postcode"


def find(session: Session, viewer: Viewer, form: SearchForm) -> Found:
    """Run the form; a value the directory cannot use comes back as (field, code) errors."""
    point: tuple[float, float] | None = None
    if form.place.strip():
        resolved = _point(session, form.place)
        if isinstance(resolved, str):
            return _problem("place", resolved)
        point = resolved
    radius = float(form.radius) if form.radius in RADII and form.radius else None
    if form.need:
        return _matched(session, viewer, form, point, radius)
    query = _query(form, point, radius)
    query.page, query.per_page = form.page, PER_PAGE
    query.sort = "distance" if point else "relevance"
    try:
        page = directory_search.search(session, viewer, query)
    except BadSearchParameter as exc:
        return _problem(*_field_of(exc.parameter))
    return Found(page.hits, {}, page.total, page.page, radius)


def _query(
    form: SearchForm, point: tuple[float, float] | None, radius: float | None
) -> directory_search.Query:
    query = directory_search.Query(
        populations=[form.population] if form.population else [],
        languages=[form.language] if form.language else [],
        text=form.q.strip() or None,
        open_now=form.open_now,
        accepting_referrals=True if form.accepting else None,
        capacity=list(form.capacity),
        active=True,
    )
    if point is not None:
        query.latitude, query.longitude = point
        query.radius_km = radius
    return query


def _matched(
    session: Session,
    viewer: Viewer,
    form: SearchForm,
    point: tuple[float, float] | None,
    radius: float | None,
) -> Found:
    try:
        need = MatchIn(
            needs=[form.need],
            languages=[form.language] if form.language else [],
            populations=[form.population] if form.population else [],
            latitude=point[0] if point else None,
            longitude=point[1] if point else None,
            max_distance_km=radius or _ANY_KM,
            limit=100,
        )
    except ValidationError as exc:
        loc = exc.errors()[0]["loc"]
        return _problem(*_field_of(str(loc[0]) if loc else "latitude"))
    matches = directory_matching.match(session, viewer, need)
    if point is not None and radius is not None:
        matches = [m for m in matches if all(r.met for r in m.reasons if r.criterion == "distance")]
    # The other filters, as the search API applies them, on the matched services only.
    narrowing = _query(form, None, None)
    narrowing.ids = [m.hit.details.service.id for m in matches]
    narrowing.per_page = directory_search.MAX_PER_PAGE
    try:
        kept = (
            {h.details.service.id for h in directory_search.search(session, viewer, narrowing).hits}
            if narrowing.ids
            else set()
        )
    except BadSearchParameter as exc:
        return _problem(*_field_of(exc.parameter))
    matches = [m for m in matches if m.hit.details.service.id in kept]
    pages = max(1, math.ceil(len(matches) / PER_PAGE))
    page_no = min(form.page, pages)
    shown = matches[(page_no - 1) * PER_PAGE : page_no * PER_PAGE]
    return Found(
        [m.hit for m in shown],
        {m.hit.details.service.id: m.reasons for m in shown},
        len(matches),
        page_no,
        radius,
    )


def capacity_codes() -> list[str]:
    return [c.value for c in Capacity]
