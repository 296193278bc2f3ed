"""A supervisor in the browser works through the review queue: returns an assessment
without saying why (the page asks for comments at the field), then with comments, and
approves a closure; the queue empties."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from playwright.sync_api import BrowserContext, expect

from gateway.auth.models import OrgType, User
from gateway.runtime import Runtime
from gateway.workflow.casework import assessments, supervision
from gateway.workflow.casework.qa_schemas import Subject
from gateway.workflow.models import Case
from kernel.caller import Caller, CallerKind, Role
from tests.consent.factories import make_client
from tests.web.conftest import Person, look, make_org, make_person, sign_in


@dataclass(frozen=True)
class Queue:
    supervisor: Person
    assessment_case: uuid.UUID


@pytest.fixture
def queue(committed: Runtime) -> Queue:
    """A worker (Nadia) asked for review of Amal's assessment, then of closing Omar's case."""
    with committed.sessions.begin() as session:
        org = make_org(session, "Harbour Resettlement", OrgType.RESETTLEMENT_NGO)
        boss = make_person(session, org, "Leila Mansour", (Role.SUPERVISOR,))
        nadia = make_person(session, org, "Nadia Haddad", (Role.CASE_WORKER,))
        user = session.query(User).filter_by(email=nadia.email).one()
        worker = Caller(CallerKind.USER, user.id, org.id, roles=frozenset({Role.CASE_WORKER}))
        cases = []
        for name in ("Amal Haddad", "Omar Said"):
            client = make_client(session, worker, name=name)
            case = Case(client_id=client.id, owner_org_id=org.id, opened_by_org_id=org.id)
            session.add(case)
            session.flush()
            cases.append(case.id)
        assessments.record_assessment(
            session,
            worker,
            cases[0],
            assessments.AssessmentIn.model_validate(
                {
                    "assessed_on": str(dt.date.today()),
                    "domains": {"housing": {"needs": [{"text": "A flat for five"}]}},
                }
            ),
        )
        supervision.request_review(session, worker, cases[0], Subject.ASSESSMENT)
        supervision.request_review(session, worker, cases[1], Subject.CLOSURE)
        return Queue(boss, cases[0])


def test_a_supervisor_returns_and_approves_work_from_the_queue(
    new_context: Callable[[], BrowserContext], hub: str, queue: Queue
) -> None:
    page = sign_in(new_context(), hub, queue.supervisor)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Team").click()
    page.get_by_role("link", name="Review requests").click()
    expect(page.get_by_role("heading", name="Review requests", level=1)).to_be_visible()
    first = page.get_by_role("region", name="Assessment: Amal Haddad")
    expect(first.get_by_text("Asked by Nadia Haddad")).to_be_visible()
    expect(first.get_by_role("link", name="Open the assessment")).to_have_attribute(
        "href", f"/ui/cases/{queue.assessment_case}/assessment"
    )
    look(page, "supervision-queue")

    first.get_by_label("Return for changes").check()
    first.get_by_role("button", name="Record decision").click()
    expect(page.get_by_role("alert")).to_contain_text("Say what to change")
    first = page.get_by_role("region", name="Assessment: Amal Haddad")
    expect(first.get_by_label("Return for changes")).to_be_checked()
    look(page, "supervision-queue-error")
    first.get_by_label("Comments for the case worker").fill("Add the school needs of the kids.")
    first.get_by_role("button", name="Record decision").click()
    expect(page.get_by_role("status")).to_contain_text("Returned with your comments")
    expect(page.get_by_role("region", name="Assessment: Amal Haddad")).to_have_count(0)

    closing = page.get_by_role("region", name="Closing the case: Omar Said")
    closing.get_by_label("Approve").check()
    closing.get_by_role("button", name="Record decision").click()
    expect(page.get_by_role("status")).to_contain_text("Approved")
    expect(page.get_by_text("Nobody is waiting for a review.")).to_be_visible()
