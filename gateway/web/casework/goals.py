"""Goals of the plan: add one (`goals.add_goal`) and change its status (`goals.update_goal`),
as the API's `POST /cases/{id}/plan/goals` and `PATCH .../goals/{goal_id}`."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response

from gateway.web.casework.common import (
    CasePage,
    Posted,
    PostedDep,
    case_or_page,
    not_found,
    one,
    refusal,
    service_problem,
    typed_day,
)
from gateway.web.casework.items import Entry, entries
from gateway.web.casework.labels import (
    ACHIEVEMENT_LABELS,
    DOMAIN_LABELS,
    KIND_LABELS,
    LIFECYCLE_LABELS,
)
from gateway.web.clients.forms import Problems, attempt
from gateway.web.i18n import N_
from gateway.web.shell import Staff, StaffDep, go, parse_uuid
from gateway.workflow.casework import assessments, goals, planning, plans
from gateway.workflow.casework.errors import CaseworkInvalid
from gateway.workflow.casework.models import Domain
from gateway.workflow.casework.schemas import Achievement, GoalIn, GoalOut, GoalUpdate, Lifecycle
from kernel.errors import RefhubError

__all__ = ["router"]

router = APIRouter()
_FIELDS = ("domain", "target_on", "family_words", "worker_words", "measure")
_SHORTER = N_("Shorten this to at most 2,000 characters")
_MESSAGES = {
    "domain": N_("Choose the life domain the goal is about"),
    "family_words": N_("Write the goal in the family's words, in your words, or both"),
    "addresses": N_("Tick only needs and barriers of the latest assessment"),
}


def _goal_page(
    staff: Staff,
    page: CasePage,
    form: dict[str, Any],
    errors: Problems,
    items: list[Entry],
    *,
    status: int = 200,
) -> HTMLResponse:
    settings = planning.settings_of(staff.session, page.case.owner_org_id)
    return staff.page(
        "casework/goal_new.html",
        status=status,
        errors=errors,
        form=form,
        items=items,
        settings=settings,
        domain_labels=DOMAIN_LABELS,
        kind_labels=KIND_LABELS,
        **page.context(),
    )


def _parse_goal(
    staff: Staff, posted: Posted, items: list[Entry]
) -> tuple[GoalIn | None, dict[str, Any], Problems]:
    form: dict[str, Any] = {key: one(posted, key) for key in _FIELDS}
    known = {str(i.id) for i in items}
    form["addresses"] = [a for a in posted.get("addresses", []) if a in known]
    problems: Problems = []
    if form["domain"] and form["domain"] not in DOMAIN_LABELS:
        problems.append({"field": "domain", "message": staff.gettext(_MESSAGES["domain"])})
    target = typed_day(staff, form["target_on"], "target_on", problems)
    for key in ("family_words", "worker_words", "measure"):
        if len(form[key].strip()) > 2000:
            problems.append({"field": key, "message": staff.gettext(_SHORTER)})
    if problems:
        return None, form, problems
    body = GoalIn(
        domain=Domain(form["domain"]) if form["domain"] else None,
        target_on=target,
        family_words=form["family_words"],
        worker_words=form["worker_words"],
        measure=form["measure"],
        addresses=[uuid.UUID(a) for a in form["addresses"]],
    )
    return body, form, []


def _addressable(staff: Staff, page: CasePage) -> list[Entry]:
    return entries(assessments.latest(staff.session, page.id), "needs", "barriers")


@router.get("/cases/{case_id}/goals/new", response_class=HTMLResponse)
def goal_form(staff: StaffDep, case_id: str) -> Response:
    page = case_or_page(staff, case_id, "goal.write")
    if not isinstance(page, CasePage):
        return page
    try:
        items = _addressable(staff, page)
    except RefhubError as error:
        return refusal(staff, error)
    return _goal_page(staff, page, {key: "" for key in _FIELDS} | {"addresses": []}, [], items)


@router.post("/cases/{case_id}/goals/new", response_class=HTMLResponse)
def add_goal(staff: StaffDep, case_id: str, posted: PostedDep) -> Response:
    """Add the goal to the plan, then back to the case at the new goal."""
    staff.check_csrf(one(posted, "csrf_token"))
    page = case_or_page(staff, case_id, "goal.write")
    if not isinstance(page, CasePage):
        return page
    try:
        items = _addressable(staff, page)
    except RefhubError as error:
        return refusal(staff, error)
    body, form, problems = _parse_goal(staff, posted, items)
    if body is None:
        return _goal_page(staff, page, form, problems, items, status=422)
    try:
        with attempt(staff.session):
            goal = goals.add_goal(staff.session, staff.caller, page.id, body)
    except CaseworkInvalid as error:
        messages = {k: staff.gettext(v) for k, v in _MESSAGES.items()}
        problem = service_problem(staff, error, messages)
        return _goal_page(staff, page, form, problem, items, status=422)
    except RefhubError as error:
        return refusal(staff, error)
    return go(f"/ui/cases/{page.id}?done=goal#goal-{goal.id}")


def goal_of(staff: Staff, page: CasePage, goal_id: str) -> GoalOut | None:
    """The goal of the case's plan (None: no such goal, or no plan yet)."""
    wanted = parse_uuid(goal_id)
    plan = plans.read_plan(staff.session, staff.caller, page.id) if wanted else None
    return next((g for g in plan.goals if g.id == wanted), None) if plan else None


def goal_page(
    staff: Staff, case_id: str, goal_id: str, action: str
) -> tuple[CasePage, GoalOut] | Response:
    """The case and the goal of a page's path, or the page to answer instead (the 404
    page, or the refusal page)."""
    page = case_or_page(staff, case_id, action)
    if not isinstance(page, CasePage):
        return page
    try:
        goal = goal_of(staff, page, goal_id)
    except RefhubError as error:
        return refusal(staff, error)
    if goal is None:
        return not_found(staff)
    return page, goal


def _status_page(
    staff: Staff,
    page: CasePage,
    goal: GoalOut,
    form: dict[str, str],
    errors: Problems,
    *,
    status: int = 200,
) -> HTMLResponse:
    return staff.page(
        "casework/goal_status.html",
        status=status,
        errors=errors,
        form=form,
        goal=goal,
        lifecycle_labels=LIFECYCLE_LABELS,
        achievement_labels=ACHIEVEMENT_LABELS,
        domain_labels=DOMAIN_LABELS,
        **page.context(),
    )


@router.get("/cases/{case_id}/goals/{goal_id}/status", response_class=HTMLResponse)
def goal_status_form(staff: StaffDep, case_id: str, goal_id: str) -> Response:
    found = goal_page(staff, case_id, goal_id, "goal.write")
    if not isinstance(found, tuple):
        return found
    page, goal = found
    form = {
        "lifecycle_status": goal.lifecycle_status.value,
        "achievement_status": goal.achievement_status.value if goal.achievement_status else "",
    }
    return _status_page(staff, page, goal, form, [])


@router.post("/cases/{case_id}/goals/{goal_id}/status", response_class=HTMLResponse)
def change_goal_status(staff: StaffDep, case_id: str, goal_id: str, posted: PostedDep) -> Response:
    """Change the goal's lifecycle and achievement status, then back to the goal."""
    staff.check_csrf(one(posted, "csrf_token"))
    found = goal_page(staff, case_id, goal_id, "goal.write")
    if not isinstance(found, tuple):
        return found
    page, goal = found
    form = {k: one(posted, k) for k in ("lifecycle_status", "achievement_status")}
    problems: Problems = []
    if form["lifecycle_status"] not in LIFECYCLE_LABELS:
        message = staff.gettext("Choose where the goal stands")
        problems.append({"field": "lifecycle_status", "message": message})
    if form["achievement_status"] and form["achievement_status"] not in ACHIEVEMENT_LABELS:
        message = staff.gettext("Choose one of the options")
        problems.append({"field": "achievement_status", "message": message})
    if problems:
        return _status_page(staff, page, goal, form, problems, status=422)
    body = GoalUpdate(
        lifecycle_status=Lifecycle(form["lifecycle_status"]),
        achievement_status=Achievement(form["achievement_status"])
        if form["achievement_status"]
        else None,
    )
    try:
        with attempt(staff.session):
            goals.update_goal(staff.session, staff.caller, page.id, goal.id, body)
    except CaseworkInvalid as error:
        return _status_page(staff, page, goal, form, service_problem(staff, error), status=422)
    except RefhubError as error:
        return refusal(staff, error)
    return go(f"/ui/cases/{page.id}?done=goal-status#goal-{goal.id}")
