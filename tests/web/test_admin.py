"""The organisation administrator's console in the browser: the landing page, inviting a
person (the temporary password on the confirmation page), registering a system client
with a pasted JWKS, and saving the workflow times. Each main screen passes look()."""

from __future__ import annotations

import json
from collections.abc import Callable

from joserfc.jwk import ECKey
from playwright.sync_api import BrowserContext, expect

from kernel.caller import Role
from tests.web.conftest import Person, look, sign_in


def test_an_org_admin_invites_a_person_registers_a_system_and_sets_times(
    new_context: Callable[[], BrowserContext], hub: str, people: Callable[..., Person]
) -> None:
    admin = people("Layla Haddad", org_name="Eastside Family Services", roles=(Role.ORG_ADMIN,))
    people("Omar Nasser", roles=(Role.CASE_WORKER, Role.SUPERVISOR), org_id=admin.org_id)
    page = sign_in(new_context(), hub, admin)

    page.get_by_role("link", name="Organisation", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Organisation administration")
    look(page, "admin-console")

    page.get_by_role("link", name="Invite a person").first.click()
    page.get_by_label("Full name").fill("Rania Saleh")
    page.get_by_label("Work email address").fill("rania.saleh@eastside.example.org")
    page.get_by_label("Supervisor").check()
    page.get_by_label("Team (optional)").fill("Intake")
    page.get_by_role("button", name="Create the account").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Account created")
    expect(page.get_by_text("shown only this once")).to_be_visible()
    look(page, "admin-person-created")

    page.get_by_role("link", name="Back to people").click()
    expect(page.get_by_role("link", name="Rania Saleh")).to_be_visible()
    look(page, "admin-people")
    page.get_by_role("link", name="Rania Saleh").click()
    expect(page.get_by_role("heading", name="Roles and team")).to_be_visible()
    look(page, "admin-person")
    page.get_by_role("link", name="Back to people").click()

    page.get_by_role("navigation", name="Organisation administration").get_by_role(
        "link", name="System clients"
    ).click()
    page.get_by_role("link", name="Register a system client").click()
    page.get_by_label("Name of the system").fill("Case manager (production)")
    page.get_by_label("Follow and answer referrals").check()
    key = ECKey.generate_key("P-384", parameters={"kid": "eastside-2026"})
    page.get_by_label("Public keys (JWKS)").fill(
        json.dumps({"keys": [key.as_dict(private=False)]}, indent=2)
    )
    page.get_by_role("button", name="Register the system client").click()
    expect(page.get_by_role("status")).to_contain_text("The system client is registered")
    expect(page.get_by_text("eastside-2026", exact=True)).to_be_visible()
    look(page, "admin-client")

    page.goto(f"{hub}/ui/admin/thresholds")
    page.get_by_label("Time to answer a new referral").fill("-4")
    page.get_by_role("button", name="Save workflow times").click()
    expect(page.get_by_role("alert")).to_contain_text("Enter a whole number of hours")
    page.get_by_label("Time to answer a new referral").fill("48")
    page.get_by_label("Time to first contact after a handover").fill("3")
    page.get_by_role("button", name="Save workflow times").click()
    expect(page.get_by_role("status")).to_contain_text("Workflow times saved.")
    look(page, "admin-thresholds")


def test_an_org_admin_sets_the_case_planning_rules(
    new_context: Callable[[], BrowserContext], hub: str, people: Callable[..., Person]
) -> None:
    admin = people("Layla Haddad", org_name="Westside Family Services", roles=(Role.ORG_ADMIN,))
    page = sign_in(new_context(), hub, admin)
    page.goto(f"{hub}/ui/admin")
    page.get_by_role("link", name="Set the case planning rules").click()
    expect(page.get_by_label("Review plans every")).to_have_value("90")
    page.get_by_label("Review plans every").fill("3")
    page.get_by_role("button", name="Save case planning rules").click()
    expect(page.get_by_role("alert")).to_contain_text("from 7 to 365")
    page.get_by_label("Review plans every").fill("30")
    page.get_by_role("group", name="Must every goal have a target date?").get_by_label("No").check()
    page.get_by_role("button", name="Save case planning rules").click()
    expect(page.get_by_role("status")).to_contain_text("Case planning rules saved.")
    expect(page.get_by_label("Review plans every")).to_have_value("30")
    look(page, "admin-planning")
