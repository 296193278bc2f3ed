"""A case worker in the browser: finds a client, registers one, records their consent after
reading it back from the check page, and gives them their consent-page link."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable

from playwright.sync_api import BrowserContext, expect

from consent import clients as consent_clients
from consent.schemas import IdentifierIn, IdentityIn
from gateway.runtime import Runtime
from kernel.caller import Caller, CallerKind, Role
from tests.consent.factories import ensure_kek
from tests.web.conftest import Person, look, sign_in


def _caseload(committed: Runtime, org_id: uuid.UUID) -> None:
    """Two clients the organisation registered before (committed)."""
    ensure_kek()
    caller = Caller(CallerKind.SYSTEM, uuid.uuid4(), org_id, roles=frozenset({Role.CASE_WORKER}))
    with committed.sessions.begin() as session:
        for name, born, ref in (
            ("Olena Kovalenko", "1979-11-17", "N-1002"),
            ("Samir Haddad", "2014-06-30", "N-1003"),
        ):
            consent_clients.register_client(
                session,
                caller,
                identity=IdentityIn.model_validate({"name": name, "birth_date": born}),
                identifiers=[IdentifierIn(system="case-number", value=ref)],
            )


def test_register_a_client_record_consent_and_give_the_link(
    hub: str,
    new_context: Callable[[], BrowserContext],
    people: Callable[..., Person],
    committed: Runtime,
) -> None:
    worker = people("Dana Case", org_name="Northside Resettlement")
    receiver = people("Hana Harbour", org_name="Harbour Family Services")
    _caseload(committed, worker.org_id)
    context = new_context()
    page = sign_in(context, hub, worker)

    page.get_by_role("link", name="Clients", exact=True).click()
    page.get_by_label("Name or reference").fill("haddad")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_role("link", name="Samir Haddad")).to_be_visible()
    expect(page.get_by_text("Olena Kovalenko")).to_have_count(0)
    page.get_by_role("link", name="Clear the search").click()
    look(page, "clients-list")

    page.get_by_role("link", name="Register a new client").click()
    page.get_by_label("Full name").fill("Amal Haddad")
    page.get_by_label("Date of birth (optional)").fill("2/4/1988")
    page.get_by_label("Preferred language").select_option("ar")
    page.get_by_label("Phone or email (optional)").fill("+351 910 000 000")
    page.get_by_label("Reference number 1").fill("N-1001")
    look(page, "clients-register")
    page.get_by_role("button", name="Register client").click()
    expect(page.get_by_role("status")).to_contain_text("Client registered")

    page.get_by_role("link", name="Record consent").click()
    page.get_by_label("Who may receive the information?").select_option(label=receiver.org_name)
    page.get_by_label("Identity").check()
    page.get_by_label("Needs and assessment").check()
    page.get_by_label("Referral", exact=True).check()
    page.get_by_label("Until when?").fill("3/3/2027")
    page.get_by_label("The client", exact=True).check()
    page.get_by_label("Verbally, with a witness").check()
    page.get_by_label("Witness (needed for verbal consent)").fill("Rami Aziz, interpreter")
    look(page, "clients-consent-form")
    page.get_by_role("button", name="Continue").click()
    says = page.get_by_role("note", name="The consent in plain words")
    expect(says).to_contain_text(
        re.compile(
            rf"Northside Resettlement \w+ may send {receiver.org_name} your identity and "
            r"needs, for referrals, until"
        )
    )
    look(page, "clients-consent-check")
    page.get_by_role("button", name="Save consent").click()
    expect(page.get_by_role("status")).to_contain_text("Consent recorded")
    expect(page.locator(".consent .tag")).to_have_text("In force")
    look(page, "clients-record")

    page.get_by_role("link", name="Give the client their consent-page link").click()
    page.get_by_role("button", name="Create the link").click()
    expect(page.locator("p.secret")).to_have_text(re.compile(r"^\d{6}$"))
    qr = page.get_by_role("img", name="QR code of the client's consent-page link")
    expect(qr).to_be_visible()
    look(page, "clients-link")
