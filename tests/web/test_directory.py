"""A case worker finds a service in the browser: the search with a need, a place and a
language, the results with their reasons, and a service's page."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator

import pytest
from playwright.sync_api import BrowserContext, expect
from sqlalchemy import delete

from directory.models import DirOrganization
from gateway.runtime import Runtime
from tests.directory.factories import make_listing
from tests.web.conftest import Person, look, sign_in

LISBON = {"city": "Lisbon", "postal_code": "1100-148", "country": "PT"}


@pytest.fixture
def listings(committed: Runtime) -> Iterator[None]:
    """Three housing services around Lisbon (committed), removed afterwards."""
    owners = [uuid.uuid4() for _ in range(3)]
    common = {"categories": ["housing"], "timezone": "Europe/Lisbon"}
    hours = [{"byday": "MO,TU,WE,TH,FR", "opens_at": "09:00", "closes_at": "17:00"}]
    with committed.sessions.begin() as session:
        make_listing(
            session,
            owners[0],
            name="Casa Aberta night shelter",
            description="Beds for the night for people newly arrived, with a hot meal.",
            languages=["ar", "fa", "pt"],
            capacity="capacity",
            accepts_electronic_referrals=True,
            intake_requirements="A referral with the client's consent; ID if the client has one.",
            minimum_age=18,
            populations=["survivors-of-violence"],
            schedules=hours,
            phones=[{"number": "+351 21 000 0001", "description": "intake line"}],
            locations=[
                {
                    "name": "Casa Aberta",
                    "address_1": "12 Rua da Prata",
                    "latitude": 38.711,
                    "longitude": -9.137,
                    **LISBON,
                }
            ],
            **common,
        )
        make_listing(
            session,
            owners[1],
            name="Family housing advice",
            languages=["pt", "en"],
            capacity="waitlist",
            wait_time_days=21,
            accepts_electronic_referrals=False,
            email="advice@example.org",
            locations=[{"latitude": 38.74, "longitude": -9.15, **LISBON}],
            **common,
        )
        make_listing(
            session,
            owners[2],
            name="Women's safe house",
            languages=["ar", "en"],
            capacity="no-capacity",
            accepts_electronic_referrals=True,
            locations=[{"latitude": 38.80, "longitude": -9.20, **LISBON}],
            **common,
        )
    yield
    with committed.sessions.begin() as session:
        session.execute(
            delete(DirOrganization).where(DirOrganization.owner_organisation_id.in_(owners))
        )


def test_find_a_service_by_need_place_and_language(
    new_context: Callable[[], BrowserContext],
    hub: str,
    listings: None,
    people: Callable[..., Person],
) -> None:
    worker = people("Ana Sousa")
    context = new_context()
    page = sign_in(context, hub, worker)

    page.get_by_role("link", name="Find a service").click()
    page.get_by_label("What does the client need?").select_option(label="Housing")
    page.get_by_label("Near").fill("38.7223,-9.1393")
    page.get_by_label("Distance").select_option(label="Within 25 km")
    page.get_by_label("Language the client speaks").select_option(label="Arabic")
    page.get_by_role("button", name="Search services").click()

    results = page.locator(".result")
    expect(results.first).to_contain_text("Casa Aberta night shelter")
    expect(results.first).to_contain_text("Works in Arabic")
    expect(results.first).to_contain_text("km away")
    expect(page.get_by_text("Family housing advice")).to_have_count(0)  # no Arabic
    safe_house = results.filter(has_text="Women's safe house")
    expect(safe_house.locator(".reasons .short")).to_contain_text(["No capacity at present"])
    look(page, "services-results")

    page.get_by_role("link", name="Casa Aberta night shelter").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Casa Aberta night shelter")
    expect(page.get_by_text("Monday to Friday, 09:00 to 17:00")).to_be_visible()
    expect(page.get_by_text("12 Rua da Prata, 1100-148 Lisbon, Portugal")).to_be_visible()
    service_id = page.url.split("/ui/services/")[1].split("?")[0]
    refer = page.get_by_role("link", name="Refer a client to this service")
    expect(refer).to_have_attribute("href", f"/ui/referrals/new?service={service_id}")
    expect(page.get_by_role("link", name="Back to the search results")).to_be_visible()
    look(page, "service-page")

    page.goto(f"{hub}/ui/services?q=nothing+like+this+anywhere")
    expect(page.get_by_role("heading", name="No services match")).to_be_visible()
    look(page, "services-empty")
