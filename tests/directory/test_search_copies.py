"""The radius search reads copies on the service-at-location rows (the location's coordinates,
the service's term and language keys): they follow every write that changes the originals,
through the listing service and through the importer, also for services sharing a location."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from directory import importer
from directory import service as directory_service
from directory.access import Viewer
from directory.models import DirLocation, ServiceAtLocation, ServiceLanguage, ServiceTerm
from directory.schemas import LocationIn, ServiceIn
from directory.search import Query, search, search_keys
from directory.vocabulary import CATEGORY_SYSTEM
from tests.directory.factories import editor, make_listing

MEMBER = Viewer(member=True)
LISBON = (38.72, -9.14)
PORTO = (41.15, -8.61)


def _near(db: Session, point: tuple[float, float], **kw: Any) -> set[uuid.UUID]:
    query = Query(latitude=point[0], longitude=point[1], radius_km=25, per_page=100, **kw)
    return {hit.details.service.id for hit in search(db, MEMBER, query).hits}


def _assert_copies_match(db: Session) -> None:
    """Every service-at-location row holds its location's coordinates and its service's keys."""
    db.flush()
    db.expire_all()
    for sal, loc in db.execute(
        select(ServiceAtLocation, DirLocation).join(
            DirLocation, DirLocation.id == ServiceAtLocation.location_id
        )
    ):
        assert (sal.latitude, sal.longitude) == (loc.latitude, loc.longitude)
        terms = db.scalars(
            select(ServiceTerm.term_id).where(ServiceTerm.service_id == sal.service_id)
        )
        codes = db.scalars(
            select(ServiceLanguage.code).where(ServiceLanguage.service_id == sal.service_id)
        )
        assert sal.search_keys == search_keys(terms, codes)


def test_moving_a_shared_location_moves_every_service_at_it(db: Session) -> None:
    org = uuid.uuid4()
    place = uuid.uuid4()
    at_lisbon = [LocationIn(id=place, city="Lisbon", latitude=LISBON[0], longitude=LISBON[1])]
    first = make_listing(db, org, name="First", locations=at_lisbon)
    second = make_listing(db, org, name="Second", locations=at_lisbon)
    assert _near(db, LISBON, categories=["housing"], languages=["en"]) == {first, second}

    at_porto = [LocationIn(id=place, city="Porto", latitude=PORTO[0], longitude=PORTO[1])]
    body = ServiceIn(name="First", categories=["housing"], languages=["en"], locations=at_porto)
    directory_service.update_service(db, editor(org), service_id=first, body=body)

    _assert_copies_match(db)
    assert _near(db, PORTO, categories=["housing"], languages=["en"]) == {first, second}
    assert _near(db, LISBON) == set()


def test_new_terms_and_languages_are_searchable_within_a_radius(db: Session) -> None:
    org = uuid.uuid4()
    sid = make_listing(db, org)  # housing, en, in Lisbon
    body = ServiceIn(
        name="Now legal aid",
        categories=["legal"],
        types=["legal-asylum"],
        languages=["ar", "fa"],
        locations=[LocationIn(city="Lisbon", latitude=LISBON[0], longitude=LISBON[1])],
    )
    directory_service.update_service(db, editor(org), service_id=sid, body=body)

    _assert_copies_match(db)
    assert _near(db, LISBON, categories=["legal"], languages=["fa"]) == {sid}
    assert _near(db, LISBON, types=["legal-asylum"], languages=["ar", "xx"]) == {sid}
    assert _near(db, LISBON, categories=["housing"]) == set()
    assert _near(db, LISBON, languages=["en"]) == set()


def _document(number: int, place: uuid.UUID, point: tuple[float, float]) -> dict[str, Any]:
    sid = uuid.uuid5(place, f"service/{number}")
    org = uuid.uuid5(place, "org")
    return {
        "id": str(sid),
        "name": f"Imported {number}",
        "status": "active",
        "organization": {"id": str(org), "name": "Imported provider", "description": "-"},
        "languages": [{"id": str(uuid.uuid5(sid, "uk")), "code": "uk"}],
        "service_at_locations": [
            {
                "id": str(uuid.uuid5(sid, "sal")),
                "location_id": str(place),
                "location": {
                    "id": str(place),
                    "location_type": "physical",
                    "name": "Shared office",
                    "latitude": point[0],
                    "longitude": point[1],
                },
            }
        ],
        "attributes": [
            {
                "id": str(uuid.uuid5(sid, "food")),
                "taxonomy_term": {
                    "id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"{CATEGORY_SYSTEM}#food")),
                    "code": "food",
                    "name": "Food",
                    "description": "food",
                    "taxonomy_id": str(uuid.uuid5(uuid.NAMESPACE_URL, CATEGORY_SYSTEM)),
                    "taxonomy_detail": {
                        "id": str(uuid.uuid5(uuid.NAMESPACE_URL, CATEGORY_SYSTEM)),
                        "name": "categories",
                        "description": "categories",
                        "uri": CATEGORY_SYSTEM,
                    },
                },
            }
        ],
    }


def test_an_import_that_moves_a_shared_location_moves_every_service_at_it(db: Session) -> None:
    place = uuid.uuid4()
    docs = [_document(n, place, LISBON) for n in (1, 2)]
    report = importer.import_documents(db, "system:cli", documents=docs, source="test")
    assert (report.created, report.errors) == (2, [])
    ids = {uuid.UUID(d["id"]) for d in docs}
    assert _near(db, LISBON, categories=["food"], languages=["uk"]) == ids

    moved = _document(1, place, PORTO)  # only the first service is re-imported
    report = importer.import_documents(db, "system:cli", documents=[moved], source="test")
    assert (report.updated, report.errors) == (1, [])

    _assert_copies_match(db)
    assert _near(db, PORTO, categories=["food"], languages=["uk"]) == ids
    assert _near(db, LISBON, languages=["uk"]) == set()
