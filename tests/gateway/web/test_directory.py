"""Find a service and a service's page, as a signed-in case worker sees them."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterator

import pytest
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from directory import demo
from directory.models import Service
from gateway.runtime import Runtime
from tests.conftest import db_on, shared_data
from tests.directory.factories import make_listing
from tests.gateway.staff import MakeAccount, StaffClient

Signed = Callable[..., StaffClient]


@pytest.fixture(scope="module")
def demo_directory(runtime: Runtime) -> Iterator[Connection]:
    with shared_data(runtime, lambda session: demo.load(session, None)) as connection:
        yield connection


@pytest.fixture
def db(demo_directory: Connection) -> Iterator[Session]:
    """Each test on the demo directory, loaded once for the module."""
    yield from db_on(demo_directory)


@pytest.fixture
def worker(db: Session, make_account: MakeAccount, staff_client: Signed) -> StaffClient:
    return staff_client(make_account())


def _names(html: str) -> list[str]:
    return re.findall(r'<h3><a href="/ui/services/[0-9a-f-]+(?:\?[^"]*)?">([^<]+)</a></h3>', html)


def _reasons(html: str, name: str) -> str:
    """The reasons list of the result named `name`."""
    start = html.index(f">{name}</a></h3>")
    end = html.find("</li>\n  \n", start)
    block = html[start : end if end > 0 else None]
    found = re.search(r'<ul class="reasons".*?</ul>', block, re.S)
    return found.group(0) if found else ""


def test_anonymous_visitor_is_sent_to_sign_in(worker: StaffClient) -> None:
    worker.http.cookies.clear()
    response = worker.http.get("/ui/services", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/ui/login"


def test_form_offers_categories_languages_and_groups_by_label(worker: StaffClient) -> None:
    html = worker.get("/ui/services").text
    assert '<option value="case-management">Case management</option>' in html
    assert ">Arabic</option>" in html and ">Dari</option>" in html
    assert ">Unaccompanied or separated minors</option>" in html
    assert "Street addresses cannot be looked up yet" in html  # the place hint says so
    assert len(_names(html)) == 20  # every service, paged
    assert "Page 1 of" in html and 'rel="next"' in html


def test_filters_narrow_the_list(worker: StaffClient) -> None:
    html = worker.get(
        "/ui/services",
        params={"place": "1100-001", "radius": "10", "language": "fa", "accepting": "1"},
    ).text
    names = _names(html)
    assert names, html
    assert all("(Lisbon)" in n for n in names)  # 1100-001 is Lisbon's postcode; Porto is far
    assert "Emergency shelter (Lisbon)" in names  # Farsi, takes electronic referrals
    assert "Trauma counselling (Lisbon)" in names
    assert "Employment coaching (Lisbon)" not in names  # no Farsi
    assert "km away" in html
    assert 'value="1100-001"' in html  # the form keeps what was typed
    assert 'name="accepting" value="1" checked' in html
    waitlist = _names(
        worker.get("/ui/services", params={"capacity": "waitlist", "q": "legal"}).text
    )
    assert waitlist and all(n.startswith("Legal aid") for n in waitlist)
    assert (
        "Waiting list (about 21 days)"
        in worker.get("/ui/services", params={"capacity": "waitlist", "q": "legal"}).text
    )


def test_a_need_ranks_matches_with_their_reasons(worker: StaffClient) -> None:
    html = worker.get(
        "/ui/services",
        params={"need": "housing", "place": "38.7223,-9.1393", "radius": "25", "language": "ar"},
    ).text
    names = _names(html)
    assert names[0].endswith("(Lisbon)"), names
    assert all("(Lisbon)" in n for n in names)  # within 25 km only
    assert "Best match first" in html
    shelter = _reasons(html, "Emergency shelter (Lisbon)")
    assert '<li class="met"><span class="visually-hidden">Meets: </span>Offers housing</li>' in (
        shelter
    )
    assert "Works in Arabic" in shelter
    assert re.search(r'class="met">.*?\d+(\.\d)? km away', shelter)
    assert "Has capacity" in shelter
    safe_house = _reasons(html, "Safe house for women and girls (Lisbon)")
    assert '<li class="short"><span class="visually-hidden">Falls short: </span>No capacity' in (
        safe_house
    )
    # No raw codes anywhere a person reads.
    assert "no-capacity" not in html.replace('value="no-capacity"', "")
    assert ">ar<" not in html and "works in ar" not in html


def test_a_population_shortfall_is_named(worker: StaffClient) -> None:
    html = worker.get(
        "/ui/services", params={"need": "mental-health", "population": "lgbtiq", "place": "10115"}
    ).text
    names = _names(html)
    assert names == ["LGBTIQ+ peer support (Berlin)"]  # the filter keeps only the specialised
    assert "Specialised in LGBTIQ+ people" in html


def test_a_service_found_by_a_search_leads_back_to_it(worker: StaffClient) -> None:
    html = worker.get("/ui/services", params={"need": "legal", "language": "fr"}).text
    link = re.search(r'<h3><a href="(/ui/services/[^"]+)">', html)
    assert link, html
    page = worker.get(link.group(1).replace("&amp;", "&")).text
    back = re.search(r'<a class="back" href="([^"]+)">Back to the search results</a>', page)
    assert back, page
    again = worker.get(back.group(1).replace("&amp;", "&")).text
    assert '<option value="legal" selected>' in again
    assert _names(again) == _names(html)


def test_nothing_matching_says_what_to_try(worker: StaffClient) -> None:
    html = worker.get("/ui/services", params={"q": "no such service anywhere"}).text
    assert "No services match" in html
    assert "Try a wider distance or fewer filters." in html
    assert _names(html) == []


@pytest.mark.parametrize(
    ("place", "message"),
    [
        ("99999-XYZ", "We do not know this postcode"),
        ("91,200", "Enter a latitude between -90 and 90"),
        ("38.7,", "Enter the latitude and longitude as two numbers"),
    ],
)
def test_a_bad_place_is_shown_at_the_field(worker: StaffClient, place: str, message: str) -> None:
    for need in ("", "housing"):
        response = worker.get("/ui/services", params={"place": place, "need": need})
        html = response.text
        assert response.status_code == 200
        summary = re.search(r'<div class="error-summary".*?</div>', html, re.S)
        assert summary and '<a href="#place">' + message in summary.group(0)
        assert '<span class="error-message" id="place-error">' in html
        field = html[html.index('id="place-error"') : html.index('id="place"')]
        assert message in field
        assert f'value="{place}"' in html  # kept as typed
        assert _names(html) == []


def test_a_postcode_named_by_a_service_area_is_known(
    db: Session, worker: StaffClient, make_account: MakeAccount
) -> None:
    org = uuid.uuid4()
    square = [[[-9.3, 38.6], [-9.0, 38.6], [-9.0, 38.9], [-9.3, 38.9], [-9.3, 38.6]]]
    make_listing(
        db,
        org,
        name="Outreach legal clinic",
        categories=["legal"],
        locations=[],
        service_areas=[{"name": "LX-NORTH", "extent": {"type": "Polygon", "coordinates": square}}],
    )
    html = worker.get("/ui/services", params={"need": "legal", "place": "LX-NORTH"}).text
    assert "Outreach legal clinic" in _names(html)
    assert "Serves the area this place is in" in _reasons(html, "Outreach legal clinic")


def test_the_service_page(db: Session, worker: StaffClient) -> None:
    org = uuid.uuid4()
    sid = make_listing(
        db,
        org,
        name="Night shelter",
        description="Beds for the night.",
        languages=["ar", "fr"],
        populations=["older-people"],
        minimum_age=18,
        capacity="waitlist",
        wait_time_days=14,
        accepts_electronic_referrals=True,
        intake_requirements="Photo ID if the client has one.",
        required_documents=["Residence permit"],
        phones=[{"number": "+351 21 000 0000", "description": "intake line"}],
        schedules=[{"byday": "MO,TU,WE,TH,FR", "opens_at": "09:00", "closes_at": "17:00"}],
        timezone="Europe/Lisbon",
        locations=[
            {
                "name": "Main site",
                "address_1": "1 Rua Augusta",
                "city": "Lisbon",
                "postal_code": "1100-048",
                "country": "PT",
                "latitude": 38.71,
                "longitude": -9.14,
            }
        ],
    )
    html = worker.get(f"/ui/services/{sid}").text
    for shown in (
        "Night shelter",
        "Beds for the night.",
        "Photo ID if the client has one.",
        "Residence permit",
        "Aged 18 and over",
        "Older people",
        "Monday to Friday, 09:00 to 17:00",
        "Portugal",
        "Arabic, French",
        "Waiting list (about 14 days)",
        "1 Rua Augusta, 1100-048 Lisbon, Portugal",
        "+351 21 000 0000",
        "Takes electronic referrals",
    ):
        assert shown in html, shown
    assert f'href="/ui/referrals/new?service={sid}">Refer a client to this service</a>' in html
    demo_page = worker.get(f"/ui/services/{demo._id('service', 0, 0)}").text
    assert "<dd>Housing</dd>" in demo_page  # categories only, not the finer types


def test_without_electronic_referrals_the_page_says_how_to_contact(
    db: Session, worker: StaffClient
) -> None:
    sid = make_listing(
        db,
        uuid.uuid4(),
        name="Walk-in clinic",
        accepts_electronic_referrals=False,
        email="clinic@example.org",
    )
    html = worker.get(f"/ui/services/{sid}").text
    assert "This service does not take electronic referrals. Contact it directly:" in html
    assert 'href="mailto:clinic@example.org"' in html
    assert "Refer a client to this service" not in html


def test_a_listing_the_caller_may_not_see_is_not_found(db: Session, worker: StaffClient) -> None:
    sid = make_listing(db, uuid.uuid4(), name="Suspended listing")
    service = db.get(Service, sid)
    assert service is not None
    service.moderation = "suspended"
    db.flush()
    for url in (f"/ui/services/{sid}", f"/ui/services/{uuid.uuid4()}", "/ui/services/nonsense"):
        response = worker.get(url)
        assert response.status_code == 404, url
        assert "Service not found" in response.text
        assert "Suspended listing" not in response.text
    assert "Suspended listing" not in worker.get("/ui/services", params={"q": "Suspended"}).text


def test_a_javascript_website_is_not_a_link(db: Session, worker: StaffClient) -> None:
    sid = make_listing(db, uuid.uuid4(), name="Odd listing", url="javascript:alert(1)")
    html = worker.get(f"/ui/services/{sid}").text
    assert 'href="javascript:' not in html
