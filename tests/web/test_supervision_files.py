"""A supervisor in the browser opens "Case files": sees which checks the team's files fail
and which plan is overdue for review, draws last month's sample, opens the sampled file,
is asked for findings at the field, records them and marks the review done; drawing the
month again shows the same file."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from playwright.sync_api import BrowserContext, expect

from consent.models import Purpose
from gateway.auth.models import OrgType, User
from gateway.runtime import Runtime
from gateway.workflow.casework import assessments, file_review, goals, planning, plans
from gateway.workflow.casework import supervision as supervision_service
from gateway.workflow.casework.qa_schemas import Subject
from gateway.workflow.casework.schemas import GoalIn, PlanIn
from gateway.workflow.models import Case
from kernel.caller import Caller, CallerKind, Role
from kernel.db import utcnow
from tests.consent.factories import grant, make_client, permit
from tests.web.conftest import Person, look, make_org, make_person, sign_in


def _last_month() -> tuple[str, dt.datetime]:
    last = utcnow().date().replace(day=1) - dt.timedelta(days=1)
    opened = dt.datetime(last.year, last.month, 3, 9, 30, tzinfo=dt.UTC)
    return last.strftime("%Y-%m"), opened


@dataclass(frozen=True)
class Files:
    supervisor: Person
    amal_case: uuid.UUID


@pytest.fixture
def files(committed: Runtime) -> Files:
    """Nadia opened Amal's case last month: an assessment and a housing goal, but the plan
    review is five days late and no note links to the goal. Omar's case, opened today, has
    no assessment, no plan and no consent. The hub checked both; Nadia asked for review."""
    _period, opened = _last_month()
    with committed.sessions.begin() as session:
        org = make_org(session, "Harbour Resettlement", OrgType.RESETTLEMENT_NGO)
        boss = make_person(session, org, "Leila Mansour", (Role.SUPERVISOR,))
        nadia = make_person(session, org, "Nadia Haddad", (Role.CASE_WORKER,))
        user = session.query(User).filter_by(email=nadia.email).one()
        worker = Caller(CallerKind.USER, user.id, org.id, roles=frozenset({Role.CASE_WORKER}))
        ids = []
        for name in ("Amal Haddad", "Omar Said"):
            client = make_client(session, worker, name=name)
            case = Case(client_id=client.id, owner_org_id=org.id, opened_by_org_id=org.id)
            if name == "Amal Haddad":  # the one case held last month: the sample
                case.opened_at = opened
            session.add(case)
            session.flush()
            ids.append(case.id)
            if name == "Amal Haddad":
                grant(
                    session,
                    worker,
                    client,
                    permit(org=org.id, purposes=(Purpose.SERVICE_COORDINATION,)),
                )
        assessed = assessments.record_assessment(
            session,
            worker,
            ids[0],
            assessments.AssessmentIn.model_validate(
                {
                    "assessed_on": str(opened.date()),
                    "domains": {"housing": {"needs": [{"text": "A flat for five"}]}},
                }
            ),
        )
        need = assessed.domains["housing"].needs[0].id
        plans.put_plan(session, worker, ids[0], PlanIn())
        goals.add_goal(
            session,
            worker,
            ids[0],
            GoalIn(
                domain="housing",
                target_on=opened.date() + dt.timedelta(days=120),
                family_words="A flat of our own",
                addresses=[need],
            ),
        )
        plan = planning.plan_of_case(session, ids[0])
        assert plan is not None
        plan.next_review_on = utcnow().date() - dt.timedelta(days=5)
        supervision_service.request_review(session, worker, ids[0], Subject.ASSESSMENT)
        session.flush()
        assert file_review.run_for_organisation(session, org.id) == 2
        return Files(boss, ids[0])


def test_a_supervisor_reviews_last_months_sample(
    new_context: Callable[[], BrowserContext], hub: str, files: Files
) -> None:
    period, _opened = _last_month()
    page = sign_in(new_context(), hub, files.supervisor)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Team").click()
    page.get_by_role("link", name="Case files").click()
    expect(page.get_by_role("heading", name="Case files", level=1)).to_be_visible()

    checks = page.get_by_role("table", name="Open case files failing each check")
    expect(checks.get_by_role("row").filter(has_text="Assessment recorded")).to_contain_text("1")
    expect(checks.get_by_role("row").filter(has_text="Consent in force")).to_contain_text("1")
    overdue = page.get_by_role("region", name="Plans overdue for review")
    expect(overdue.get_by_role("row").filter(has_text="Amal Haddad")).to_contain_text("5")
    expect(overdue.get_by_role("link", name="Open the plan's reviews")).to_have_attribute(
        "href", f"/ui/cases/{files.amal_case}#reviews"
    )
    expect(page.get_by_role("link", name="review requests waiting for you")).to_contain_text("1")
    expect(page.get_by_label("Month to sample")).to_have_value(period)

    page.get_by_role("button", name="Draw the sample").click()
    expect(page.get_by_role("status")).to_contain_text("is drawn")
    sample = page.get_by_role("region", name="The monthly sample")
    expect(sample.get_by_role("link", name="Review the file")).to_have_count(1)
    expect(sample.get_by_text("To review", exact=True)).to_be_visible()
    look(page, "supervision-files")

    sample.get_by_role("link", name="Review the file").click()
    expect(page.get_by_role("heading", name="Review of a case file", level=1)).to_be_visible()
    expect(page.get_by_role("link", name="Open the case")).to_have_attribute(
        "href", f"/ui/cases/{files.amal_case}"
    )
    expect(page.get_by_role("table", name="Automatic checks")).to_contain_text("Fails")
    look(page, "supervision-file-findings")
    page.get_by_label("Corrective actions (optional)").fill("Link the next notes to the goal.")
    page.get_by_role("button", name="Mark the review done").click()
    expect(page.get_by_role("alert")).to_contain_text("Write what you found")
    expect(page.get_by_label("Corrective actions (optional)")).to_have_value(
        "Link the next notes to the goal."
    )
    page.get_by_label("What you found").fill("The plan was not reviewed on time.")
    page.get_by_role("button", name="Mark the review done").click()
    expect(page.get_by_role("status")).to_contain_text("Review done")
    expect(page.get_by_text("The plan was not reviewed on time.")).to_be_visible()
    expect(page.get_by_role("button", name="Mark the review done")).to_have_count(0)

    page.get_by_role("link", name="Back to the case files").click()
    page.get_by_role("button", name="Draw the sample").click()
    expect(page.get_by_role("status")).to_contain_text("these are the same files")
    expect(page.get_by_role("region", name="The monthly sample")).to_contain_text("Done")
