"""Search semantics on the real database: filters, radius and distance order, visibility."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from directory.access import Viewer
from directory.errors import BadSearchParameter
from directory.search import Query, haversine_km, search
from tests.conftest import db_on


@pytest.fixture
def db(demo_connection: Connection) -> Iterator[Session]:
    """Each test on the demo directory, written once for the module."""
    yield from db_on(demo_connection)


MEMBER = Viewer(member=True)
PUBLIC = Viewer.anonymous()
LISBON = (38.7223, -9.1393)


def _names(db: Session, viewer: Viewer = MEMBER, **kw: object) -> list[str]:
    query = Query(per_page=100, **kw)  # type: ignore[arg-type]
    return [h.details.service.name for h in search(db, viewer, query).hits]


def test_category_language_population_filters(demo_directory: Session) -> None:
    names = _names(demo_directory, categories=["housing"], languages=["ar"])
    assert names and all("shelter" in n or "Safe house" in n for n in names)
    survivors = _names(demo_directory, populations=["survivors-of-torture"])
    assert len(survivors) == 10
    assert all("orture" in n or "Trauma" in n for n in survivors)


def test_radius_and_distance_order(demo_directory: Session) -> None:
    page = search(
        demo_directory,
        MEMBER,
        Query(latitude=LISBON[0], longitude=LISBON[1], radius_km=50, sort="distance", per_page=100),
    )
    assert page.total == 16  # only the Lisbon services; Porto is ~275 km away
    distances = [h.distance_km for h in page.hits]
    assert distances == sorted(distances)  # type: ignore[type-var]
    assert all(d is not None and d <= 50 for d in distances)
    assert all("Lisbon" in h.details.service.name for h in page.hits)
    porto = search(
        demo_directory,
        MEMBER,
        Query(
            latitude=LISBON[0],
            longitude=LISBON[1],
            radius_km=300,
            categories=["legal"],
            per_page=100,
        ),
    )
    assert {h.details.service.name for h in porto.hits} >= {"Legal aid for asylum claims (Porto)"}


def test_haversine_matches_a_known_distance() -> None:
    assert haversine_km(38.7223, -9.1393, 41.1579, -8.6291) == pytest.approx(274, abs=3)


def test_public_sees_only_public_listings(demo_directory: Session) -> None:
    everyone = search(demo_directory, MEMBER, Query(per_page=100)).total
    public = search(demo_directory, PUBLIC, Query(per_page=100))
    assert public.total < everyone
    assert all(h.details.service.visibility == "public" for h in public.hits)


def test_open_now_uses_each_services_time_zone(demo_directory: Session) -> None:
    tuesday_noon_lisbon = dt.datetime(2026, 11, 24, 12, 0, tzinfo=dt.UTC)
    sunday = dt.datetime(2026, 11, 22, 12, 0, tzinfo=dt.UTC)
    q = Query(open_now=True, per_page=100)
    assert search(demo_directory, MEMBER, q, now=tuesday_noon_lisbon).total == 80
    assert search(demo_directory, MEMBER, q, now=sunday).total == 0
    # 15:30 UTC: 17:30 in Athens (closed), 16:30 in Berlin and 15:30 in Lisbon (open)
    late = dt.datetime(2026, 11, 24, 15, 30, tzinfo=dt.UTC)
    names = [h.details.service.name for h in search(demo_directory, MEMBER, q, now=late).hits]
    assert names and not any("Athens" in n or "Thessaloniki" in n for n in names)


def test_text_paging_and_capacity(demo_directory: Session) -> None:
    first = search(demo_directory, MEMBER, Query(text="shelter", per_page=2))
    assert first.total == 5 and len(first.hits) == 2 and first.pages == 3
    full = _names(demo_directory, capacity=["no-capacity"])
    assert full and all("Safe house" in n for n in full)
    accepting = search(demo_directory, MEMBER, Query(accepting_referrals=True, per_page=100))
    assert all(h.details.service.accepts_electronic_referrals for h in accepting.hits)


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        (Query(per_page=0), "per_page"),
        (Query(populations=["aliens"]), "population"),
        (Query(radius_km=5), "radius"),
        (Query(sort="distance"), "sort"),
        (Query(latitude=100, longitude=0), "near"),
    ],
)
def test_bad_parameters_name_themselves(db: Session, query: Query, parameter: str) -> None:
    with pytest.raises(BadSearchParameter) as caught:
        search(db, MEMBER, query)
    assert caught.value.parameter == parameter


def test_paging_keeps_the_total_on_every_page(demo_directory: Session) -> None:
    near_lisbon = {"latitude": LISBON[0], "longitude": LISBON[1], "radius_km": 50.0}
    everything = search(demo_directory, MEMBER, Query(per_page=100, **near_lisbon))  # type: ignore[arg-type]
    first = search(demo_directory, MEMBER, Query(per_page=5, page=1, **near_lisbon))  # type: ignore[arg-type]
    fourth = search(demo_directory, MEMBER, Query(per_page=5, page=4, **near_lisbon))  # type: ignore[arg-type]
    beyond = search(demo_directory, MEMBER, Query(per_page=5, page=9, **near_lisbon))  # type: ignore[arg-type]
    assert everything.total == first.total == fourth.total == beyond.total == 16
    assert len(first.hits) == 5
    assert len(fourth.hits) == 1
    assert beyond.hits == []
    none = search(demo_directory, MEMBER, Query(name="no such service"))
    assert none.total == 0
