"""The case across agencies through the HTTP API: assessment, plan, a task fulfilled by a
referral, the partner's view under consent, handover, closure. Real tokens and sign-ins of
three organisations, real database."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from adapters import DataCategory
from consent import service as consent_service
from consent.models import Purpose
from gateway.workflow.casework.models import Goal, PlanTask
from kernel.audit import AuditRecord, Outcome
from kernel.caller import Role
from tests.consent.factories import grant, permit, staff
from tests.gateway.staff import Account, MakeAccount, StaffClient
from tests.gateway.workflow.conftest import Network

TODAY = dt.date.today()


@dataclass
class Team:
    network: Network
    sender: StaffClient  # a case worker of the sending organisation
    receiver: StaffClient  # a case worker of the receiving organisation
    second: StaffClient  # a case worker of an organisation serving nothing
    coordination: uuid.UUID  # the consent series permitting service coordination


@pytest.fixture
def team(
    db: Session,
    network: Network,
    make_account: MakeAccount,
    staff_client: Callable[[Account], StaffClient],
) -> Team:
    def worker(org: Any) -> StaffClient:
        return staff_client(make_account(org=org, roles=(Role.CASE_WORKER, Role.SUPERVISOR)))

    from consent.models import Client

    client = db.get(Client, network.client_id)
    assert client is not None
    record = grant(
        db,
        staff(network.sender.id),
        client,
        permit(
            org=network.receiver.id,
            purposes=(Purpose.SERVICE_COORDINATION,),
            categories=(DataCategory.HEALTH, DataCategory.NEEDS),
        ),
    )
    db.commit()
    return Team(
        network,
        worker(network.sender.org),
        worker(network.receiver.org),
        worker(network.second.org),
        record.series_id,
    )


def _assessment(**over: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "assessed_on": str(TODAY),
        "domains": {
            "health": {
                "strengths": [{"text": "Goes to every appointment with her sister"}],
                "needs": [{"text": "Counselling after detention", "severity": "high"}],
                "barriers": [{"text": "Waiting lists of 6 months", "severity": "medium"}],
            },
            "income-employment": {"needs": [{"text": "A first job in Canada"}]},
        },
        "risk_flags": [],
        "participants": "Amal, her sister, interpreter",
        "family_view": "We want to feel safe and to work.",
    }
    body.update(over)
    return body


def _items(assessment: dict[str, Any], domain: str, kind: str) -> list[str]:
    return [i["id"] for i in assessment["domains"][domain][kind]]


def _start(team: Team) -> tuple[str, dict[str, Any], dict[str, Any]]:
    """The sender opens the case, assesses, writes the plan and a health goal."""
    opened = team.sender.post("/cases", json={"client_id": str(team.network.client_id)})
    assert opened.status_code == 201, opened.text
    case_id = opened.json()["id"]
    assert opened.json()["stage"] == "engagement"
    assessed = team.sender.post(f"/cases/{case_id}/assessments", json=_assessment())
    assert assessed.status_code == 201, assessed.text
    assert team.sender.get(f"/cases/{case_id}").json()["stage"] == "planning"
    a = assessed.json()
    plan = team.sender.put(
        f"/cases/{case_id}/plan",
        json={
            "strategies": [
                {"item_id": _items(a, "health", "barriers")[0], "text": "Ask for a priority slot"}
            ],
            "strength_uses": [
                {"item_id": _items(a, "health", "strengths")[0], "text": "Her sister comes along"}
            ],
            "disengagement": {
                "ends_when": "She has a counsellor and a job search plan",
                "how": "A last visit together",
                "keep_going": "The community sponsor's phone number",
            },
        },
    )
    assert plan.status_code == 200, plan.text
    goal = team.sender.post(
        f"/cases/{case_id}/plan/goals",
        json={
            "domain": "health",
            "target_on": str(TODAY + dt.timedelta(days=120)),
            "family_words": "Sleep without nightmares",
            "worker_words": "Trauma counselling started and followed",
            "measure": "Attends 6 sessions",
            "addresses": [_items(a, "health", "needs")[0]],
        },
    )
    assert goal.status_code == 201, goal.text
    return case_id, a, goal.json()


def test_a_task_fulfilled_by_a_referral_shows_progress_on_both_sides(
    db: Session, team: Team
) -> None:
    case_id, _a, goal = _start(team)
    task = team.sender.post(
        f"/cases/{case_id}/plan/goals/{goal['id']}/tasks",
        json={"description": "Refer to trauma counselling", "due_on": str(TODAY)},
    )
    assert task.status_code == 201, task.text
    sent = team.network.submit()
    assert sent.status_code == 201, sent.text
    rid = sent.json()["id"]
    linked = team.sender.put(
        f"/cases/{case_id}/plan/tasks/{task.json()['id']}/referral", json={"referral_id": rid}
    )
    assert linked.status_code == 200, linked.text
    assert linked.json()["responsible"] == "partner"
    assert linked.json()["responsible_org_id"] == str(team.network.receiver.id)

    # the receiver sees the goal it serves, with its task, before answering
    shared = team.receiver.get("/shared-plans").json()["items"]
    assert [s["goal"]["id"] for s in shared] == [goal["id"]]
    assert shared[0]["goal"]["family_words"] == "Sleep without nightmares"
    assert shared[0]["permitted_by"] == "health"
    assert shared[0]["goal"]["progress"] == {"done": 0, "total": 1}

    for status in ("accepted", "in-progress", "completed"):
        answer: dict[str, Any] = {"status": status}
        if status == "completed":
            answer["outputs"] = [{"description": "Six sessions", "performed": str(TODAY)}]
        moved = team.network.receiver.post(f"/referrals/{rid}/status", json=answer)
        assert moved.status_code == 200, moved.text
    assert team.sender.get(f"/cases/{case_id}").json()["stage"] == "monitoring"
    plan = team.sender.get(f"/cases/{case_id}/plan").json()
    mine = plan["goals"][0]
    assert mine["tasks"][0]["status"] == "completed"
    assert mine["tasks"][0]["referral_status"] == "completed"
    assert mine["progress"] == {"done": 1, "total": 1}
    assert mine["achievement_status"] == "in-progress"
    theirs = team.receiver.get("/shared-plans").json()["items"][0]["goal"]
    assert theirs["progress"] == {"done": 1, "total": 1}
    # the organisation serving nothing sees nothing
    assert team.second.get("/shared-plans").json()["items"] == []
    assert team.second.get(f"/cases/{case_id}/plan").status_code == 404


def test_a_partner_sees_and_updates_only_its_tasks_until_revocation(
    db: Session, team: Team
) -> None:
    case_id, a, goal = _start(team)
    base = f"/cases/{case_id}/plan/goals/{goal['id']}/tasks"
    theirs = team.sender.post(
        base,
        json={
            "description": "Offer a first counselling session",
            "responsible": "partner",
            "responsible_org_id": str(team.network.receiver.id),
        },
    ).json()
    ours = team.sender.post(base, json={"description": "Accompany her to the first session"})
    assert ours.status_code == 201
    job = team.sender.post(
        f"/cases/{case_id}/plan/goals",
        json={
            "domain": "income-employment",
            "target_on": str(TODAY + dt.timedelta(days=200)),
            "worker_words": "A first job",
            "addresses": [_items(a, "income-employment", "needs")[0]],
        },
    ).json()
    # the employment goal is shared under `needs`, but the receiver serves no task of it
    shared = team.receiver.get("/shared-plans").json()["items"]
    assert [s["goal"]["id"] for s in shared] == [goal["id"]]
    assert [t["id"] for t in shared[0]["goal"]["tasks"]] == [theirs["id"]]
    assert shared[0]["goal"]["progress"]["total"] == 2
    assert job["id"] not in str(shared)

    update = team.receiver.patch(
        f"/plan-tasks/{theirs['id']}",
        json={"status": "in-progress", "status_note": "First session booked for Monday"},
    )
    assert update.status_code == 200, update.text
    assert (
        team.receiver.patch(
            f"/plan-tasks/{ours.json()['id']}", json={"status": "completed"}
        ).status_code
        == 404
    )
    seen = team.sender.get(f"/cases/{case_id}/plan").json()["goals"][0]["tasks"]
    assert seen[0]["status_note"] == "First session booked for Monday"

    consent_service.revoke(
        db, staff(team.network.sender.id), series_id=team.coordination, reason="client asked"
    )
    db.commit()
    assert team.receiver.get("/shared-plans").json()["items"] == []
    refused = team.receiver.patch(f"/plan-tasks/{theirs['id']}", json={"status": "completed"})
    assert refused.status_code == 403 and refused.json()["code"] == "consent-not-permitting"
    status = db.scalar(select(PlanTask.status).where(PlanTask.id == uuid.UUID(theirs["id"])))
    assert status == "in-progress"  # nothing changed
    denied = db.scalar(
        select(func.count())
        .select_from(AuditRecord)
        .where(
            AuditRecord.action == "plan-task.write",
            AuditRecord.outcome == Outcome.DENIED,
            AuditRecord.subject.in_([f"PlanTask/{theirs['id']}", f"PlanTask/{ours.json()['id']}"]),
        )
    )
    assert denied == 2  # the other organisation's task, then the update outside consent


def test_bad_input_is_refused_naming_the_field_and_changes_nothing(db: Session, team: Team) -> None:
    case_id, a, goal = _start(team)
    cases = f"/cases/{case_id}"
    checks: list[tuple[str, str, dict[str, Any], str]] = [
        ("post", "/assessments", _assessment(domains={}, risk_flags=[]), "body.domains"),
        (
            "post",
            "/assessments",
            _assessment(assessed_on=str(TODAY + dt.timedelta(days=3))),
            "body.assessed_on",
        ),
        (
            "post",
            "/assessments",
            _assessment(reassess_on=str(TODAY - dt.timedelta(days=1))),
            "body.reassess_on",
        ),
        (
            "post",
            "/assessments",
            _assessment(domains={"health": {"strengths": [{"text": "Brave", "severity": "high"}]}}),
            "body.domains.health.strengths.0.severity",
        ),
        (
            "post",
            "/assessments",
            _assessment(
                domains={"health": {"needs": [{"id": str(uuid.uuid4()), "text": "Sleep"}]}}
            ),
            "body.domains.health.needs.0.id",
        ),
        ("post", "/plan/goals", {"target_on": str(TODAY), "worker_words": "x"}, "body.domain"),
        ("post", "/plan/goals", {"domain": "health", "worker_words": "x"}, "body.target_on"),
        (
            "post",
            "/plan/goals",
            {"domain": "health", "target_on": str(TODAY)},
            "body.family_words",
        ),
        (
            "post",
            f"/plan/goals/{goal['id']}/tasks",
            {
                "description": "Housing search",
                "responsible": "partner",
                "responsible_org_id": str(uuid.uuid4()),
            },
            "body.responsible_org_id",
        ),
        (
            "post",
            "/plan/reviews",
            {
                "reviewed_on": str(TODAY - dt.timedelta(days=30)),
                "what_changed": "x",
                "why": "y",
            },
            "body.reviewed_on",
        ),
        (
            "put",
            "/plan",
            {"strategies": [{"item_id": _items(a, "health", "strengths")[0], "text": "x"}]},
            "body.strategies.0.item_id",
        ),
    ]
    goals_before = db.scalar(select(func.count()).select_from(Goal))
    for method, path, body, location in checks:
        answer = getattr(team.sender, method)(cases + path, json=body)
        assert answer.status_code == 422, (path, answer.text)
        problem = answer.json()
        assert problem["errors"][0]["location"] == location, (path, problem)
    assert db.scalar(select(func.count()).select_from(Goal)) == goals_before
    versions = team.sender.get(f"{cases}/assessments").json()["items"]
    assert [v["version"] for v in versions] == [1]
    refusals = db.scalar(
        select(func.count())
        .select_from(AuditRecord)
        .where(
            AuditRecord.outcome == Outcome.DENIED,
            AuditRecord.subject == f"EpisodeOfCare/{case_id}",
        )
    )
    assert refusals == len(checks)


def test_reassessment_keeps_item_ids_and_reviews_set_the_next_date(team: Team) -> None:
    case_id, a, _goal = _start(team)
    need = a["domains"]["health"]["needs"][0]
    again = team.sender.post(
        f"/cases/{case_id}/assessments",
        json=_assessment(
            domains={"health": {"needs": [{**need, "text": "Counselling, weekly"}]}},
            risk_flags=["domestic-violence"],
        ),
    )
    assert again.status_code == 201, again.text
    second = again.json()
    assert second["version"] == 2 and second["supersedes"] == a["id"]
    assert second["domains"]["health"]["needs"][0]["id"] == need["id"]
    assert second["intensity"] == "intensive"
    assert second["reassess_on"] == str(TODAY + dt.timedelta(days=90))
    review = team.sender.post(
        f"/cases/{case_id}/plan/reviews",
        json={
            "reviewed_on": str(TODAY),
            "what_changed": "Counselling weekly instead of monthly",
            "why": "Nightmares came back",
            "next_review_on": str(TODAY + dt.timedelta(days=30)),
        },
    )
    assert review.status_code == 201, review.text
    plan = review.json()
    assert plan["next_review_on"] == str(TODAY + dt.timedelta(days=30))
    assert plan["reviews"][0]["why"] == "Nightmares came back"
    assert plan["review_overdue"] is False


def test_closure_waits_for_open_goals_and_a_handover_moves_the_plan(
    db: Session, team: Team
) -> None:
    case_id, _a, goal = _start(team)
    close = {"reason": "goals-met", "outcome": "Settled", "continuation_plan": "Sponsor visits"}
    blocked = team.sender.post(f"/cases/{case_id}/close", json=close)
    assert blocked.status_code == 409, blocked.text
    assert blocked.json()["open_goals"] == [goal["id"]]

    sent = team.network.submit(kind="handover")
    assert sent.status_code == 201, sent.text
    rid = sent.json()["id"]
    moved = team.network.receiver.post(f"/referrals/{rid}/status", json={"status": "accepted"})
    assert moved.status_code == 200, moved.text
    # the plan is the receiver's now; the sender no longer reads it
    assert team.sender.get(f"/cases/{case_id}/plan").status_code == 404
    taken = team.receiver.get(f"/cases/{case_id}/plan")
    assert taken.status_code == 200, taken.text
    assert taken.json()["owner_org_id"] == str(team.network.receiver.id)
    done = team.receiver.patch(
        f"/cases/{case_id}/plan/goals/{goal['id']}",
        json={"lifecycle_status": "completed", "achievement_status": "achieved"},
    )
    assert done.status_code == 200, done.text
    outputs = [{"description": "Case taken over", "performed": str(TODAY)}]
    finished = team.network.receiver.post(
        f"/referrals/{rid}/status", json={"status": "completed", "outputs": outputs}
    )
    assert finished.status_code == 200, finished.text
    closed = team.receiver.post(f"/cases/{case_id}/close", json=close)
    assert closed.status_code == 200, closed.text


def test_a_note_linked_to_a_goal_reaches_the_partner_only_with_case_notes_consent(
    db: Session, team: Team
) -> None:
    case_id, _a, goal = _start(team)
    team.sender.post(
        f"/cases/{case_id}/plan/goals/{goal['id']}/tasks",
        json={
            "description": "First session",
            "responsible": "partner",
            "responsible_org_id": str(team.network.receiver.id),
        },
    )
    note = {
        "contacted_at": (dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)).isoformat(),
        "kind": "phone",
        "text": "She slept better this week and asks for a female counsellor.",
        "goal_ids": [goal["id"]],
        "share_with_partners": True,
    }
    private = {
        **note,
        "text": "Her husband's debts (not for partners).",
        "share_with_partners": False,
    }
    for body in (note, private):
        written = team.sender.post(f"/cases/{case_id}/notes", json=body)
        assert written.status_code == 201, written.text
        assert written.json()["goal_ids"] == [goal["id"]]
    unlinked = team.sender.post(
        f"/cases/{case_id}/notes", json={**note, "goal_ids": [str(uuid.uuid4())]}
    )
    assert unlinked.status_code == 422
    assert unlinked.json()["errors"][0]["location"] == "body.goal_ids.0"

    # consent permits health and needs, not case notes: the goal is shared, the note is not
    shared = team.receiver.get("/shared-plans").json()["items"]
    assert shared[0]["notes"] == []
    from consent.models import Client

    client = db.get(Client, team.network.client_id)
    assert client is not None
    grant(
        db,
        staff(team.network.sender.id),
        client,
        permit(
            org=team.network.receiver.id,
            purposes=(Purpose.SERVICE_COORDINATION,),
            categories=(DataCategory.CASE_NOTES,),
        ),
    )
    db.commit()
    shared = team.receiver.get("/shared-plans").json()["items"]
    assert [n["text"] for n in shared[0]["notes"]] == [note["text"]]
    assert "debts" not in str(shared)


def test_a_conference_records_decisions_and_its_actions_become_tasks(
    db: Session, team: Team
) -> None:
    case_id, _a, goal = _start(team)
    meeting: dict[str, Any] = {
        "held_on": str(TODAY),
        "participants": [
            {"name": "Amal", "role": "mother", "family_member": True},
            {"name": "Counsellor", "organisation_id": str(team.network.receiver.id)},
        ],
        "decisions": "Weekly sessions; the sister accompanies her.",
        "actions": [
            {
                "goal_id": goal["id"],
                "description": "Book weekly sessions",
                "responsible": "partner",
                "responsible_org_id": str(team.network.receiver.id),
                "due_on": str(TODAY + dt.timedelta(days=7)),
            },
            {"goal_id": goal["id"], "description": "Find a bus pass", "responsible": "family"},
        ],
        "next_meeting_on": str(TODAY + dt.timedelta(days=30)),
    }
    bad = {
        **meeting,
        "actions": [meeting["actions"][0], {**meeting["actions"][1], "goal_id": str(uuid.uuid4())}],
    }
    refused = team.sender.post(f"/cases/{case_id}/conferences", json=bad)
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["location"] == "body.actions.1.goal_id"
    assert db.scalar(select(func.count()).select_from(PlanTask)) == 0  # not even action 0

    held = team.sender.post(f"/cases/{case_id}/conferences", json=meeting)
    assert held.status_code == 201, held.text
    assert [a["description"] for a in held.json()["actions"]] == [
        "Book weekly sessions",
        "Find a bus pass",
    ]
    plan = team.sender.get(f"/cases/{case_id}/plan").json()
    assert len(plan["goals"][0]["tasks"]) == 2
    listed = team.sender.get(f"/cases/{case_id}/conferences").json()["items"]
    assert listed[0]["decisions"] == meeting["decisions"]
    assert team.second.get(f"/cases/{case_id}/conferences").status_code == 404


def test_the_organisations_rules_decide_what_a_goal_must_state(
    team: Team, make_account: MakeAccount, staff_client: Callable[[Account], StaffClient]
) -> None:
    case_id, _a, _goal = _start(team)
    loose = {"domain": "health", "worker_words": "Find a GP"}
    assert team.sender.post(f"/cases/{case_id}/plan/goals", json=loose).status_code == 422
    rules = {"review_every_days": 30, "goal_domain_required": True, "goal_target_required": False}
    assert team.sender.put("/workflow/plan-settings", json=rules).status_code == 403
    admin = staff_client(make_account(org=team.network.sender.org, roles=(Role.ORG_ADMIN,)))
    saved = admin.put("/workflow/plan-settings", json=rules)
    assert saved.status_code == 200, saved.text
    assert team.sender.get("/workflow/plan-settings").json()["review_every_days"] == 30
    assert team.sender.post(f"/cases/{case_id}/plan/goals", json=loose).status_code == 201
    again = team.sender.post(f"/cases/{case_id}/assessments", json=_assessment())
    assert again.json()["reassess_on"] == str(TODAY + dt.timedelta(days=30))
    assert admin.get(f"/cases/{case_id}/plan").status_code == 403  # admins do not read files


def test_after_erasure_the_plan_answers_gone_and_partners_see_nothing(
    db: Session, team: Team
) -> None:
    from consent import erasure
    from consent.models import ErasureBasis

    case_id, _a, goal = _start(team)
    team.sender.post(
        f"/cases/{case_id}/plan/goals/{goal['id']}/tasks",
        json={
            "description": "First session",
            "responsible": "partner",
            "responsible_org_id": str(team.network.receiver.id),
        },
    )
    assert len(team.receiver.get("/shared-plans").json()["items"]) == 1
    erasure.erase_client(
        db,
        actor="user:00000000-0000-4000-8000-0000000000ad",
        organisation_id=None,
        client_id=team.network.client_id,
        basis=ErasureBasis.DATA_SUBJECT_REQUEST,
        reason="Written request from the client, checked by the hub operator",
    )
    db.commit()
    for path in ("/plan", "/assessments"):
        gone = team.sender.get(f"/cases/{case_id}{path}")
        assert gone.status_code == 410, (path, gone.text)
    shared = team.receiver.get("/shared-plans")
    assert shared.status_code == 200 and shared.json()["items"] == []
    written = team.sender.post(f"/cases/{case_id}/assessments", json=_assessment())
    assert written.status_code in (409, 410), written.text
