"""The shared service plan as FHIR R4 (CarePlan, Goal, Condition, Task) under the access and
consent rules of the JSON API: the owner reads everything, a partner only the goal it
serves (until the consent is revoked), anyone else gets the 404 of an unknown id. Every
answer is also parsed with fhir.resources (R4B) besides the R4 JSON schema check the test
app applies to every FHIR answer."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.capabilitystatement import CapabilityStatement
from fhir.resources.R4B.careplan import CarePlan
from fhir.resources.R4B.condition import Condition
from fhir.resources.R4B.goal import Goal as FhirGoal
from fhir.resources.R4B.operationoutcome import OperationOutcome
from fhir.resources.R4B.task import Task
from pydantic import BaseModel
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from consent import service as consent_service
from kernel.audit import AuditRecord, Outcome
from kernel.caller import Role
from tests.consent.factories import staff
from tests.gateway.auth.factories import make_client as make_system_client
from tests.gateway.staff import Account, MakeAccount, StaffClient
from tests.gateway.workflow.conftest import bearer
from tests.gateway.workflow.test_case_plan import Team, _items, _start, team

__all__ = ["team"]  # the fixture, shared with the JSON API's tests

TODAY = dt.date.today()
PLAN_SCOPES = ("system/CarePlan.rs", "system/Goal.rs", "system/Condition.rs", "system/Task.rs")
_MODELS: dict[str, type[BaseModel]] = {
    "Bundle": Bundle,
    "CapabilityStatement": CapabilityStatement,
    "OperationOutcome": OperationOutcome,
    "CarePlan": CarePlan,
    "Condition": Condition,
    "Goal": FhirGoal,
    "Task": Task,
}
GOAL_PROFILE = "http://hl7.org/fhir/us/sdoh-clinicalcare/StructureDefinition/SDOHCC-Goal"


def _fhir(answer: Any, status: int = 200) -> dict[str, Any]:
    """The answer's FHIR JSON, checked with fhir.resources as well."""
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"].startswith("application/fhir+json")
    body: dict[str, Any] = answer.json()
    if body["resourceType"] in _MODELS:
        _MODELS[body["resourceType"]].model_validate(body)
    return body


def _entries(bundle: dict[str, Any]) -> list[dict[str, Any]]:
    return [e["resource"] for e in bundle.get("entry", [])]


def _refs(items: list[dict[str, Any]] | None, key: str = "reference") -> list[str]:
    return [i[key]["reference"] if key != "reference" else i["reference"] for i in items or []]


def _plan(team: Team) -> dict[str, Any]:
    """The sender's plan: the health goal with a partner task for the receiver and one of
    its own, and an employment goal the receiver serves nothing of."""
    case_id, a, goal = _start(team)
    base = f"/cases/{case_id}/plan/goals/{goal['id']}/tasks"
    theirs = team.sender.post(
        base,
        json={
            "description": "Offer a first counselling session",
            "responsible": "partner",
            "responsible_org_id": str(team.network.receiver.id),
            "due_on": str(TODAY + dt.timedelta(days=14)),
        },
    )
    assert theirs.status_code == 201, theirs.text
    ours = team.sender.post(base, json={"description": "Go along to the first session"})
    family = team.sender.post(
        base, json={"description": "Write down the nightmares", "responsible": "family"}
    )
    job = team.sender.post(
        f"/cases/{case_id}/plan/goals",
        json={
            "domain": "income-employment",
            "target_on": str(TODAY + dt.timedelta(days=200)),
            "worker_words": "A first job",
            "addresses": [_items(a, "income-employment", "needs")[0]],
        },
    )
    assert job.status_code == 201, job.text
    plan = team.sender.get(f"/cases/{case_id}/plan").json()
    return {
        "case": case_id,
        "plan": plan["id"],
        "assessment": a,
        "goal": goal["id"],
        "job": job.json()["id"],
        "theirs": theirs.json()["id"],
        "ours": ours.json()["id"],
        "family": family.json()["id"],
        "need": _items(a, "health", "needs")[0],
        "barrier": _items(a, "health", "barriers")[0],
        "job_need": _items(a, "income-employment", "needs")[0],
    }


def test_the_owner_reads_and_searches_the_whole_plan(db: Session, team: Team) -> None:
    p = _plan(team)
    patient = f"Patient/{team.network.client_id}"
    found = _fhir(team.sender.get(f"/fhir/CarePlan?patient={patient}"))
    assert found["total"] == 1
    care_plan = _entries(found)[0]
    assert care_plan == _fhir(team.sender.get(f"/fhir/CarePlan/{p['plan']}"))
    assert care_plan["status"] == "active" and care_plan["intent"] == "plan"
    assert care_plan["subject"]["reference"] == patient
    assert care_plan["author"]["reference"] == f"Organization/{team.network.sender.id}"
    assert care_plan["period"]["start"] == str(TODAY)
    assert _refs(care_plan["goal"]) == [f"Goal/{p['goal']}", f"Goal/{p['job']}"]
    tasks = [a["reference"]["reference"] for a in care_plan["activity"] if "reference" in a]
    assert tasks == [f"Task/{p[k]}" for k in ("theirs", "ours", "family")]
    strategy = next(a["detail"] for a in care_plan["activity"] if "detail" in a)
    assert strategy["description"] == "Ask for a priority slot"
    assert _refs(strategy["reasonReference"]) == [f"Condition/{p['barrier']}"]
    assert sorted(_refs(care_plan["addresses"])) == sorted(
        f"Condition/{p[k]}" for k in ("need", "barrier", "job_need")
    )
    assert "A last visit together" in care_plan["note"][0]["text"]

    goal = _fhir(team.sender.get(f"/fhir/Goal/{p['goal']}"))
    assert goal["meta"]["profile"] == [GOAL_PROFILE]
    assert goal["lifecycleStatus"] == "active" and goal["startDate"] == str(TODAY)
    assert goal["description"]["text"] == "Trauma counselling started and followed"
    assert goal["note"][0]["text"] == "Sleep without nightmares"
    assert goal["note"][0]["authorReference"]["reference"] == patient
    assert goal["target"][0]["dueDate"] == str(TODAY + dt.timedelta(days=120))
    assert goal["target"][0]["measure"]["text"] == "Attends 6 sessions"
    assert _refs(goal["addresses"]) == [f"Condition/{p['need']}"]
    job = _fhir(team.sender.get(f"/fhir/Goal/{p['job']}"))
    sdoh = {c["code"] for cat in job["category"] for c in cat["coding"]}
    assert {"employment-status", "financial-insecurity", "income-employment"} <= sdoh
    assert "expressedBy" not in job  # the worker's words only

    goals = _fhir(team.sender.get(f"/fhir/Goal?patient={patient}&lifecycle-status=active"))
    assert [g["id"] for g in _entries(goals)] == [p["goal"], p["job"]]
    assert _fhir(team.sender.get("/fhir/Goal?lifecycle-status=completed"))["total"] == 0
    assert _entries(_fhir(team.sender.get("/fhir/Goal?_count=1&_page=2")))[0]["id"] == p["job"]

    conditions = _fhir(team.sender.get(f"/fhir/Condition?subject={patient}"))
    assert conditions["total"] == 3
    need = _fhir(team.sender.get(f"/fhir/Condition/{p['need']}"))
    assert need["code"]["text"] == "Counselling after detention"
    assert need["severity"]["text"] == "high"
    codes = [c["code"] for cat in need["category"] for c in cat["coding"]]
    assert codes[:2] == ["health-concern", "sdoh"] and "health" in codes

    task = _fhir(team.sender.get(f"/fhir/Task/{p['theirs']}"))
    assert task["intent"] == "plan" and task["status"] == "requested"
    assert task["focus"]["reference"] == f"Goal/{p['goal']}"
    assert task["owner"]["reference"] == f"Organization/{team.network.receiver.id}"
    assert task["requester"]["reference"] == f"Organization/{team.network.sender.id}"
    assert task["restriction"]["period"]["end"] == str(TODAY + dt.timedelta(days=14))
    assert _refs(task["basedOn"]) == [f"CarePlan/{p['plan']}"]
    family = _fhir(team.sender.get(f"/fhir/Task/{p['family']}"))
    assert family["owner"]["reference"] == patient
    # plan resources keep no versions: vread is the packet resources' only
    _fhir(team.sender.get(f"/fhir/Goal/{p['goal']}/_history/1"), 404)

    reads = db.scalar(
        select(func.count())
        .select_from(AuditRecord)
        .where(AuditRecord.action == "plan.read", AuditRecord.subject == patient)
    )
    assert reads >= 10  # one per resource read, one per plan a search disclosed


def test_a_referral_linked_task_points_at_the_referral_task(team: Team) -> None:
    p = _plan(team)
    sent = team.network.submit()
    assert sent.status_code == 201, sent.text
    rid = sent.json()["id"]
    linked = team.sender.put(
        f"/cases/{p['case']}/plan/tasks/{p['ours']}/referral", json={"referral_id": rid}
    )
    assert linked.status_code == 200, linked.text
    task = _fhir(team.sender.get(f"/fhir/Task/{p['ours']}"))
    assert task["output"][0]["valueReference"]["reference"] == f"Task/{rid}"
    # the referral's own Task is still the referral's
    referral = _fhir(team.network.sender.get(f"/fhir/Task/{rid}"))
    assert referral["intent"] == "order"
    # the Task search is the referrals' only
    listed = _fhir(
        team.network.sender.get("/fhir/Task?requester=Organization/" + str(team.network.sender.id))
    )
    assert {t["id"] for t in _entries(listed)} == {rid}


def test_a_partner_sees_only_its_goal_until_the_consent_is_revoked(db: Session, team: Team) -> None:
    p = _plan(team)
    patient = f"Patient/{team.network.client_id}"
    receiver = team.receiver
    goals = _fhir(receiver.get(f"/fhir/Goal?patient={patient}"))
    assert [g["id"] for g in _entries(goals)] == [p["goal"]]
    assert _fhir(receiver.get(f"/fhir/Goal/{p['goal']}"))["id"] == p["goal"]
    care_plan = _fhir(receiver.get(f"/fhir/CarePlan/{p['plan']}"))
    assert _refs(care_plan["goal"]) == [f"Goal/{p['goal']}"]
    assert [a["reference"]["reference"] for a in care_plan["activity"]] == [f"Task/{p['theirs']}"]
    assert _refs(care_plan["addresses"]) == [f"Condition/{p['need']}"]
    assert "note" not in care_plan  # the disengagement plan is the owner's
    conditions = _fhir(receiver.get(f"/fhir/Condition?patient={patient}"))
    assert [c["id"] for c in _entries(conditions)] == [p["need"]]
    assert _fhir(receiver.get(f"/fhir/Task/{p['theirs']}"))["id"] == p["theirs"]
    for path in (
        f"/fhir/Goal/{p['job']}",
        f"/fhir/Task/{p['ours']}",
        f"/fhir/Condition/{p['barrier']}",
        f"/fhir/Condition/{p['job_need']}",
    ):
        assert _fhir(receiver.get(path), 404)["resourceType"] == "OperationOutcome", path

    consent_service.revoke(
        db, staff(team.network.sender.id), series_id=team.coordination, reason="client asked"
    )
    db.commit()
    for path in (f"/fhir/Goal/{p['goal']}", f"/fhir/CarePlan/{p['plan']}"):
        _fhir(receiver.get(path), 404)
    for kind in ("CarePlan", "Goal", "Condition"):
        assert _fhir(receiver.get(f"/fhir/{kind}?patient={patient}"))["total"] == 0
    denied = db.scalar(
        select(func.count())
        .select_from(AuditRecord)
        .where(
            AuditRecord.action == "plan.read",
            AuditRecord.outcome == Outcome.DENIED,
            AuditRecord.subject == f"Goal/{p['goal']}",
        )
    )
    assert denied == 1


def test_anyone_else_gets_404(
    db: Session,
    team: Team,
    make_account: MakeAccount,
    staff_client: Callable[[Account], StaffClient],
) -> None:
    p = _plan(team)
    admin = staff_client(make_account(org=team.network.sender.org, roles=(Role.ORG_ADMIN,)))
    paths = [
        f"/fhir/CarePlan/{p['plan']}",
        f"/fhir/Goal/{p['goal']}",
        f"/fhir/Condition/{p['need']}",
        f"/fhir/Task/{p['theirs']}",
    ]
    for caller in (team.second, admin):
        for path in paths:
            answer = _fhir(caller.get(path), 404)
            assert answer["issue"][0]["code"] == "not-found", path
    # the same answer as an id that does not exist
    unknown = _fhir(team.second.get(f"/fhir/Goal/{uuid.uuid4()}"), 404)
    known = _fhir(team.second.get(f"/fhir/Goal/{p['goal']}"), 404)
    assert unknown["issue"][0]["details"] == known["issue"][0]["details"]
    for kind in ("CarePlan", "Goal", "Condition"):
        assert _fhir(team.second.get(f"/fhir/{kind}"))["total"] == 0
    _fhir(admin.get("/fhir/Goal"), 403)


def test_system_clients_read_with_the_scope_of_the_type(
    app: FastAPI, db: Session, team: Team
) -> None:
    p = _plan(team)
    sender = team.network.sender  # its token has Task and ServiceRequest scopes only
    _fhir(sender.get(f"/fhir/Goal/{p['goal']}"), 403)
    _fhir(sender.get("/fhir/CarePlan"), 403)
    assert _fhir(sender.get(f"/fhir/Task/{p['ours']}"))["id"] == p["ours"]

    def system(org: Any) -> dict[str, str]:
        registered = make_system_client(db, org, scopes=PLAN_SCOPES)
        db.commit()
        return bearer(app, registered, " ".join(PLAN_SCOPES))

    owner = system(team.network.sender.org)
    http = sender.http
    plans = _fhir(http.get("/fhir/CarePlan", headers=owner))
    assert [c["id"] for c in _entries(plans)] == [p["plan"]]
    assert _fhir(http.get(f"/fhir/Condition/{p['barrier']}", headers=owner))["id"] == p["barrier"]
    partner = system(team.network.receiver.org)
    goals = _fhir(http.get("/fhir/Goal", headers=partner))
    assert [g["id"] for g in _entries(goals)] == [p["goal"]]
    _fhir(http.get(f"/fhir/Goal/{p['job']}", headers=partner), 404)


def test_the_capability_statement_lists_the_plan_searches(team: Team) -> None:
    statement = _fhir(team.sender.http.get("/fhir/metadata"))
    kinds = {r["type"]: r for r in statement["rest"][0]["resource"]}
    goal = kinds["Goal"]
    assert {"read", "search-type"} <= {i["code"] for i in goal["interaction"]}
    assert {p["name"] for p in goal["searchParam"]} == {"patient", "subject", "lifecycle-status"}
    assert goal["supportedProfile"] == [GOAL_PROFILE]
    for kind in ("CarePlan", "Condition"):
        assert "search-type" in {i["code"] for i in kinds[kind]["interaction"]}
    assert "plan" in kinds["Task"]["documentation"]
    bad = _fhir(team.sender.get("/fhir/Goal?lifecycle-status=finished"), 400)
    assert "lifecycle-status" in bad["issue"][0]["details"]["text"]
    _fhir(team.sender.get("/fhir/CarePlan?patient=not-an-id"), 400)
