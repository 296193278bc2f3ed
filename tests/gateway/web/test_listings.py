"""The listings console of an organisation's administrators: its listings with the daily
figures, creating and editing a listing, the quick capacity form, confirming, visibility,
another organisation's listing, the electronic endpoint and its delivery status."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Callable

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from joserfc.jwk import ECKey
from sqlalchemy import select
from sqlalchemy.orm import Session

from directory.models import DirEndpoint, Moderation, Service, ServiceVersion
from gateway.delivery.models import DeliveryAttempt, MessageState, OutgoingMessage
from kernel.audit import AuditRecord
from kernel.caller import Role
from kernel.db import utcnow
from tests.directory.factories import make_listing
from tests.gateway.staff import Account, MakeAccount, StaffClient

Signed = Callable[[Account], StaffClient]


@pytest.fixture
def admin(make_account: MakeAccount) -> Account:
    return make_account(roles=(Role.ORG_ADMIN,))


@pytest.fixture
def signed(admin: Account, staff_client: Signed) -> StaffClient:
    return staff_client(admin)


def _post(staff: StaffClient, url: str, data: dict[str, object]) -> httpx.Response:
    response: httpx.Response = staff.http.post(
        url, data={"csrf_token": staff.csrf, **data}, follow_redirects=False
    )
    return response


def _new(**fields: object) -> dict[str, object]:
    """A filled-in listing form."""
    return {
        "name": "Rooftop legal clinic",
        "description": "Free advice on asylum claims.",
        "languages": ["ar", "en"],
        "categories": [],
        "location-0-id": "",
        "location-0-address_1": "3 Rua Nova",
        "location-0-city": "Porto",
        "location-0-postal_code": "4000-001",
        "location-0-country": "PT",
        "location-0-latitude": "41.15",
        "location-0-longitude": "-8.61",
        "hours-MO-opens": "09:00",
        "hours-MO-closes": "13:00",
        "hours-TU-opens": "09:00",
        "hours-TU-closes": "13:00",
        "timezone": "Europe/Lisbon",
        "capacity": "waitlist",
        "wait_time_days": "12",
        "visibility": "public",
        "status": "active",
        "accepts_electronic_referrals": "1",
        **fields,
    }


def _public(app: FastAPI, text: str) -> list[str]:
    anonymous = TestClient(app, raise_server_exceptions=False)
    found = anonymous.get("/directory/services", params={"q": text}).json()
    return [hit["name"] for hit in found["contents"]]


def test_create_a_listing_stored_and_searchable(
    signed: StaffClient, admin: Account, app: FastAPI, db: Session
) -> None:
    make_listing(db, admin.org.id, name="Existing shelter")  # the organisation is listed
    form = signed.get("/ui/listings/new")
    assert form.status_code == 200 and "Add a listing" in form.text
    created = _post(signed, "/ui/listings/new", _new())
    assert created.status_code == 303, created.text
    service = db.scalars(select(Service).where(Service.name == "Rooftop legal clinic")).one()
    assert service.owner_organisation_id == admin.org.id
    assert service.capacity == "waitlist" and service.wait_time_days == 12
    assert service.accepts_electronic_referrals
    assert _public(app, "rooftop") == ["Rooftop legal clinic"]
    listings = signed.get(created.headers["location"])
    assert "“Rooftop legal clinic” is listed" in listings.text
    page = signed.get(f"/ui/listings/{service.id}").text
    assert 'value="3 Rua Nova"' in page and 'value="09:00"' in page
    assert "Listed" in page and "You" in page  # the history


def test_add_another_address_keeps_the_input(
    signed: StaffClient, admin: Account, db: Session
) -> None:
    make_listing(db, admin.org.id)
    again = _post(signed, "/ui/listings/new", _new(add_location="1"))
    assert again.status_code == 200
    assert 'id="location-1-address_1"' in again.text and 'value="3 Rua Nova"' in again.text


def test_bad_input_is_shown_at_the_field_with_the_input_kept(
    signed: StaffClient, admin: Account, db: Session
) -> None:
    make_listing(db, admin.org.id)
    bad = _post(
        signed,
        "/ui/listings/new",
        _new(
            name="",
            minimum_age="40",
            maximum_age="12",
            **{"hours-MO-closes": "08:00", "location-0-country": "Portugal"},
            wait_time_days="soon",
        ),
    )
    assert bad.status_code == 422
    html = bad.text
    assert "There is a problem" in html
    for field in ("name", "hours-MO-closes", "location-0-country", "wait_time_days"):
        assert f'href="#{field}"' in html, field
        assert f'id="{field}-error"' in html, field
    assert "The closing time must be after the opening time" in html
    assert 'value="soon"' in html and 'value="3 Rua Nova"' in html  # input kept
    assert db.scalars(select(Service).where(Service.name == "")).first() is None
    no_address = _post(
        signed,
        "/ui/listings/new",
        _new(**{f"location-0-{f}": "" for f in ("address_1", "city", "postal_code", "country")},
             **{"location-0-latitude": "", "location-0-longitude": ""}),
    )  # fmt: skip
    assert no_address.status_code == 422
    assert "Enter at least one address" in no_address.text


def test_edit_a_listing_keeps_what_the_form_does_not_show(
    signed: StaffClient, admin: Account, db: Session
) -> None:
    sid = make_listing(
        db, admin.org.id, name="Housing advice", types=["housing-emergency"],
        categories=["housing"], phones=[{"number": "+351 1"}, {"number": "+351 2"}],
    )  # fmt: skip
    page = signed.get(f"/ui/listings/{sid}")
    assert page.status_code == 200 and 'value="Housing advice"' in page.text
    data = _new(name="Housing advice (Lisbon)", categories=["housing"], phone="+351 9")
    data["location-0-id"] = ""
    saved = _post(signed, f"/ui/listings/{sid}/edit", data)
    assert saved.status_code == 303, saved.text
    service = db.get(Service, sid)
    assert service is not None
    db.refresh(service)
    assert service.name == "Housing advice (Lisbon)" and service.version == 2
    assert [p["number"] for p in service.phones] == ["+351 9", "+351 2"]
    versions = db.scalars(select(ServiceVersion).where(ServiceVersion.service_id == sid)).all()
    assert [v.change for v in versions] == ["create", "update"]
    assert "housing-emergency" in json.dumps(versions[-1].snapshot)  # the type is kept


def test_quick_capacity_update_is_audited_and_versioned(
    signed: StaffClient, admin: Account, db: Session
) -> None:
    sid = make_listing(db, admin.org.id, name="Night shelter", capacity="capacity")
    listings = signed.get("/ui/listings")
    assert listings.status_code == 200
    assert "Night shelter" in listings.text and "Has capacity" in listings.text
    done = _post(
        signed,
        f"/ui/listings/{sid}/capacity",
        {"capacity": "waitlist", "wait_time_days": "9", "capacity_note": "Beds free Friday"},
    )
    assert done.status_code == 303
    service = db.get(Service, sid)
    assert service is not None
    db.refresh(service)
    assert (service.capacity, service.wait_time_days, service.capacity_note) == (
        "waitlist",
        9,
        "Beds free Friday",
    )
    version = db.scalars(
        select(ServiceVersion).where(ServiceVersion.service_id == sid, ServiceVersion.version == 2)
    ).one()
    assert version.change == "capacity" and version.actor == f"user:{admin.user.id}"
    audited = db.scalars(
        select(AuditRecord).where(AuditRecord.action == "directory.service.capacity")
    ).all()
    assert any(r.subject == f"HealthcareService/{sid}" for r in audited)
    page = signed.get(done.headers["location"]).text
    assert "Capacity of “Night shelter” updated" in page and "About 9 days" in page
    bad = _post(
        signed, f"/ui/listings/{sid}/capacity", {"capacity": "plenty", "wait_time_days": "-3"}
    )
    assert bad.status_code == 422
    assert f'href="#capacity-{sid}-capacity"' in bad.text
    assert f'href="#capacity-{sid}-wait"' in bad.text and 'value="-3"' in bad.text


def test_confirm_still_current_clears_the_stale_tag(
    signed: StaffClient, admin: Account, db: Session
) -> None:
    sid = make_listing(db, admin.org.id, name="Old listing")
    service = db.get(Service, sid)
    assert service is not None
    service.confirmed_at = utcnow() - dt.timedelta(days=400)
    db.flush()
    stale = '<span class="tag tag--warn">Needs confirming</span>'
    assert stale in signed.get("/ui/listings").text
    confirmed = _post(signed, f"/ui/listings/{sid}/confirm", {})
    assert confirmed.status_code == 303
    page = signed.get(confirmed.headers["location"]).text
    assert stale not in page and "is confirmed as still current" in page


def test_network_only_and_suspended_listings_show_to_the_owner_only(
    signed: StaffClient, admin: Account, app: FastAPI, db: Session
) -> None:
    make_listing(db, admin.org.id, name="Quiet safe house", visibility="network")
    held = make_listing(db, admin.org.id, name="Held listing")
    service = db.get(Service, held)
    assert service is not None
    service.moderation, service.moderation_reason = Moderation.SUSPENDED, "Wrong address"
    db.flush()
    page = signed.get("/ui/listings").text
    assert "Quiet safe house" in page and "Network only" in page
    assert "Suspended by the hub" in page and "Wrong address" in page
    assert _public(app, "quiet safe house") == []
    # made network-only through the edit form: gone from the public API too
    sid = make_listing(db, admin.org.id, name="Open clinic")
    assert _public(app, "open clinic") == ["Open clinic"]
    data = _new(name="Open clinic", visibility="network")
    assert _post(signed, f"/ui/listings/{sid}/edit", data).status_code == 303
    assert _public(app, "open clinic") == []


def test_another_organisations_listing_is_not_found_and_unchanged(
    signed: StaffClient, make_org: Callable[..., object], db: Session
) -> None:
    other = make_listing(db, uuid.uuid4(), name="Theirs", capacity="capacity")
    db.commit()  # (within the test's transaction) a refused request rolls back its own work only
    for url in (f"/ui/listings/{other}", f"/ui/listings/{other}/edit", "/ui/listings/nonsense"):
        response = signed.get(url)
        assert response.status_code == 404 and "text/html" in response.headers["content-type"]
    posts: list[tuple[str, dict[str, object]]] = [
        (f"/ui/listings/{other}/capacity", {"capacity": "no-capacity"}),
        (f"/ui/listings/{other}/confirm", {}),
        (f"/ui/listings/{other}/edit", _new(name="Mine now")),
    ]
    for url, data in posts:
        assert _post(signed, url, data).status_code == 404, url
    service = db.get(Service, other)
    assert service is not None
    db.refresh(service)
    assert (service.name, service.capacity, service.version) == ("Theirs", "capacity", 1)
    assert "Theirs" not in signed.get("/ui/listings").text


def test_case_workers_cannot_reach_the_console(
    make_account: MakeAccount, staff_client: Signed
) -> None:
    worker = staff_client(make_account(roles=(Role.CASE_WORKER,)))
    assert worker.get("/ui/listings").status_code == 403


def test_organisation_entry_comes_first(signed: StaffClient, admin: Account, db: Session) -> None:
    page = signed.get("/ui/listings").text
    assert "Your organisation is not in the directory yet" in page
    assert _post(signed, "/ui/listings/organisation", {"name": ""}).status_code == 422
    saved = _post(
        signed, "/ui/listings/organisation", {"name": "Rooftop NGO", "visibility": "public"}
    )
    assert saved.status_code == 303
    assert "has no listings yet" in signed.get("/ui/listings").text
    assert _post(signed, "/ui/listings/new", _new()).status_code == 303


def _jwk() -> dict[str, object]:
    key = ECKey.generate_key("P-256", private=True)
    return dict(key.as_dict(private=False))


def test_endpoint_key_is_checked_at_the_field(
    signed: StaffClient, admin: Account, db: Session
) -> None:
    make_listing(db, admin.org.id, accepts_electronic_referrals=True)
    assert "Nothing delivered yet" in signed.get("/ui/listings/endpoint").text
    base = {
        "address": "https://cases.example.org/hook",
        "connection_type": "rest-hook",
        "active": "1",
    }
    private = ECKey.generate_key("P-256", private=True).as_dict(private=True)
    for key, message in (
        ("{not json", "Paste the key as JSON"),
        (json.dumps(private), "This is a private key"),
        (json.dumps({"kty": "oct", "x": "abc"}), "not a public key the hub can use"),
        ("[1, 2]", "Paste one key"),
    ):
        bad = _post(signed, "/ui/listings/endpoint", {**base, "public_jwk": key})
        assert bad.status_code == 422, key
        assert 'href="#public_jwk"' in bad.text and message in bad.text
        assert 'id="public_jwk-error"' in bad.text
    assert db.scalars(select(DirEndpoint)).first() is None or all(
        e.address != base["address"] for e in db.scalars(select(DirEndpoint))
    )
    http = _post(signed, "/ui/listings/endpoint", {**base, "address": "http://x.example"})
    assert http.status_code == 422 and 'href="#address"' in http.text
    good = _jwk()
    saved = _post(signed, "/ui/listings/endpoint", {**base, "public_jwk": json.dumps(good)})
    assert saved.status_code == 303
    endpoint = db.scalars(
        select(DirEndpoint).where(DirEndpoint.address == "https://cases.example.org/hook")
    ).one()
    assert endpoint.public_jwk == good
    assert "Your endpoint is saved" in signed.get(saved.headers["location"]).text


def test_delivery_status_figures_for_a_seeded_delivery(
    signed: StaffClient, admin: Account, db: Session
) -> None:
    make_listing(db, admin.org.id)
    now = utcnow()
    delivered = OutgoingMessage(
        kind="referral", recipient_org_id=admin.org.id, subject_ref="Task/1",
        state=MessageState.DELIVERED, delivered_at=now - dt.timedelta(hours=3),
    )  # fmt: skip
    waiting = OutgoingMessage(
        kind="referral", recipient_org_id=admin.org.id, subject_ref="Task/2",
        state=MessageState.PENDING, created_at=now - dt.timedelta(hours=1),
    )  # fmt: skip
    elsewhere = OutgoingMessage(
        kind="referral", recipient_org_id=uuid.uuid4(), subject_ref="Task/3",
        state=MessageState.PENDING,
    )  # fmt: skip
    db.add_all([delivered, waiting, elsewhere])
    db.flush()
    db.add_all(
        [
            DeliveryAttempt(
                message_id=waiting.id, channel="webhook", target="Endpoint/x",
                started_at=now - dt.timedelta(minutes=30), status_code=503, error="http-503",
                outcome="retry",
            ),
            DeliveryAttempt(
                message_id=elsewhere.id, channel="webhook", target="Endpoint/y",
                started_at=now, error="timeout", outcome="retry",
            ),
        ]
    )  # fmt: skip
    db.flush()
    html = signed.get("/ui/listings/endpoint").text
    assert "Failing" in html and "http-503" in html and "timeout" not in html
    figures = html.split('id="health-title"', 1)[1]
    assert "<dd>1</dd>" in figures  # one failed attempt; one waiting
    assert "Waiting to be delivered</dt><dd>1" in figures
