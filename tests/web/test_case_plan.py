"""A case worker who never saw refhub opens a case for a client from the record, records
the assessment, writes the plan, adds a goal (after a mistake the form shows it at the
field) and tasks, one for a partner agency, and sees the goal's progress; the partner's
staff finds the goal under "Plans you serve" and updates its task."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Callable

from playwright.sync_api import BrowserContext, Page, expect

from adapters import DataCategory
from consent.models import Purpose
from gateway.runtime import Runtime
from kernel.caller import Caller, CallerKind, Role
from tests.consent.factories import grant, make_client, permit
from tests.web.conftest import Person, look, sign_in

TODAY = dt.date.today()
GOAL = "Sleep without nightmares"


def _client(committed: Runtime, worker: Person, partner: Person) -> uuid.UUID:
    """A client of the worker's organisation whose consent lets the partner see their
    identity and health goals, for service coordination."""
    with committed.sessions.begin() as session:
        caller = Caller(
            CallerKind.USER, uuid.uuid4(), worker.org_id, roles=frozenset({Role.CASE_WORKER})
        )
        client = make_client(session, caller, name="Amal Haddad")
        grant(
            session,
            caller,
            client,
            permit(
                org=partner.org_id,
                purposes=(Purpose.SERVICE_COORDINATION,),
                categories=(DataCategory.IDENTITY, DataCategory.HEALTH),
            ),
        )
        return client.id


def _day(day: dt.date) -> str:
    return f"{day.day}/{day.month}/{day.year}"


def _assess(page: Page) -> None:
    page.get_by_role("button", name="Record the assessment").or_(
        page.get_by_role("link", name="Record the assessment")
    ).click()
    expect(page.get_by_role("heading", name="Record the assessment")).to_be_visible()
    page.locator("summary", has_text="Health").click()
    page.get_by_label("Health: Strengths").fill("Goes to every appointment with her sister")
    page.get_by_label("Health: Needs").fill("High: Counselling after detention")
    page.get_by_label("Health: Barriers").fill("Medium: Waiting lists of 6 months")
    page.locator("summary", has_text="Income and work").click()
    page.get_by_label("Income and work: Needs").fill("A first job")
    page.get_by_label("Who took part").fill("Amal, her sister, an Arabic interpreter")
    page.get_by_label("The family's view, in their words").fill("We want to feel safe and work.")
    look(page, "case-assessment-form")
    page.get_by_role("button", name="Save the assessment").click()
    expect(page.get_by_role("status")).to_contain_text("Assessment saved")


def _plan(page: Page) -> None:
    page.get_by_role("link", name="Write the plan").click()
    page.get_by_label("Strategy for: Waiting lists of 6 months").fill("Ask for a priority slot")
    page.get_by_label("How this strength helps: Goes to every appointment").fill(
        "Her sister comes along to sessions"
    )
    page.get_by_label("When will case management end?").fill("She has a counsellor and a job")
    page.get_by_label("How will it end?").fill("A last visit together")
    page.get_by_label("What will help the family keep going afterwards?").fill(
        "The community sponsor"
    )
    look(page, "case-plan-form")
    page.get_by_role("button", name="Save the plan").click()
    expect(page.get_by_role("status")).to_contain_text("Plan saved")


def _goal(page: Page) -> None:
    page.get_by_role("link", name="Add a goal").first.click()
    page.get_by_label("Life domain").select_option("health")
    page.get_by_label("The goal in the family's words").fill(GOAL)
    page.get_by_label("Counselling after detention (Health, need)").check()
    page.get_by_role("button", name="Add the goal").click()
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("target date")
    expect(page.locator("#target_on-error")).to_be_visible()
    expect(page.get_by_label("The goal in the family's words")).to_have_value(GOAL)
    look(page, "case-goal-form-error")
    page.get_by_label("Target date").fill(_day(TODAY + dt.timedelta(days=120)))
    page.get_by_role("button", name="Add the goal").click()
    expect(page.get_by_role("status")).to_contain_text("Goal added")


def _tasks(page: Page, partner: Person) -> None:
    page.get_by_role("link", name=re.compile(rf"Add a task\W+{GOAL}")).click()
    page.get_by_label("What is to be done").fill("Offer six counselling sessions")
    page.get_by_label("A partner organisation").check()
    page.get_by_label("The partner organisation (only if a partner does it)").select_option(
        label=partner.org_name
    )
    page.get_by_label("Due by (optional)").fill(_day(TODAY - dt.timedelta(days=1)))
    look(page, "case-task-form")
    page.get_by_role("button", name="Add the task").click()
    expect(page.get_by_role("status")).to_contain_text("Task added")
    page.get_by_role("link", name=re.compile(rf"Add a task\W+{GOAL}")).click()
    page.get_by_label("What is to be done").fill("Go with her to the first session")
    page.get_by_label("Due by (optional)").fill(_day(TODAY + dt.timedelta(days=30)))
    page.get_by_role("button", name="Add the task").click()
    expect(page.get_by_role("status")).to_contain_text("Task added")
    page.get_by_role("link", name=re.compile(r"Update the status\W+Go with her")).click()
    page.get_by_label("Done", exact=True).check()
    page.get_by_label("Note (optional)").fill("She went with her sister in the end")
    look(page, "case-task-status")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status")).to_contain_text("Task updated")


def test_a_new_case_worker_plans_with_a_partner(
    hub: str,
    new_context: Callable[[], BrowserContext],
    people: Callable[..., Person],
    committed: Runtime,
) -> None:
    worker = people("Dana Case", org_name="Northside Resettlement")
    partner = people("Sami Partner", org_name="Safe Harbour Counselling")
    client_id = _client(committed, worker, partner)
    page = sign_in(new_context(), hub, worker)
    page.goto(f"{hub}/ui/clients/{client_id}")
    page.get_by_role("button", name="Open a case").click()
    expect(page.get_by_role("heading", name="Start with the assessment")).to_be_visible()
    look(page, "case-empty")

    _assess(page)
    expect(page.get_by_role("heading", name="Next: write the plan")).to_be_visible()
    _plan(page)
    expect(page.get_by_role("heading", name="Next: add the first goal")).to_be_visible()
    _goal(page)
    _tasks(page, partner)

    goal = page.locator("article", has_text=GOAL).first
    expect(goal).to_contain_text("1 of 2 tasks done")
    expect(goal).to_contain_text(partner.org_name)
    expect(goal).to_contain_text("Overdue")
    expect(goal.locator("progress")).to_have_attribute("value", "1")
    expect(page.get_by_text("Strategy: Ask for a priority slot")).to_be_visible()
    look(page, "case-page")

    page.get_by_role("link", name="Record a review").click()
    page.get_by_label("What changed").fill("A counselling slot was found")
    page.get_by_label("Why", exact=True).fill("The priority request worked")
    look(page, "case-review-form")
    page.get_by_role("button", name="Save the review").click()
    expect(page.get_by_role("status")).to_contain_text("Review recorded")
    page.get_by_role("link", name="Record a case conference").click()
    page.get_by_label("Person 1: name").fill("Amal")
    page.get_by_label("Person 1: role (optional)").fill("mother")
    page.get_by_label("A member of the family").first.check()
    page.get_by_label("Person 2: name").fill("Counsellor")
    page.get_by_label("Person 2: came for (optional)").select_option(label=partner.org_name)
    page.get_by_label("What was decided").fill("Weekly sessions; her sister goes with her.")
    page.get_by_label("Action 1: for the goal").select_option(label=GOAL)
    page.get_by_label("Action 1: what is to be done").fill("Find a bus pass")
    page.get_by_label("Action 1: who does it").select_option("family")
    look(page, "case-conference-form")
    page.get_by_role("button", name="Save the conference").click()
    expect(page.get_by_role("status")).to_contain_text("Conference recorded")
    expect(page.locator("#conferences").locator("..")).to_contain_text("Find a bus pass")
    link = page.get_by_role("link", name=re.compile(r"Link a referral\W+Offer six"))
    link.click()
    start = page.get_by_role("link", name="Start a referral for this task")
    expect(start).to_have_attribute("href", re.compile(r"^/ui/referrals/new\?task="))
    look(page, "case-task-referral")

    theirs = sign_in(new_context(), hub, partner)
    theirs.get_by_role("link", name="Plans you serve").click()
    expect(theirs.get_by_role("heading", name="Amal Haddad")).to_be_visible()
    card = theirs.locator("article", has_text=GOAL)
    expect(card).to_contain_text(f"Plan held by {worker.org_name}")
    expect(card).to_contain_text("Whole goal: 1 of 3 tasks done")  # with the conference action
    expect(card).not_to_contain_text("Go with her to the first session")
    card.get_by_label("Where does the task stand?").select_option("in-progress")
    card.get_by_label("Note for the organisation holding the plan (optional)").fill(
        "First session booked for Monday"
    )
    look(theirs, "shared-plans")
    card.get_by_role("button", name="Save").click()
    expect(theirs.get_by_role("status")).to_contain_text("Task updated")

    page.goto(f"{hub}/ui/cases/{page.url.split('/cases/')[1].split('/')[0]}")
    expect(page.locator("article", has_text=GOAL).first).to_contain_text(
        "First session booked for Monday"
    )
