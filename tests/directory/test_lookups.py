"""What the search form offers and resolves: categories, languages, known postcodes."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from directory import lookups
from directory.access import Viewer
from directory.models import Service
from tests.conftest import db_on
from tests.directory.factories import make_listing


@pytest.fixture
def db(demo_connection: Connection) -> Iterator[Session]:
    """Each test on the demo directory, written once for the module."""
    yield from db_on(demo_connection)


def test_categories_by_name(demo_directory: Session) -> None:
    names = [t.name for t in lookups.categories(demo_directory)]
    assert names == sorted(names)
    assert {"Housing", "Legal", "Case management"} <= set(names)
    assert all(not n.startswith("Housing 0") for n in names)  # types are not categories


def test_languages_offered_follow_what_the_viewer_sees(db: Session) -> None:
    sid = make_listing(db, uuid.uuid4(), languages=["zu-lookup", "en"])
    member = Viewer(member=True)
    assert {"en", "zu-lookup"} <= set(lookups.languages_offered(db, member))
    service = db.get(Service, sid)
    assert service is not None
    service.moderation = "suspended"  # hidden from members now
    db.flush()
    assert "zu-lookup" not in lookups.languages_offered(db, member)


def test_postcode_point_from_locations_then_areas(demo_directory: Session) -> None:
    lisbon = lookups.postcode_point(demo_directory, "1100-001")
    assert lisbon is not None
    assert lisbon == pytest.approx((38.7473, -9.1143), abs=0.05)
    assert lookups.postcode_point(demo_directory, " 1100-001 ") == lisbon
    assert lookups.postcode_point(demo_directory, "00000") is None
    assert lookups.postcode_point(demo_directory, "") is None
    square = [[[-9.3, 38.6], [-9.0, 38.6], [-9.0, 38.9], [-9.3, 38.9], [-9.3, 38.6]]]
    make_listing(
        demo_directory,
        uuid.uuid4(),
        locations=[],
        service_areas=[{"name": "LX-NORTH", "extent": {"type": "Polygon", "coordinates": square}}],
    )
    assert lookups.postcode_point(demo_directory, "lx-north") == pytest.approx((38.75, -9.15))
