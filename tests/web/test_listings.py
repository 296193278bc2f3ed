"""An organisation's administrator keeps its directory listings in the browser: the daily
capacity update seen at once in Find a service, a new listing (after a mistake the form
points out), and the electronic endpoint's public key."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator

import pytest
from joserfc.jwk import ECKey
from playwright.sync_api import BrowserContext, expect
from sqlalchemy import delete

from directory.models import DirOrganization
from gateway.runtime import Runtime
from kernel.caller import Role
from tests.directory.factories import make_listing
from tests.web.conftest import Person, look, sign_in

NAME = f"Harbour night shelter {uuid.uuid4().hex[:4]}"


@pytest.fixture
def admin(committed: Runtime, people: Callable[..., Person]) -> Iterator[Person]:
    """An org admin whose organisation lists one shelter (committed; removed afterwards)."""
    person = people("Leila Haddad", org_name="Harbour Aid", roles=(Role.ORG_ADMIN,))
    with committed.sessions.begin() as session:
        make_listing(
            session,
            person.org_id,
            name=NAME,
            capacity="capacity",
            timezone="Europe/Lisbon",
            locations=[{"address_1": "1 Cais", "city": "Lisbon", "country": "PT",
                        "latitude": 38.70, "longitude": -9.14}],
        )  # fmt: skip
    yield person
    with committed.sessions.begin() as session:
        session.execute(
            delete(DirOrganization).where(DirOrganization.owner_organisation_id == person.org_id)
        )


def test_an_org_admin_keeps_the_listings_current(
    new_context: Callable[[], BrowserContext], hub: str, admin: Person
) -> None:
    page = sign_in(new_context(), hub, admin)
    page.goto(f"{hub}/ui/listings")
    expect(page.get_by_role("heading", level=1)).to_have_text("Your listings")
    card = page.locator(".listing", has_text=NAME)
    expect(card).to_contain_text("Has capacity")
    look(page, "listings")

    card.get_by_label("Capacity", exact=True).select_option(label="Waiting list")
    card.get_by_label("Waiting time in days").fill("9")
    card.get_by_label("Short note (optional)").fill("Two beds free from Friday")
    card.get_by_role("button", name="Update capacity").click()
    expect(page.get_by_role("status")).to_contain_text(f"Capacity of “{NAME}” updated")
    expect(page.locator(".listing", has_text=NAME)).to_contain_text("About 9 days")

    page.get_by_role("link", name="Find a service").click()
    page.goto(f"{hub}/ui/services?q={NAME.replace(' ', '+')}")
    result = page.locator(".result", has_text=NAME)
    expect(result).to_contain_text("Waiting list (about 9 days)")

    page.goto(f"{hub}/ui/listings")
    page.get_by_role("link", name="Add a listing").first.click()
    page.get_by_label("Name of the service").fill("Harbour legal clinic")
    page.get_by_label("Arabic").check()
    page.get_by_label("Street and number").fill("2 Cais")
    page.get_by_label("Town or city").fill("Lisbon")
    page.get_by_label("Country code").fill("PT")
    page.locator("#hours-MO-opens").fill("13:00")
    page.locator("#hours-MO-closes").fill("09:00")  # the mistake: closes before it opens
    page.get_by_label("Capacity", exact=True).select_option(label="Has capacity")
    page.get_by_role("button", name="Add the listing").click()
    summary = page.locator(".error-summary")
    expect(summary).to_contain_text("The closing time must be after the opening time")
    expect(page.get_by_label("Street and number")).to_have_value("2 Cais")
    look(page, "listings-edit")
    page.locator("#hours-MO-opens").fill("09:00")
    page.locator("#hours-MO-closes").fill("13:00")
    page.get_by_role("button", name="Add the listing").click()
    expect(page.get_by_role("status")).to_contain_text("“Harbour legal clinic” is listed")

    page.get_by_role("link", name="Electronic referrals").click()
    page.get_by_label("Address", exact=True).fill("https://cases.harbour.example/hook")
    page.get_by_label("Webhook (the hub posts each message to this address)").check()
    key = ECKey.generate_key("P-256", private=True)
    page.get_by_label("Public encryption key").fill(json.dumps(key.as_dict(private=True)))
    page.get_by_role("button", name="Save the endpoint").click()
    expect(page.locator(".error-summary")).to_contain_text("This is a private key")
    page.get_by_label("Public encryption key").fill(json.dumps(key.as_dict(private=False)))
    page.get_by_role("button", name="Save the endpoint").click()
    expect(page.get_by_role("status")).to_contain_text("Your endpoint is saved")
    expect(page.get_by_role("heading", name="Delivery status")).to_be_visible()
    look(page, "listings-endpoint")
