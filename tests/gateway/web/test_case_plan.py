"""The case-work pages without JavaScript: opening a case from the record, the assessment
(one item per line, severity prefix, ids kept on reassessment), the plan, a goal and a
task, errors at the field with the input kept, and access (another organisation's case
is the 404 page, an org admin gets the refusal page, bad input never a 500)."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Callable
from html import unescape

import httpx
import pytest
from sqlalchemy.orm import Session

from gateway.workflow.casework import assessments
from gateway.workflow.models import Case
from kernel.caller import Role
from tests.consent.factories import make_client, staff
from tests.gateway.staff import Account, MakeAccount, StaffClient
from tests.gateway.workflow import conftest as workflow_fixtures
from tests.gateway.workflow.conftest import Network

TODAY = dt.date.today()
agency = workflow_fixtures.agency
network = workflow_fixtures.network


def text_of(response: httpx.Response) -> str:
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", response.text)).split())


def _day(day: dt.date) -> str:
    return f"{day.day}/{day.month}/{day.year}"


@pytest.fixture
def desk(
    db: Session, make_account: MakeAccount, staff_client: Callable[[Account], StaffClient]
) -> tuple[StaffClient, uuid.UUID, Account]:
    account = make_account(roles=(Role.CASE_WORKER,))
    person = make_client(db, staff(account.org.id), name="Amal Plan")
    db.flush()
    return staff_client(account), person.id, account


def _post(web: StaffClient, url: str, data: dict[str, str | list[str]]) -> httpx.Response:
    return web.http.post(url, data={"csrf_token": web.csrf, **data}, follow_redirects=False)


def _open(web: StaffClient, client_id: uuid.UUID) -> str:
    record = web.get(f"/ui/clients/{client_id}")
    assert "Open a case" in record.text
    opened = _post(web, f"/ui/clients/{client_id}/cases", {})
    assert opened.status_code == 303, opened.text
    location = opened.headers["location"]
    assert location.endswith("?done=opened")
    return location.split("?")[0].rsplit("/", 1)[-1]


def _assess(web: StaffClient, case_id: str, **over: str | list[str]) -> httpx.Response:
    data: dict[str, str | list[str]] = {
        "assessed_on": _day(TODAY),
        "health-strengths": "Goes to every appointment with her sister",
        "health-needs": "High: Counselling after detention",
        "health-barriers": "Medium: Waiting lists of 6 months\nNo bus at night",
        "risk_flags": ["homelessness"],
        "participants": "Amal, her sister",
        "family_view": "We want to feel safe.",
    }
    data.update(over)
    return _post(web, f"/ui/cases/{case_id}/assessment", data)


def test_a_case_from_opening_to_a_task_with_progress(
    db: Session, desk: tuple[StaffClient, uuid.UUID, Account]
) -> None:
    web, client_id, _account = desk
    case_id = _open(web, client_id)
    empty = text_of(web.get(f"/ui/cases/{case_id}?done=opened"))
    assert "Start with the assessment" in empty and "Amal Plan" in empty
    assert "Case plan" in text_of(web.get(f"/ui/clients/{client_id}"))

    assert _assess(web, case_id).status_code == 303
    latest = assessments.latest(db, uuid.UUID(case_id))
    assert latest is not None and latest.intensity == "intensive"
    health = next(iter(latest.domains.values()))
    assert [n.severity for n in health.needs] == ["high"]
    assert [b.text for b in health.barriers] == ["Waiting lists of 6 months", "No bus at night"]
    shown = text_of(web.get(f"/ui/cases/{case_id}"))
    assert "Next: write the plan" in shown and "Homelessness" in shown

    barrier = health.barriers[0].id
    plan = _post(
        web,
        f"/ui/cases/{case_id}/plan",
        {f"strategy-{barrier}": "Ask for a priority slot", "ends_when": "She has a counsellor"},
    )
    assert plan.status_code == 303, plan.text
    shown = text_of(web.get(f"/ui/cases/{case_id}"))
    assert "Strategy: Ask for a priority slot" in shown and "No strategy yet" in shown

    need = str(health.needs[0].id)
    missing = _post(
        web,
        f"/ui/cases/{case_id}/goals/new",
        {"domain": "health", "family_words": "Sleep without nightmares", "addresses": [need]},
    )
    assert missing.status_code == 422
    assert 'id="target_on-error"' in missing.text and "target date" in text_of(missing)
    assert "Sleep without nightmares" in missing.text and "checked" in missing.text
    goal = _post(
        web,
        f"/ui/cases/{case_id}/goals/new",
        {
            "domain": "health",
            "target_on": _day(TODAY + dt.timedelta(days=90)),
            "family_words": "Sleep without nightmares",
            "addresses": [need],
        },
    )
    assert goal.status_code == 303, goal.text
    goal_id = goal.headers["location"].rsplit("#goal-", 1)[-1]
    for description in ("Refer to counselling", "Go with her to the first session"):
        task = _post(
            web,
            f"/ui/cases/{case_id}/goals/{goal_id}/tasks/new",
            {"description": description, "responsible": "organisation", "due_on": _day(TODAY)},
        )
        assert task.status_code == 303, task.text
    task_id = task.headers["location"].rsplit("#task-", 1)[-1]
    done = _post(web, f"/ui/cases/{case_id}/tasks/{task_id}/status", {"status": "completed"})
    assert done.status_code == 303, done.text
    shown = text_of(web.get(f"/ui/cases/{case_id}"))
    assert "1 of 2 tasks done" in shown
    for language in ("fr", "ar"):  # the pages render in every language
        web.http.cookies.set("refhub_lang", language)
        assert web.get(f"/ui/cases/{case_id}").status_code == 200
        assert web.get(f"/ui/cases/{case_id}/assessment").status_code == 200
    web.http.cookies.set("refhub_lang", "en")
    for path in ("reviews/new", f"goals/{goal_id}/status", f"tasks/{task_id}/referral"):
        assert web.get(f"/ui/cases/{case_id}/{path}").status_code == 200, path
    review = _post(
        web,
        f"/ui/cases/{case_id}/reviews/new",
        {"reviewed_on": _day(TODAY), "what_changed": "Counselling started", "why": "Slot found"},
    )
    assert review.status_code == 303, review.text

    # a reassessment keeps the ids of unchanged and reworded lines
    form = web.get(f"/ui/cases/{case_id}/assessment").text
    assert "High: Counselling after detention" in form
    again = _assess(
        web,
        case_id,
        **{"health-barriers": "Medium: Waiting lists of 3 months\nNo bus at night\nNo phone"},
    )
    assert again.status_code == 303, again.text
    newer = assessments.latest(db, uuid.UUID(case_id))
    assert newer is not None and newer.version == 2
    barriers = next(iter(newer.domains.values())).barriers
    assert [b.id for b in barriers[:2]] == [b.id for b in health.barriers]
    assert barriers[2].id not in {b.id for b in health.barriers}
    page = web.get(f"/ui/cases/{case_id}").text
    earlier = page.split("<summary>", 1)[1]  # version 1 still reads as it was, folded
    assert "Version 1, assessed on" in earlier and "Waiting lists of 6 months" in earlier


def test_bad_input_is_shown_at_the_field_never_a_500(
    db: Session, desk: tuple[StaffClient, uuid.UUID, Account]
) -> None:
    web, client_id, _account = desk
    case_id = _open(web, client_id)
    nothing = _assess(
        web,
        case_id,
        **{"health-strengths": "", "health-needs": "", "health-barriers": "", "risk_flags": []},
    )
    assert nothing.status_code == 422 and 'id="domains"' in nothing.text
    assert "Write at least one strength" in text_of(nothing)
    future = _assess(web, case_id, assessed_on=_day(TODAY + dt.timedelta(days=3)))
    assert future.status_code == 422 and 'id="assessed_on-error"' in future.text
    bad_day = _assess(web, case_id, assessed_on="31/02/2026")
    assert bad_day.status_code == 422 and 'id="assessed_on-error"' in bad_day.text
    assert "Counselling after detention" in bad_day.text  # kept as typed
    # goals need the plan first: the refusal page, not a 500
    assert _post(web, f"/ui/cases/{case_id}/goals/new", {"domain": "x"}).status_code in (
        404,
        422,
    )
    plan = _post(web, f"/ui/cases/{case_id}/plan", {"review_every_days": "3"})
    assert plan.status_code == 422 and 'id="review_every_days-error"' in plan.text
    assert _post(web, f"/ui/cases/{case_id}/plan", {}).status_code == 303
    review = _post(web, f"/ui/cases/{case_id}/reviews/new", {"reviewed_on": "soon"})
    assert review.status_code == 422
    assert all(f'id="{f}-error"' in review.text for f in ("reviewed_on", "what_changed", "why"))
    assert web.get(f"/ui/cases/{case_id}/goals/not-a-goal/status").status_code == 404
    assert web.get(f"/ui/cases/{case_id}/tasks/{uuid.uuid4()}/status").status_code == 404
    assert _post(web, f"/ui/shared-plans/tasks/{uuid.uuid4()}", {"status": "x"}).status_code in (
        404,
        422,
    )
    assert (
        _post(web, f"/ui/shared-plans/tasks/{uuid.uuid4()}", {"status": "completed"}).status_code
        == 404
    )


def test_another_organisation_gets_the_404_page_an_admin_the_refusal(
    db: Session,
    desk: tuple[StaffClient, uuid.UUID, Account],
    make_account: MakeAccount,
    staff_client: Callable[[Account], StaffClient],
) -> None:
    web, client_id, account = desk
    case_id = _open(web, client_id)
    other = staff_client(make_account(roles=(Role.CASE_WORKER,)))
    for path in ("", "/assessment", "/plan", "/goals/new", "/reviews/new"):
        answer = other.get(f"/ui/cases/{case_id}{path}")
        assert answer.status_code == 404 and "Page not found" in answer.text, path
    admin = staff_client(make_account(org=account.org, roles=(Role.ORG_ADMIN,)))
    refused = admin.get(f"/ui/cases/{case_id}")
    assert refused.status_code == 403 and "You cannot do this" in refused.text
    assert admin.get("/ui/shared-plans").status_code == 403
    assert other.get("/ui/cases/not-a-uuid").status_code == 404
    assert db.get(Case, uuid.UUID(case_id)) is not None


def test_a_task_is_linked_to_a_referral_the_organisation_sent(
    db: Session,
    network: Network,
    make_account: MakeAccount,
    staff_client: Callable[[Account], StaffClient],
) -> None:
    web = staff_client(make_account(org=network.sender.org, roles=(Role.CASE_WORKER,)))
    case_id = _open(web, network.client_id)
    assert _assess(web, case_id).status_code == 303
    assert _post(web, f"/ui/cases/{case_id}/plan", {}).status_code == 303
    goal = _post(
        web,
        f"/ui/cases/{case_id}/goals/new",
        {"domain": "health", "target_on": _day(TODAY), "family_words": "Feel safe"},
    )
    goal_id = goal.headers["location"].rsplit("#goal-", 1)[-1]
    task = _post(
        web,
        f"/ui/cases/{case_id}/goals/{goal_id}/tasks/new",
        {"description": "Refer to counselling", "responsible": "organisation"},
    )
    task_id = task.headers["location"].rsplit("#task-", 1)[-1]
    sent = network.submit()
    assert sent.status_code == 201, sent.text
    referral_id = sent.json()["id"]
    url = f"/ui/cases/{case_id}/tasks/{task_id}/referral"
    form = web.get(url)
    assert f'value="{referral_id}"' in form.text
    assert f"/ui/referrals/new?task={task_id}" in form.text
    assert _post(web, url, {"referral": ""}).status_code == 422
    wrong = _post(web, url, {"referral": str(uuid.uuid4())})
    assert wrong.status_code == 422 and 'id="referral-error"' in wrong.text
    linked = _post(web, url, {"referral": referral_id})
    assert linked.status_code == 303, linked.text
    shown = web.get(f"/ui/cases/{case_id}").text
    assert f'href="/ui/referrals/{referral_id}"' in shown
    assert network.receiver.org.name in text_of(web.get(f"/ui/cases/{case_id}"))


def test_a_conference_is_recorded_with_its_actions_as_tasks(
    db: Session, desk: tuple[StaffClient, uuid.UUID, Account]
) -> None:
    web, client_id, _account = desk
    case_id = _open(web, client_id)
    assert _assess(web, case_id).status_code == 303
    assert _post(web, f"/ui/cases/{case_id}/plan", {"ends_when": "Later"}).status_code == 303
    goal = _post(
        web,
        f"/ui/cases/{case_id}/goals/new",
        {
            "domain": "health",
            "target_on": _day(TODAY + dt.timedelta(days=90)),
            "family_words": "Sleep without nightmares",
        },
    )
    goal_id = goal.headers["location"].rsplit("#goal-", 1)[-1]
    url = f"/ui/cases/{case_id}/conferences/new"
    assert "Who took part" in web.get(url).text
    meeting = {
        "held_on": _day(TODAY),
        "next_meeting_on": _day(TODAY + dt.timedelta(days=30)),
        "person-0-name": "Amal",
        "person-0-role": "mother",
        "person-0-family": "yes",
        "person-1-name": "Interpreter",
        "decisions": "Weekly counselling; her sister goes with her.",
        "action-0-goal": goal_id,
        "action-0-text": "Book weekly sessions",
        "action-0-who": "organisation",
        "action-1-text": "Find a bus pass",
        "action-1-who": "family",
    }
    missing = _post(web, url, meeting)  # the second action names no goal
    assert missing.status_code == 422
    assert 'id="action-1-goal-error"' in missing.text and "Find a bus pass" in missing.text
    saved = _post(web, url, {**meeting, "action-1-goal": goal_id})
    assert saved.status_code == 303, saved.text
    shown = text_of(web.get(saved.headers["location"]))
    assert "Conference recorded" in shown and "Weekly counselling" in shown
    assert "Who took part: Amal, Interpreter" in shown
    assert "Book weekly sessions" in shown and "Find a bus pass" in shown
    assert "0 of 2 tasks done" in shown


def test_a_worker_asks_for_a_review_and_reads_the_supervisors_comments(
    db: Session,
    desk: tuple[StaffClient, uuid.UUID, Account],
    make_account: MakeAccount,
    staff_client: Callable[[Account], StaffClient],
) -> None:
    web, client_id, account = desk
    case_id = _open(web, client_id)
    assert "Ask for a review of the assessment" not in web.get(f"/ui/cases/{case_id}").text
    assert _assess(web, case_id).status_code == 303
    asked = _post(web, f"/ui/cases/{case_id}/review-requests", {"subject": "assessment"})
    assert asked.status_code == 303, asked.text
    shown = text_of(web.get(asked.headers["location"]))
    assert "Review asked for" in shown and "Waiting for a supervisor" in shown
    assert "Ask for a review of the assessment" not in shown  # one pending request

    supervisor = staff_client(make_account(org=account.org, roles=(Role.SUPERVISOR,)))
    queue = supervisor.get("/supervision/queue").json()["items"]
    decided = supervisor.post(
        f"/supervision/{queue[0]['id']}/decision",
        json={"decision": "returned", "comments": "Add the family's own view of housing."},
    )
    assert decided.status_code == 200, decided.text
    shown = text_of(web.get(f"/ui/cases/{case_id}"))
    assert "Returned for changes" in shown and "Add the family's own view of housing." in shown
