"""Matching: rank services for a client's needs, languages, place and population, with the
reasons each service matched or fell short, so a case manager can see why.

Candidates are the services the caller may see that are active and meet at least one need
(category or type); within the client's distance when a point is given, else anywhere.
Everything else is scored, not filtered: a near service without the client's language is
still shown, with that shortfall named.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from directory.access import Viewer
from directory.models import Capacity
from directory.schemas import MatchIn
from directory.search import Hit, Query, nearest, point_in_polygon, search
from directory.vocabulary import CATEGORY_SYSTEM, POPULATIONS, TYPE_SYSTEM

__all__ = ["Match", "Reason", "match"]

_CANDIDATES = 100
_WEIGHTS = {
    "need": 4.0,
    "language": 3.0,
    "distance": 2.0,
    "population": 3.0,
    "age": 3.0,
    "referrals": 1.0,
    "capacity": 2.0,
}


@dataclass(frozen=True)
class Reason:
    criterion: str
    met: bool
    detail: str


@dataclass
class Match:
    hit: Hit
    score: float
    reasons: list[Reason] = field(default_factory=list)

    @property
    def matched(self) -> list[Reason]:
        return [r for r in self.reasons if r.met]

    @property
    def fell_short(self) -> list[Reason]:
        return [r for r in self.reasons if not r.met]


def _reasons(hit: Hit, need: MatchIn) -> list[Reason]:
    d, s = hit.details, hit.details.service
    offered = set(d.codes(CATEGORY_SYSTEM)) | set(d.codes(TYPE_SYSTEM))
    met_needs = sorted(set(need.needs) & offered)
    missing = sorted(set(need.needs) - offered)
    out = [Reason("need", True, f"offers {', '.join(met_needs)}")]
    if missing:
        out.append(Reason("need", False, f"does not offer {', '.join(missing)}"))
    if need.languages:
        common = sorted(set(need.languages) & set(d.languages))
        if common:
            out.append(Reason("language", True, f"works in {', '.join(common)}"))
        else:
            listed = ", ".join(d.languages) or "no languages listed"
            out.append(Reason("language", False, f"none of the client's languages ({listed})"))
    if need.latitude is not None and need.longitude is not None:
        area = next(
            (a for a in d.areas if point_in_polygon(need.latitude, need.longitude, a.extent)),
            None,
        )
        if hit.distance_km is not None and hit.distance_km <= need.max_distance_km:
            out.append(Reason("distance", True, f"{hit.distance_km:.1f} km away"))
        elif area is not None:
            where = f" ({area.name})" if area.name else ""
            out.append(Reason("distance", True, f"serves the client's area{where}"))
        elif hit.distance_km is None:
            out.append(Reason("distance", False, "no located site"))
        else:
            out.append(
                Reason(
                    "distance",
                    False,
                    f"{hit.distance_km:.1f} km away, beyond {need.max_distance_km:g} km",
                )
            )
    for code in need.populations:
        label = POPULATIONS[code]
        if code in d.populations:
            out.append(Reason("population", True, f"specialised in {label}"))
        elif d.populations:
            out.append(Reason("population", False, f"not specialised in {label}"))
    if need.age is not None:
        low, high = s.minimum_age, s.maximum_age
        if (low is not None and need.age < low) or (high is not None and need.age > high):
            span = f"{low if low is not None else 0}-{high if high is not None else 'any'}"
            out.append(Reason("age", False, f"serves ages {span}"))
        elif low is not None or high is not None:
            out.append(Reason("age", True, "client's age is within the service's range"))
    if s.accepts_electronic_referrals:
        out.append(Reason("referrals", True, "accepts electronic referrals"))
    else:
        out.append(Reason("referrals", False, "no electronic referrals: contact directly"))
    if s.capacity == Capacity.CAPACITY:
        out.append(Reason("capacity", True, "has capacity"))
    elif s.capacity == Capacity.NO_CAPACITY:
        out.append(Reason("capacity", False, "no capacity at present"))
    elif s.capacity == Capacity.WAITLIST:
        wait = f" (about {s.wait_time_days} days)" if s.wait_time_days is not None else ""
        out.append(Reason("capacity", False, f"waiting list{wait}"))
    elif s.capacity == Capacity.ASSESSMENT:
        out.append(Reason("capacity", False, "needs an additional assessment first"))
    return out


def _score(reasons: list[Reason], need: MatchIn, hit: Hit) -> float:
    score = 0.0
    for reason in reasons:
        weight = _WEIGHTS[reason.criterion]
        score += weight if reason.met else -weight / 2
    if hit.distance_km is not None:  # nearer is better, gently
        score -= min(hit.distance_km / need.max_distance_km, 2.0)
    return round(score, 3)


def match(session: Session, viewer: Viewer, need: MatchIn) -> list[Match]:
    """Services ranked best first, each with its reasons."""
    hits: dict[object, Hit] = {}
    point = (
        (need.latitude, need.longitude)
        if need.latitude is not None and need.longitude is not None
        else None
    )
    # A need code may be a category or a type: search both ways, merge. With a point:
    # services with a site near it, then those whose service area holds it (an outreach
    # service may have no site at all).
    for ways in ("near", "area") if point else ("any",):
        for query in (Query(categories=need.needs), Query(types=need.needs)):
            query.active = True
            query.per_page = _CANDIDATES
            if point and ways == "near":
                query.latitude, query.longitude = point
                query.radius_km = need.max_distance_km * 2
                query.sort = "distance"
            elif point:
                query.within_area = point
            for hit in search(session, viewer, query).hits:
                if point and ways == "area":
                    nearest(hit, *point)
                hits.setdefault(hit.details.service.id, hit)
    ranked = []
    for hit in hits.values():
        reasons = _reasons(hit, need)
        ranked.append(Match(hit=hit, score=_score(reasons, need, hit), reasons=reasons))
    ranked.sort(key=lambda m: (-m.score, m.hit.distance_km or 0.0, m.hit.details.service.name))
    return ranked[: need.limit]
