"""Owners edit their listings (versioned, audited); others cannot; hub admins moderate."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from directory import service as directory_service
from directory.access import Viewer
from directory.errors import ListingNotFound, NotListingEditor, NotModerator
from directory.matching import match
from directory.schemas import MatchIn, ModerationIn, ServiceIn
from kernel import audit
from kernel.caller import Caller, CallerKind, Role
from tests.directory.factories import editor, make_listing


def test_owner_edits_create_versions_and_audit(db: Session) -> None:
    org = uuid.uuid4()
    sid = make_listing(db, org)
    body = ServiceIn(name="Renamed", categories=["housing"], languages=["en", "ar"])
    directory_service.update_service(db, editor(org), service_id=sid, body=body)
    versions = directory_service.list_versions(db, editor(org), service_id=sid)
    assert [v.version for v in versions] == [1, 2]
    assert versions[1].snapshot["name"] == "Renamed"
    db.flush()
    db.commit()  # the audit chain is written at commit (savepoint of the test transaction)
    actions = db.scalars(
        select(audit.AuditRecord.action).where(
            audit.AuditRecord.subject == f"HealthcareService/{sid}"
        )
    ).all()
    assert actions == ["directory.service.create", "directory.service.update"]


def test_other_organisations_and_case_workers_cannot_edit(db: Session) -> None:
    sid = make_listing(db, uuid.uuid4())
    body = ServiceIn(name="Hijacked")
    with pytest.raises(NotListingEditor):
        directory_service.update_service(db, editor(uuid.uuid4()), service_id=sid, body=body)
    owner = directory_service.get_service(
        db, Viewer(member=True), sid
    ).service.owner_organisation_id
    assert owner is not None
    worker = Caller(CallerKind.USER, uuid.uuid4(), owner, roles=frozenset({Role.CASE_WORKER}))
    with pytest.raises(NotListingEditor):
        directory_service.update_service(db, worker, service_id=sid, body=body)
    with pytest.raises(ListingNotFound):
        directory_service.list_versions(db, editor(uuid.uuid4()), service_id=sid)


def test_moderation_hides_a_listing_from_all_but_its_owner(db: Session) -> None:
    org = uuid.uuid4()
    sid = make_listing(db, org)
    admin = Caller(CallerKind.USER, uuid.uuid4(), uuid.uuid4(), roles=frozenset({Role.HUB_ADMIN}))
    with pytest.raises(NotModerator):
        directory_service.moderate_service(
            db, editor(org), service_id=sid, body=ModerationIn(action="suspend", reason="x")
        )
    directory_service.moderate_service(
        db, admin, service_id=sid, body=ModerationIn(action="suspend", reason="misleading")
    )
    with pytest.raises(ListingNotFound):
        directory_service.get_service(db, Viewer(member=True), sid)
    assert directory_service.get_service(db, Viewer.of(editor(org)), sid).service.id == sid


def test_matching_gives_reasons_both_ways(demo_directory: Session) -> None:
    need = MatchIn(
        needs=["mental-health"],
        languages=["fa"],
        populations=["survivors-of-torture"],
        latitude=38.7223,
        longitude=-9.1393,
        max_distance_km=20,
    )
    ranked = match(demo_directory, Viewer(member=True), need)
    assert ranked
    best = ranked[0]
    assert best.hit.details.service.name == "Trauma counselling (Lisbon)"
    met = {r.criterion for r in best.matched}
    assert {"need", "language", "distance", "population"} <= met
    assert any(r.criterion == "capacity" for r in best.fell_short)  # needs an assessment
    lgbt = next(m for m in ranked if m.hit.details.service.name.startswith("LGBTIQ+ peer"))
    short = {r.criterion: r.detail for r in lgbt.fell_short}
    assert "survivors of torture" in short["population"]
    assert "none of the client's languages" in short["language"]
    assert [m.score for m in ranked] == sorted((m.score for m in ranked), reverse=True)


def test_matching_counts_a_service_area_that_holds_the_client(db: Session) -> None:
    """An outreach service with no site, whose service area holds the client's point, is a
    match on distance; one whose area lies elsewhere falls short; a near site still counts."""
    org = uuid.uuid4()
    square = [[-9.3, 38.6], [-9.0, 38.6], [-9.0, 38.9], [-9.3, 38.9], [-9.3, 38.6]]
    far_square = [[-8.7, 41.0], [-8.5, 41.0], [-8.5, 41.2], [-8.7, 41.2], [-8.7, 41.0]]
    outreach = make_listing(
        db,
        org,
        name="Mobile legal clinic",
        categories=["legal"],
        locations=[],
        service_areas=[
            {"name": "Greater Lisbon", "extent": {"type": "Polygon", "coordinates": [square]}}
        ],
    )
    elsewhere = make_listing(
        db,
        org,
        name="Porto outreach",
        categories=["legal"],
        locations=[],
        service_areas=[
            {"name": "Porto", "extent": {"type": "Polygon", "coordinates": [far_square]}}
        ],
    )
    sited = make_listing(db, org, name="Legal advice desk", categories=["legal"])
    need = MatchIn(needs=["legal"], latitude=38.72, longitude=-9.14, max_distance_km=10)
    ranked = {m.hit.details.service.id: m for m in match(db, Viewer(member=True), need)}
    assert outreach in ranked and sited in ranked
    area_reason = {r.criterion: r for r in ranked[outreach].reasons}["distance"]
    assert area_reason.met and area_reason.detail == "serves the client's area (Greater Lisbon)"
    assert {r.criterion: r for r in ranked[sited].reasons}["distance"].detail == "0.0 km away"
    assert elsewhere not in ranked  # neither near nor covering: not a candidate
    away = match(db, Viewer(member=True), need.model_copy(update={"latitude": 40.0}))
    assert outreach not in {m.hit.details.service.id for m in away}
