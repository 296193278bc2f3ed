"""A case worker in the browser opens a client with a case, adds a case note (after a
mistake the form shows at the field), sees it on the record, and corrects it."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable

from playwright.sync_api import BrowserContext, expect

from consent import clients as consent_clients
from consent.schemas import IdentityIn
from gateway.runtime import Runtime
from gateway.workflow.models import Case
from kernel.caller import Caller, CallerKind, Role
from tests.consent.factories import ensure_kek
from tests.web.conftest import Person, look, sign_in

TEXT = (
    "Home visit with Amal and her daughter Lina. The school place is confirmed; "
    "Amal will bring the enrolment papers to the office on Monday."
)


def _client_with_case(committed: Runtime, org_id: uuid.UUID) -> uuid.UUID:
    ensure_kek()
    caller = Caller(CallerKind.SYSTEM, uuid.uuid4(), org_id, roles=frozenset({Role.CASE_WORKER}))
    with committed.sessions.begin() as session:
        client = consent_clients.register_client(
            session,
            caller,
            identity=IdentityIn.model_validate({"name": "Amal Haddad", "birth_date": "1988-04-02"}),
        )
        session.add(Case(client_id=client.id, owner_org_id=org_id, opened_by_org_id=org_id))
        return client.id


def test_add_a_case_note_and_correct_it(
    hub: str,
    new_context: Callable[[], BrowserContext],
    people: Callable[..., Person],
    committed: Runtime,
) -> None:
    worker = people("Dana Case", org_name="Northside Resettlement")
    client_id = _client_with_case(committed, worker.org_id)
    page = sign_in(new_context(), hub, worker)
    page.goto(f"{hub}/ui/clients/{client_id}")
    expect(page.get_by_role("heading", name="Case notes")).to_be_visible()

    page.get_by_role("link", name="Add a case note").click()
    yesterday = dt.date.today() - dt.timedelta(days=1)
    page.get_by_label("Day", exact=True).fill(f"{yesterday.day}/{yesterday.month}/{yesterday.year}")
    page.get_by_label("Time", exact=True).fill("14:30")
    page.get_by_label("Home visit").check()
    page.get_by_role("group", name="Did an interpreter take part?").get_by_label("Yes").check()
    page.get_by_label("Language interpreted (if an interpreter took part)").fill("Arabic")
    page.get_by_label("Length in minutes (optional)").fill("45")
    page.get_by_label("Who took part (optional)").fill("Amal, her daughter Lina, interpreter")
    look(page, "notes-form")
    page.get_by_role("button", name="Save the note").click()
    expect(page.get_by_role("alert")).to_contain_text("Write what happened")
    look(page, "notes-form-error")
    page.get_by_label("What happened").fill(TEXT)
    page.get_by_role("button", name="Save the note").click()

    expect(page.get_by_role("status")).to_contain_text("Case note saved")
    note = page.locator("article.note").first
    expect(note).to_contain_text(TEXT)
    expect(note).to_contain_text("With an interpreter (Arabic)")
    expect(note).to_contain_text("Written by Dana Case")

    page.get_by_role("link", name="Correct this note").click()
    expect(page.get_by_role("heading", name="Correct a case note")).to_be_visible()
    expect(page.get_by_label("What happened")).to_have_value(TEXT)
    page.get_by_label("What happened").fill(TEXT.replace("Monday", "Tuesday"))
    look(page, "notes-correct")
    page.get_by_role("button", name="Save the correction").click()

    expect(page.get_by_role("status")).to_contain_text("Correction saved")
    notes = page.locator("article.note")
    expect(notes).to_have_count(2)
    expect(notes.nth(0)).to_contain_text("Tuesday")
    expect(notes.nth(0)).to_contain_text("Corrects the note of")
    expect(notes.nth(1)).to_contain_text("This note was corrected")
    expect(page.get_by_role("link", name="Correct this note")).to_have_count(1)
    page.locator("#notes").scroll_into_view_if_needed()
    look(page, "notes-record")
