"""A case worker composes a referral in the browser: the task list, the case summary form,
the review of what is shared and withheld, and the confirmation."""

from __future__ import annotations

import uuid
from collections.abc import Callable

from playwright.sync_api import Browser, expect

from adapters import DataCategory
from consent.models import Purpose
from directory import service as directory_service
from directory.schemas import EndpointIn
from gateway.auth.models import OrgType
from gateway.runtime import Runtime
from kernel.caller import Caller, CallerKind, Role
from tests.consent.factories import grant, make_client, permit
from tests.directory.factories import editor, make_listing
from tests.web.conftest import Person, look, make_org, sign_in


def _network(committed: Runtime, sender: Person) -> tuple[uuid.UUID, uuid.UUID]:
    """A listed receiving service, and a client of the sender's with a consent for it."""
    with committed.sessions.begin() as session:
        receiver = make_org(session, "Safe Harbour Counselling", OrgType.TORTURE_SURVIVOR_SERVICE)
        service_id = make_listing(
            session, receiver.id, name="Trauma counselling", accepts_electronic_referrals=True
        )
        directory_service.set_endpoint(
            session,
            editor(receiver.id),
            body=EndpointIn(connection_type="rest-hook", address="https://safe.example/hook"),
        )
        worker = Caller(
            CallerKind.USER, uuid.uuid4(), sender.org_id, roles=frozenset({Role.CASE_WORKER})
        )
        client = make_client(session, worker, name="Amal Haddad")
        grant(
            session,
            worker,
            client,
            permit(
                org=receiver.id,
                purposes=(Purpose.REFERRAL,),
                categories=(DataCategory.IDENTITY, DataCategory.NEEDS, DataCategory.FAMILY),
            ),
        )
        return client.id, service_id


def test_compose_and_send_a_referral(
    browser: Browser, hub: str, committed: Runtime, people: Callable[..., Person]
) -> None:
    sender = people("Maria Lopez")
    client_id, service_id = _network(committed, sender)
    context = browser.new_context(bypass_csp=True)  # look() injects axe-core inline
    page = sign_in(context, hub, sender)

    page.goto(f"{hub}/ui/referrals/new?client={client_id}&service={service_id}")
    page.get_by_label("A referral").check()
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", name="New referral")).to_be_visible()
    page.get_by_role("link", name="Client's consent").click()
    page.get_by_role("button", name="Save and continue").click()
    look(page, "compose-tasks")

    page.get_by_role("link", name="Case summary").click()
    page.get_by_label("Your case reference").fill("HR-2026-7")
    page.get_by_label("Soon: within 72 hours").check()
    page.get_by_label("What the client needs help with").select_option("shelter")
    page.get_by_label("Details").fill("Temporary housing ends in 60 days")
    page.get_by_label("Given name").fill("Laila")
    page.get_by_label("Relationship to the client").select_option("wife")
    page.get_by_label("Birth date").fill("1989-13")
    page.get_by_label("Main language").select_option("prs")
    page.get_by_role("button", name="Save and continue").click()
    expect(page.get_by_role("heading", name="There is a problem")).to_be_visible()
    look(page, "compose-summary")
    page.locator("#family-0-birth").fill("1989")
    page.get_by_role("button", name="Save and continue").click()

    page.get_by_role("link", name="Check your answers").click()
    expect(page.get_by_text("Contact: withheld, not sent")).to_be_visible()
    look(page, "compose-review")
    page.get_by_role("button", name="Send referral").click()
    expect(page.get_by_role("heading", name="Referral sent")).to_be_visible()
    look(page, "compose-sent")
    context.close()
