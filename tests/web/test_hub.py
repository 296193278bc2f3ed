"""A hub administrator in the browser: the console's overview, approving an organisation
that applied, rejecting a listing from the moderation queue, re-running a dead letter,
verifying the audit chain, and the keys page."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest
from playwright.sync_api import BrowserContext, expect
from sqlalchemy import delete

from directory.models import DirOrganization
from gateway.auth.models import Organisation, OrgStatus, OrgType
from gateway.runtime import Runtime
from kernel import outbox
from kernel.caller import Role
from tests.directory.factories import make_listing
from tests.web.conftest import Person, look, sign_in


@dataclass
class Network:
    applicant: str
    listing: str
    letter: uuid.UUID


@pytest.fixture
def network(committed: Runtime) -> Iterator[Network]:
    """An organisation that applied, a new listing, a dead letter (committed; removed after)."""
    tag = uuid.uuid4().hex[:6]
    owner = uuid.uuid4()
    with committed.sessions.begin() as session:
        applicant = Organisation(
            name=f"Hope Bridge Association {tag}",
            org_type=OrgType.COMMUNITY_SPONSOR,
            status=OrgStatus.APPLIED,
            contact_email=f"office-{tag}@example.org",
            contact_phone="+30 210 000 0000",
        )
        session.add(applicant)
        make_listing(session, owner, name=f"Night shelter {tag}", languages=["ar", "en"])
        letter = outbox.OutboxEvent(
            task="delivery.push",
            payload={"message_id": str(uuid.uuid4())},
            state=outbox.EventState.FAILED,
            attempts=8,
            last_error="receiver-refused: http-503 from the receiver's endpoint",
        )
        session.add(letter)
        session.flush()
        made = Network(applicant.name, f"Night shelter {tag}", letter.id)
    yield made
    with committed.sessions.begin() as session:
        session.execute(
            delete(DirOrganization).where(DirOrganization.owner_organisation_id == owner)
        )
        session.execute(delete(Organisation).where(Organisation.name == made.applicant))


def test_a_hub_admin_runs_the_network_from_the_console(
    new_context: Callable[[], BrowserContext],
    hub: str,
    people: Callable[..., Person],
    network: Network,
) -> None:
    admin = people("Amal Haddad", org_name="refhub Hub Operations", roles=(Role.HUB_ADMIN,))
    page = sign_in(new_context(), hub, admin)

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Hub").click()
    expect(page.get_by_role("heading", name="Hub administration", level=1)).to_be_visible()
    look(page, "hub-console")

    page.get_by_role("link", name="organisations waiting for approval").click()
    page.get_by_role("button", name=f"Approve {network.applicant}").click()
    expect(page.get_by_text("The organisation is approved")).to_be_visible()
    expect(page.get_by_role("link", name=f"Suspend {network.applicant}")).to_be_visible()
    look(page, "hub-organisations")

    page.get_by_role("link", name="Listings to review").click()
    page.get_by_label("Listing name contains").fill(network.listing)
    page.get_by_role("button", name="Find").click()
    expect(page.get_by_text("New listing")).to_be_visible()
    look(page, "hub-moderation")
    page.get_by_role("link", name=f"Reject {network.listing}").click()
    page.get_by_role("button", name="Reject the listing").click()
    expect(page.get_by_text("Give a reason")).to_have_count(2)  # summary and field
    page.get_by_label("Reason").fill("The address does not exist; please correct it.")
    page.get_by_role("button", name="Reject the listing").click()
    expect(page.get_by_text("The listing is suspended")).to_be_visible()

    page.get_by_role("link", name="Deliveries").click()
    page.locator(f"#event-{network.letter}").check()
    page.get_by_role("button", name="Re-run the chosen dead letters").click()
    expect(page.get_by_text("1 dead letter is queued again")).to_be_visible()
    look(page, "hub-deliveries")

    page.get_by_role("link", name="Audit trail").click()
    page.get_by_role("button", name="Verify the audit chain").click()
    expect(page.get_by_text("The audit chain is intact.")).to_be_visible()
    look(page, "hub-audit")

    page.get_by_role("link", name="Keys").click()
    expect(page.get_by_text("Current KEK", exact=True)).to_be_visible()
    look(page, "hub-keys")
