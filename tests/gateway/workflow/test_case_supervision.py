"""Supervision and quality assurance of case files through the HTTP API: review requests
and decisions, the automatic file review, the monthly sample, the supervisor's report.
Signed-in staff of two organisations, real database."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from consent.models import Purpose
from gateway.workflow.casework import file_review
from gateway.workflow.casework.models import FileReview, Plan, SupervisionReview
from gateway.workflow.casework.qa_tasks import previous_month, sweep
from gateway.workflow.models import Case
from kernel import outbox
from kernel.audit import AuditRecord
from kernel.caller import Role
from tests.consent.factories import grant, make_client, permit, staff
from tests.gateway.staff import Account, MakeAccount, MakeOrg, StaffClient

TODAY = dt.date.today()
SECRET = "Waiting lists of six months"
NOTE = {
    "contacted_at": "2026-11-30T14:30:00+01:00",
    "kind": "home-visit",
    "duration_minutes": 45,
    "text": "Visit: talked about the counselling referral.",
}


@dataclass
class Setting:
    worker: StaffClient  # a case worker of organisation A
    supervisor: StaffClient  # a supervisor of A
    supervisor_account: Account
    admin: StaffClient  # an org admin of A
    foreign: StaffClient  # a case worker and supervisor of organisation B
    org_id: uuid.UUID
    client_id: uuid.UUID
    case_id: str


@pytest.fixture
def setting(
    db: Session,
    make_org: MakeOrg,
    make_account: MakeAccount,
    staff_client: Callable[[Account], StaffClient],
) -> Setting:
    org = make_org()
    person = make_client(db, staff(org.id), name="Amal Supervision")
    grant(
        db,
        staff(org.id),
        person,
        permit(org=org.id, purposes=(Purpose.SERVICE_COORDINATION,)),
    )
    worker = staff_client(make_account(org=org, roles=(Role.CASE_WORKER,)))
    supervisor_account = make_account(org=org, roles=(Role.SUPERVISOR,))
    foreign = make_account(roles=(Role.CASE_WORKER, Role.SUPERVISOR))
    opened = worker.post("/cases", json={"client_id": str(person.id)})
    assert opened.status_code == 201, opened.text
    return Setting(
        worker,
        staff_client(supervisor_account),
        supervisor_account,
        staff_client(make_account(org=org, roles=(Role.ORG_ADMIN,))),
        staff_client(foreign),
        org.id,
        person.id,
        opened.json()["id"],
    )


def _assess(s: Setting) -> dict[str, Any]:
    body = {
        "assessed_on": str(TODAY),
        "domains": {
            "health": {
                "needs": [{"text": "Counselling after detention", "severity": "high"}],
                "barriers": [{"text": SECRET, "severity": "medium"}],
            }
        },
    }
    made = s.worker.post(f"/cases/{s.case_id}/assessments", json=body)
    assert made.status_code == 201, made.text
    return dict(made.json())


def _plan(s: Setting, assessment: dict[str, Any], *, strategy: bool = True) -> dict[str, Any]:
    barrier = assessment["domains"]["health"]["barriers"][0]["id"]
    strategies = [{"item_id": barrier, "text": "Ask for a priority slot"}] if strategy else []
    plan = s.worker.put(f"/cases/{s.case_id}/plan", json={"strategies": strategies})
    assert plan.status_code == 200, plan.text
    goal = s.worker.post(
        f"/cases/{s.case_id}/plan/goals",
        json={
            "domain": "health",
            "target_on": str(TODAY + dt.timedelta(days=90)),
            "family_words": "Sleep without nightmares",
            "addresses": [assessment["domains"]["health"]["needs"][0]["id"]],
        },
    )
    assert goal.status_code == 201, goal.text
    return dict(goal.json())


def _checks(review: dict[str, Any]) -> dict[str, str]:
    return {i["item"]: i["result"] for i in review["checklist"]}


def _denied(db: Session, action: str) -> list[AuditRecord]:
    return list(
        db.scalars(
            select(AuditRecord).where(AuditRecord.action == action, AuditRecord.outcome == "denied")
        )
    )


def test_a_worker_asks_and_a_supervisor_approves_the_assessment(
    db: Session, setting: Setting
) -> None:
    s = setting
    assessment = _assess(s)
    url = f"/cases/{s.case_id}/reviews-requested"
    asked = s.worker.post(url, json={"subject": "assessment"})
    assert asked.status_code == 201, asked.text
    review = asked.json()
    assert review["subject_id"] == assessment["id"] and review["decision"] == "pending"
    again = s.worker.post(url, json={"subject": "assessment"})
    assert again.status_code == 200 and again.json()["id"] == review["id"]  # one pending
    listed = s.worker.get(f"/cases/{s.case_id}/assessments").json()["items"]
    assert listed[0]["review_state"] == "submitted"

    assert s.worker.get("/supervision/queue").status_code == 403  # workers see no queue
    queue = s.supervisor.get("/supervision/queue")
    assert queue.status_code == 200, queue.text
    [item] = queue.json()["items"]
    assert item["case_id"] == s.case_id and item["client_id"] == str(s.client_id)
    assert item["subject"] == "assessment" and item["requested_by"]["name"] == "Test User"

    decided = s.supervisor.post(
        f"/supervision/{review['id']}/decision", json={"decision": "approved"}
    )
    assert decided.status_code == 200, decided.text
    assert decided.json()["decision"] == "approved"
    assert decided.json()["decided_by"]["id"] == str(s.supervisor_account.user.id)
    listed = s.worker.get(f"/cases/{s.case_id}/assessments").json()["items"]
    assert listed[0]["review_state"] == "approved"
    assert s.supervisor.get("/supervision/queue").json()["items"] == []
    actions = set(
        db.scalars(select(AuditRecord.action).where(AuditRecord.action.like("supervision.%")))
    )
    assert {"supervision.request", "supervision.queue.read", "supervision.decide"} <= actions


def test_returned_work_needs_comments_which_are_sealed(db: Session, setting: Setting) -> None:
    s = setting
    _plan(s, _assess(s))
    review = s.worker.post(f"/cases/{s.case_id}/reviews-requested", json={"subject": "plan"})
    assert review.status_code == 201, review.text
    url = f"/supervision/{review.json()['id']}/decision"
    bare = s.supervisor.post(url, json={"decision": "returned"})
    assert bare.status_code == 422
    assert bare.json()["errors"][0]["location"] == "body.comments"
    assert (
        s.supervisor.post(url, json={"decision": "maybe"}).json()["errors"][0]["location"]
        == "body.decision"
    )
    comments = "Add a strategy for the language barrier, then ask again."
    returned = s.supervisor.post(url, json={"decision": "returned", "comments": comments})
    assert returned.status_code == 200, returned.text
    assert returned.json()["comments"] == comments
    row = db.get(SupervisionReview, uuid.UUID(review.json()["id"]))
    assert row is not None and row.sealed is not None and comments.encode() not in row.sealed
    plan = s.worker.get(f"/cases/{s.case_id}/plan").json()
    assert plan["review_state"] == "returned"
    seen = s.worker.get(f"/cases/{s.case_id}/reviews").json()["items"]
    assert seen[0]["comments"] == comments and seen[0]["decision"] == "returned"
    twice = s.supervisor.post(url, json={"decision": "approved"})
    assert twice.status_code == 409 and twice.json()["code"] == "review-decided"


def test_a_supervisor_cannot_decide_on_their_own_request(db: Session, setting: Setting) -> None:
    s = setting
    _assess(s)
    mine = s.supervisor.post(
        f"/cases/{s.case_id}/reviews-requested", json={"subject": "assessment"}
    )
    assert mine.status_code == 201, mine.text
    refused = s.supervisor.post(
        f"/supervision/{mine.json()['id']}/decision", json={"decision": "approved"}
    )
    assert refused.status_code == 403 and refused.json()["code"] == "own-review-request"
    [denied] = _denied(db, "supervision.decide")
    assert denied.detail["refused"] == "own-request"
    row = db.get(SupervisionReview, uuid.UUID(mine.json()["id"]))
    assert row is not None and row.decision == "pending"


def test_what_can_be_reviewed_and_bad_subjects(db: Session, setting: Setting) -> None:
    s = setting
    url = f"/cases/{s.case_id}/reviews-requested"
    none_yet = s.worker.post(url, json={"subject": "assessment"})
    assert none_yet.status_code == 422, none_yet.text
    assert none_yet.json()["errors"][0]["location"] == "body.subject"
    wrong = s.worker.post(url, json={"subject": "everything"})
    assert wrong.status_code == 422 and wrong.json()["errors"][0]["location"] == "body.subject"
    closure = s.worker.post(url, json={"subject": "closure"})
    assert closure.status_code == 201 and closure.json()["subject_id"] == s.case_id
    assert s.admin.post(url, json={"subject": "closure"}).status_code == 403  # no case work
    assert s.admin.get("/supervision/queue").status_code == 403
    assert len(_denied(db, "supervision.queue.read")) == 1


def test_another_organisation_learns_nothing(db: Session, setting: Setting) -> None:
    s = setting
    _assess(s)
    review = s.worker.post(
        f"/cases/{s.case_id}/reviews-requested", json={"subject": "assessment"}
    ).json()
    run = s.worker.post(f"/cases/{s.case_id}/file-review")
    assert run.status_code == 201, run.text
    other = s.foreign
    decided = other.post(f"/supervision/{review['id']}/decision", json={"decision": "approved"})
    assert decided.status_code == 404 and decided.json()["code"] == "review-not-found"
    assert (
        other.post(
            f"/cases/{s.case_id}/reviews-requested", json={"subject": "assessment"}
        ).status_code
        == 404
    )
    assert other.post(f"/cases/{s.case_id}/file-review").status_code == 404
    assert other.get(f"/cases/{s.case_id}/reviews").status_code == 404
    fid = run.json()["id"]
    assert other.get(f"/supervision/file-reviews/{fid}").status_code == 404
    assert (
        other.post(
            f"/supervision/file-reviews/{fid}/findings", json={"findings": "Intruder"}
        ).status_code
        == 404
    )
    assert other.get("/supervision/queue").json()["items"] == []
    assert other.get("/supervision/file-reviews").json()["items"] == []
    report = other.get("/supervision/casework-report").json()
    assert report["reviews_pending"] == 0 and report["files_reviewed"] == 0
    assert len(_denied(db, "supervision.decide")) == 1
    row = db.get(SupervisionReview, uuid.UUID(review["id"]))
    assert row is not None and row.decision == "pending"


def test_the_automatic_file_review_flags_a_case_whose_notes_do_not_link_to_the_plan(
    db: Session, setting: Setting
) -> None:
    s = setting
    goal = _plan(s, _assess(s))
    assert s.worker.post(f"/cases/{s.case_id}/notes", json=NOTE).status_code == 201
    run = s.worker.post(f"/cases/{s.case_id}/file-review")
    assert run.status_code == 201, run.text
    assert _checks(run.json()) == {
        "intake": "pass",
        "consent": "pass",
        "assessment": "pass",
        "plan": "pass",
        "notes-against-plan": "fail",
        "reviews-on-time": "pass",
        "closure-continuation": "not-applicable",
    }
    assert run.json()["passed"] is False and run.json()["kind"] == "automatic"
    row = db.get(FileReview, uuid.UUID(run.json()["id"]))
    assert row is not None and SECRET not in str(row.checklist) and "Amal" not in str(row.checklist)

    linked = s.worker.post(f"/cases/{s.case_id}/notes", json={**NOTE, "goal_ids": [goal["id"]]})
    assert linked.status_code == 201, linked.text
    again = s.worker.post(f"/cases/{s.case_id}/file-review").json()
    assert _checks(again)["notes-against-plan"] == "pass" and again["passed"] is True


def test_the_file_review_flags_missing_parts_and_late_reviews(
    db: Session, setting: Setting
) -> None:
    s = setting
    bare = _checks(s.worker.post(f"/cases/{s.case_id}/file-review").json())
    assert bare["assessment"] == "fail" and bare["plan"] == "fail"
    assert bare["notes-against-plan"] == "not-applicable"
    assert bare["reviews-on-time"] == "not-applicable"

    _plan(s, _assess(s), strategy=False)  # the barrier has no strategy; a goal, no notes
    plan = db.scalars(select(Plan).where(Plan.case_id == uuid.UUID(s.case_id))).one()
    plan.next_review_on = TODAY - dt.timedelta(days=3)
    db.flush()
    checks = _checks(s.worker.post(f"/cases/{s.case_id}/file-review").json())
    assert checks["plan"] == "fail"  # a barrier without a strategy
    assert checks["notes-against-plan"] == "fail"  # goals, but no note links to one
    assert checks["reviews-on-time"] == "fail"

    unconsented = make_client(db, staff(s.org_id), name="No Consent")
    case = Case(client_id=unconsented.id, owner_org_id=s.org_id, opened_by_org_id=s.org_id)
    db.add(case)
    db.flush()
    other = _checks(s.worker.post(f"/cases/{case.id}/file-review").json())
    assert other["intake"] == "pass" and other["consent"] == "fail"

    report = s.supervisor.get("/supervision/casework-report")
    assert report.status_code == 200, report.text
    body = report.json()
    [overdue] = body["plans_overdue"]
    assert overdue["case_id"] == s.case_id and overdue["days_overdue"] == 3
    failing = {i["item"]: i["failing"] for i in body["failing_by_item"]}
    assert failing["plan"] == 2 and failing["consent"] == 1 and failing["assessment"] == 1
    assert failing["notes-against-plan"] == 1 and failing["intake"] == 0
    assert body["files_reviewed"] == 2 and body["files_failing"] == 2
    assert body["goals_by_domain"] == [{"domain": "health", "achieved": 0, "open": 1}]
    assert s.worker.get("/supervision/casework-report").status_code == 403


def test_the_scheduled_run_reviews_each_open_case_once_a_day(db: Session, setting: Setting) -> None:
    spec = outbox.registered_tasks()["casework.file_review"]
    assert spec.every_seconds == 86_400.0
    count = file_review.run_for_organisation(db, setting.org_id)
    assert count == 1
    assert file_review.run_for_organisation(db, setting.org_id) == 0
    reviewed, _sampled = sweep(db)
    assert reviewed == 0  # reviewed today already
    rows = db.scalars(select(FileReview).where(FileReview.organisation_id == setting.org_id)).all()
    assert {r.kind for r in rows} <= {"automatic", "sample"}
    assert previous_month(dt.datetime(2026, 1, 15, tzinfo=dt.UTC)) == "2025-12"


def test_the_monthly_sample_is_drawn_once_and_reviewed_by_a_supervisor(
    db: Session, setting: Setting
) -> None:
    s = setting
    for _ in range(11):  # with the setting's case: 12 cases held this month
        db.add(Case(client_id=s.client_id, owner_org_id=s.org_id, opened_by_org_id=s.org_id))
    db.flush()
    period = TODAY.strftime("%Y-%m")
    drawn = s.supervisor.post("/supervision/samples", json={"period": period})
    assert drawn.status_code == 201, drawn.text
    items = drawn.json()["items"]
    assert len(items) == 2  # a tenth, rounded up
    assert {i["kind"] for i in items} == {"sample"} and {i["period"] for i in items} == {period}
    again = s.supervisor.post("/supervision/samples", json={"period": period})
    assert again.status_code == 200 and [i["id"] for i in again.json()["items"]] == [
        i["id"] for i in items
    ]
    future = s.supervisor.post("/supervision/samples", json={"period": "2999-01"})
    assert future.status_code == 422 and future.json()["errors"][0]["location"] == "body.period"
    assert (
        s.supervisor.post("/supervision/samples", json={"period": "2026-13"}).json()["errors"][0][
            "location"
        ]
        == "body.period"
    )
    assert s.worker.post("/supervision/samples", json={"period": period}).status_code == 403

    url = f"/supervision/file-reviews/{items[0]['id']}/findings"
    findings = "The plan has no strategy for the waiting list."
    empty = s.supervisor.post(url, json={"findings": " "})
    assert empty.status_code == 422 and empty.json()["errors"][0]["location"] == "body.findings"
    done = s.supervisor.post(
        url, json={"findings": findings, "corrective_actions": "Review with the worker"}
    )
    assert done.status_code == 200, done.text
    assert done.json()["status"] == "done" and done.json()["findings"] == findings
    row = db.get(FileReview, uuid.UUID(items[0]["id"]))
    assert row is not None and row.sealed is not None and findings.encode() not in row.sealed
    assert s.supervisor.post(url, json={"findings": "More"}).status_code == 409
    read = s.supervisor.get(f"/supervision/file-reviews/{items[0]['id']}").json()
    assert read["corrective_actions"] == "Review with the worker"
    listed = s.supervisor.get("/supervision/file-reviews", params={"kind": "sample"}).json()
    assert len(listed["items"]) == 2 and all(i["findings"] is None for i in listed["items"])
    report = s.supervisor.get("/supervision/casework-report").json()
    assert report["sample_period"] == period and report["samples"] == {"open": 1, "done": 1}
    count = db.scalar(
        select(func.count())
        .select_from(AuditRecord)
        .where(AuditRecord.action == "file-review.findings")
    )
    assert count == 2  # recorded, then the change after it was done refused
    assert len(_denied(db, "file-review.findings")) == 1
