"""Tasks under the plan's goals: add one (`plan_tasks.add_task`), update its status and note
(`plan_tasks.update_task`), and name the referral that fulfils it
(`plan_tasks.link_referral`), as the API's task routes."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import select

from gateway import consent_wiring
from gateway.web.casework.common import (
    CasePage,
    PostedDep,
    case_or_page,
    not_found,
    one,
    refusal,
    service_problem,
    typed_day,
)
from gateway.web.casework.goals import goal_page
from gateway.web.casework.labels import DOMAIN_LABELS, RESPONSIBLE_LABELS, TASK_STATUS_LABELS
from gateway.web.clients.forms import Problems, attempt
from gateway.web.i18n import N_
from gateway.web.shell import Staff, StaffDep, go, parse_uuid
from gateway.workflow.casework import plan_tasks, plans
from gateway.workflow.casework.errors import CaseworkInvalid
from gateway.workflow.casework.models import Responsible, TaskStatus
from gateway.workflow.casework.schemas import GoalOut, TaskIn, TaskOut, TaskUpdate
from gateway.workflow.models import Referral
from kernel.errors import RefhubError

__all__ = ["parse_task_update", "router"]

router = APIRouter()
_MESSAGES = {
    "description": N_("Describe the task: what is to be done"),
    "responsible_org_id": N_("Choose the partner organisation that carries out the task"),
}
_NOTE_MAX = 2000


def _partners(staff: Staff) -> list[tuple[str, str]]:
    """Active organisations of the network other than the caller's, by name."""
    own = staff.caller.organisation_id
    members = consent_wiring.ORGANISATIONS.members(staff.session)
    return [(str(org_id), name) for org_id, name, _type in members if org_id != own]


def _task_page(
    staff: Staff,
    page: CasePage,
    goal: GoalOut,
    form: dict[str, str],
    errors: Problems,
    *,
    status: int = 200,
) -> HTMLResponse:
    return staff.page(
        "casework/task_new.html",
        status=status,
        errors=errors,
        form=form,
        goal=goal,
        partners=_partners(staff),
        responsible_labels=RESPONSIBLE_LABELS,
        domain_labels=DOMAIN_LABELS,
        **page.context(),
    )


@router.get("/cases/{case_id}/goals/{goal_id}/tasks/new", response_class=HTMLResponse)
def task_form(staff: StaffDep, case_id: str, goal_id: str) -> Response:
    found = goal_page(staff, case_id, goal_id, "plan-task.write")
    if not isinstance(found, tuple):
        return found
    page, goal = found
    form = {"description": "", "responsible": "organisation", "partner": "", "due_on": ""}
    return _task_page(staff, page, goal, form, [])


@router.post("/cases/{case_id}/goals/{goal_id}/tasks/new", response_class=HTMLResponse)
def add_task(staff: StaffDep, case_id: str, goal_id: str, posted: PostedDep) -> Response:
    """Add the task under the goal, then back to the goal."""
    staff.check_csrf(one(posted, "csrf_token"))
    found = goal_page(staff, case_id, goal_id, "plan-task.write")
    if not isinstance(found, tuple):
        return found
    page, goal = found
    form = {k: one(posted, k) for k in ("description", "responsible", "partner", "due_on")}
    problems: Problems = []
    if not form["description"].strip():
        problems.append(
            {"field": "description", "message": staff.gettext(_MESSAGES["description"])}
        )
    elif len(form["description"].strip()) > 2000:
        message = staff.gettext("Shorten this to at most 2,000 characters")
        problems.append({"field": "description", "message": message})
    if form["responsible"] not in RESPONSIBLE_LABELS:
        message = staff.gettext("Choose who carries out the task")
        problems.append({"field": "responsible", "message": message})
    partner = parse_uuid(form["partner"]) if form["responsible"] == "partner" else None
    if form["responsible"] == "partner" and partner is None:
        message = staff.gettext(_MESSAGES["responsible_org_id"])
        problems.append({"field": "partner", "message": message})
    due = typed_day(staff, form["due_on"], "due_on", problems)
    if problems:
        return _task_page(staff, page, goal, form, problems, status=422)
    body = TaskIn(
        description=form["description"],
        responsible=Responsible(form["responsible"]),
        responsible_org_id=partner,
        due_on=due,
    )
    try:
        with attempt(staff.session):
            task = plan_tasks.add_task(staff.session, staff.caller, page.id, goal.id, body)
    except CaseworkInvalid as error:
        problem = service_problem(staff, error)
        if problem[0]["field"] == "responsible_org_id":
            problem[0]["field"] = "partner"
        return _task_page(staff, page, goal, form, problem, status=422)
    except RefhubError as error:
        return refusal(staff, error)
    return go(f"/ui/cases/{page.id}?done=task#task-{task.id}")


def _task_page_of(
    staff: Staff, case_id: str, task_id: str, action: str
) -> tuple[CasePage, tuple[GoalOut, TaskOut]] | Response:
    """The case and the task (with its goal) of a page's path, or the page to answer
    instead (the 404 page, or the refusal page)."""
    page = case_or_page(staff, case_id, action)
    if not isinstance(page, CasePage):
        return page
    try:
        found = _task_of(staff, page, task_id)
    except RefhubError as error:
        return refusal(staff, error)
    if found is None:
        return not_found(staff)
    return page, found


def _task_of(staff: Staff, page: CasePage, task_id: str) -> tuple[GoalOut, TaskOut] | None:
    wanted = parse_uuid(task_id)
    plan = plans.read_plan(staff.session, staff.caller, page.id) if wanted else None
    for goal in plan.goals if plan else []:
        for task in goal.tasks:
            if task.id == wanted:
                return goal, task
    return None


def parse_task_update(
    staff: Staff, status: str, note: str, prefix: str = ""
) -> tuple[TaskUpdate | None, Problems]:
    """A typed status and note as `TaskUpdate` (fields named with `prefix`)."""
    problems: Problems = []
    if status not in TASK_STATUS_LABELS:
        message = staff.gettext("Choose where the task stands")
        problems.append({"field": f"{prefix}status", "message": message})
    if len(note.strip()) > _NOTE_MAX:
        message = staff.gettext("Shorten the note to at most 2,000 characters")
        problems.append({"field": f"{prefix}status_note", "message": message})
    if problems:
        return None, problems
    return TaskUpdate(status=TaskStatus(status), status_note=note), []


def _status_page(
    staff: Staff,
    page: CasePage,
    found: tuple[GoalOut, TaskOut],
    form: dict[str, str],
    errors: Problems,
    *,
    status: int = 200,
) -> HTMLResponse:
    return staff.page(
        "casework/task_status.html",
        status=status,
        errors=errors,
        form=form,
        goal=found[0],
        task=found[1],
        task_status_labels=TASK_STATUS_LABELS,
        **page.context(),
    )


@router.get("/cases/{case_id}/tasks/{task_id}/status", response_class=HTMLResponse)
def task_status_form(staff: StaffDep, case_id: str, task_id: str) -> Response:
    looked = _task_page_of(staff, case_id, task_id, "plan-task.write")
    if not isinstance(looked, tuple):
        return looked
    page, found = looked
    form = {"status": found[1].status.value, "status_note": found[1].status_note}
    return _status_page(staff, page, found, form, [])


@router.post("/cases/{case_id}/tasks/{task_id}/status", response_class=HTMLResponse)
def update_task(staff: StaffDep, case_id: str, task_id: str, posted: PostedDep) -> Response:
    """Save the task's status and note, then back to the task on the case page."""
    staff.check_csrf(one(posted, "csrf_token"))
    looked = _task_page_of(staff, case_id, task_id, "plan-task.write")
    if not isinstance(looked, tuple):
        return looked
    page, found = looked
    form = {k: one(posted, k) for k in ("status", "status_note")}
    body, problems = parse_task_update(staff, form["status"], form["status_note"])
    if body is None:
        return _status_page(staff, page, found, form, problems, status=422)
    try:
        with attempt(staff.session):
            plan_tasks.update_task(staff.session, staff.caller, found[1].id, body)
    except CaseworkInvalid as error:
        return _status_page(staff, page, found, form, service_problem(staff, error), status=422)
    except RefhubError as error:
        return refusal(staff, error)
    return go(f"/ui/cases/{page.id}?done=task-status#task-{found[1].id}")


def _sent_referrals(staff: Staff, page: CasePage) -> list[dict[str, Any]]:
    """The referrals the organisation sent for the case's client, newest first: exactly
    those `plan_tasks.link_referral` accepts (the organisation's, whoever sent them)."""
    rows = staff.session.scalars(
        select(Referral)
        .where(
            Referral.requester_org_id == page.case.owner_org_id,
            Referral.client_id == page.case.client_id,
            Referral.status != "draft",
        )
        .order_by(Referral.authored_on.desc())
        .limit(100)
    ).all()
    names = consent_wiring.ORGANISATIONS.names(staff.session, [r.owner_org_id for r in rows])
    return [
        {
            "id": str(r.id),
            "kind": r.kind,
            "to": names.get(r.owner_org_id, ""),
            "status": r.status,
            "sent": r.authored_on,
        }
        for r in rows
    ]


def _link_page(
    staff: Staff,
    page: CasePage,
    found: tuple[GoalOut, TaskOut],
    form: dict[str, str],
    errors: Problems,
    *,
    status: int = 200,
) -> HTMLResponse:
    return staff.page(
        "casework/task_referral.html",
        status=status,
        errors=errors,
        form=form,
        goal=found[0],
        task=found[1],
        referrals=_sent_referrals(staff, page),
        **page.context(),
    )


@router.get("/cases/{case_id}/tasks/{task_id}/referral", response_class=HTMLResponse)
def link_form(staff: StaffDep, case_id: str, task_id: str) -> Response:
    looked = _task_page_of(staff, case_id, task_id, "plan-task.write")
    if not isinstance(looked, tuple):
        return looked
    page, found = looked
    form = {"referral": str(found[1].referral_id or "")}
    return _link_page(staff, page, found, form, [])


@router.post("/cases/{case_id}/tasks/{task_id}/referral", response_class=HTMLResponse)
def link_referral(staff: StaffDep, case_id: str, task_id: str, posted: PostedDep) -> Response:
    """Name the referral that fulfils the task, then back to the task."""
    staff.check_csrf(one(posted, "csrf_token"))
    looked = _task_page_of(staff, case_id, task_id, "plan-task.write")
    if not isinstance(looked, tuple):
        return looked
    page, found = looked
    form = {"referral": one(posted, "referral")}
    referral = parse_uuid(form["referral"])
    if referral is None:
        problem = [{"field": "referral", "message": staff.gettext("Choose the referral")}]
        return _link_page(staff, page, found, form, problem, status=422)
    try:
        with attempt(staff.session):
            plan_tasks.link_referral(staff.session, staff.caller, page.id, found[1].id, referral)
    except CaseworkInvalid as error:
        problem = service_problem(staff, error)
        problem[0]["field"] = "referral"
        return _link_page(staff, page, found, form, problem, status=422)
    except RefhubError as error:
        return refusal(staff, error)
    return go(f"/ui/cases/{page.id}?done=task-referral#task-{found[1].id}")
