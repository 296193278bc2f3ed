"""The plan's own parts (each barrier's strategy, each strength's use, the disengagement
plan, the review period: `plans.put_plan`) and the plan's reviews (`reviews.add_review`),
as the API's `PUT /cases/{id}/plan` and `POST /cases/{id}/plan/reviews`."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError

from gateway.web.casework.common import (
    CasePage,
    Posted,
    PostedDep,
    case_or_page,
    one,
    refusal,
    service_problem,
    shown_day,
    today,
    typed_day,
)
from gateway.web.casework.items import Entry, entries
from gateway.web.casework.labels import DOMAIN_LABELS, SEVERITY_LABELS
from gateway.web.clients.forms import Problems, attempt
from gateway.web.i18n import N_
from gateway.web.shell import Staff, StaffDep, go
from gateway.workflow.casework import assessments, planning, plans, reviews
from gateway.workflow.casework.errors import CaseworkInvalid
from gateway.workflow.casework.schemas import PlanIn, PlanOut, ReviewIn
from kernel.errors import RefhubError

__all__ = ["router"]

router = APIRouter()
_DISENGAGEMENT = ("ends_when", "how", "keep_going")
_PERIOD = N_("Enter the review period as a number of days from 7 to 365, or leave it empty")
_SHORTER = N_("Shorten this to at most 2,000 characters")


def _plan_page(
    staff: Staff,
    page: CasePage,
    form: dict[str, Any],
    errors: Problems,
    barriers: list[Entry],
    strengths: list[Entry],
    *,
    status: int = 200,
    has_plan: bool = False,
    default_days: int = 90,
) -> HTMLResponse:
    return staff.page(
        "casework/plan.html",
        status=status,
        errors=errors,
        form=form,
        barriers=barriers,
        strengths=strengths,
        has_plan=has_plan,
        default_days=default_days,
        domain_labels=DOMAIN_LABELS,
        severity_labels=SEVERITY_LABELS,
        **page.context(),
    )


def _form_of(plan: PlanOut | None) -> dict[str, Any]:
    form: dict[str, Any] = {"review_every_days": ""}
    if plan is None:
        return form | {key: "" for key in _DISENGAGEMENT}
    form |= plan.disengagement.model_dump()
    form["review_every_days"] = str(plan.review_every_days)
    for s in plan.strategies:
        form[f"strategy-{s.item_id}"] = s.text
    for s in plan.strength_uses:
        form[f"use-{s.item_id}"] = s.text
    return form


def _parse_plan(
    staff: Staff, posted: Posted, barriers: list[Entry], strengths: list[Entry]
) -> tuple[PlanIn | None, dict[str, Any], Problems]:
    form: dict[str, Any] = {key: one(posted, key) for key in (*_DISENGAGEMENT, "review_every_days")}
    problems: Problems = []
    rows: dict[str, list[dict[str, str]]] = {"strategies": [], "strength_uses": []}
    for prefix, field, items in (
        ("strategy", "strategies", barriers),
        ("use", "strength_uses", strengths),
    ):
        for item in items:
            key = f"{prefix}-{item.id}"
            form[key] = one(posted, key)
            if len(form[key].strip()) > 2000:
                problems.append({"field": key, "message": staff.gettext(_SHORTER)})
            elif form[key].strip():
                rows[field].append({"item_id": str(item.id), "text": form[key]})
    for key in _DISENGAGEMENT:
        if len(form[key].strip()) > 2000:
            problems.append({"field": key, "message": staff.gettext(_SHORTER)})
    days: int | None = None
    typed = form["review_every_days"].strip()
    if typed:
        if typed.isdigit() and 7 <= int(typed) <= 365:
            days = int(typed)
        else:
            problems.append({"field": "review_every_days", "message": staff.gettext(_PERIOD)})
    if problems:
        return None, form, problems
    raw = {
        **rows,
        "disengagement": {key: form[key] for key in _DISENGAGEMENT},
        "review_every_days": days,
    }
    try:
        return PlanIn.model_validate(raw), form, []
    except ValidationError:
        message = staff.gettext("Check what you wrote: something here cannot be recorded")
        return None, form, [{"field": "", "message": message}]


def _items(staff: Staff, page: CasePage) -> tuple[list[Entry], list[Entry]]:
    latest = assessments.latest(staff.session, page.id)
    return entries(latest, "barriers"), entries(latest, "strengths")


@router.get("/cases/{case_id}/plan", response_class=HTMLResponse)
def plan_form(staff: StaffDep, case_id: str) -> Response:
    """The plan form: strategies for the barriers, uses of the strengths, when to end."""
    page = case_or_page(staff, case_id, "plan.write")
    if not isinstance(page, CasePage):
        return page
    try:
        plan = plans.read_plan(staff.session, staff.caller, page.id)
        barriers, strengths = _items(staff, page)
    except RefhubError as error:
        return refusal(staff, error)
    days = planning.settings_of(staff.session, page.case.owner_org_id).review_every_days
    return _plan_page(
        staff,
        page,
        _form_of(plan),
        [],
        barriers,
        strengths,
        has_plan=plan is not None,
        default_days=days,
    )


@router.post("/cases/{case_id}/plan", response_class=HTMLResponse)
def save_plan(staff: StaffDep, case_id: str, posted: PostedDep) -> Response:
    """Write the plan (created the first time; its goals and tasks stay)."""
    staff.check_csrf(one(posted, "csrf_token"))
    page = case_or_page(staff, case_id, "plan.write")
    if not isinstance(page, CasePage):
        return page
    try:
        barriers, strengths = _items(staff, page)
    except RefhubError as error:
        return refusal(staff, error)
    body, form, problems = _parse_plan(staff, posted, barriers, strengths)
    days = planning.settings_of(staff.session, page.case.owner_org_id).review_every_days
    has_plan = planning.plan_of_case(staff.session, page.id) is not None
    if body is None:
        return _plan_page(
            staff, page, form, problems, barriers, strengths,
            status=422, has_plan=has_plan, default_days=days,
        )  # fmt: skip
    try:
        with attempt(staff.session):
            plans.put_plan(staff.session, staff.caller, page.id, body)
    except CaseworkInvalid as error:
        problem = service_problem(staff, error)
        return _plan_page(
            staff, page, form, problem, barriers, strengths,
            status=422, has_plan=has_plan, default_days=days,
        )  # fmt: skip
    except RefhubError as error:
        return refusal(staff, error)
    return go(f"/ui/cases/{page.id}?done=plan#plan")


_REVIEW_MESSAGES = {
    "what_changed": N_("Say what changed since the plan was made or last reviewed"),
    "why": N_("Say why it changed"),
}


def _review_page(
    staff: Staff, page: CasePage, form: dict[str, str], errors: Problems, *, status: int = 200
) -> HTMLResponse:
    return staff.page(
        "casework/review.html", status=status, errors=errors, form=form, **page.context()
    )


@router.get("/cases/{case_id}/reviews/new", response_class=HTMLResponse)
def review_form(staff: StaffDep, case_id: str) -> Response:
    page = case_or_page(staff, case_id, "plan-review.write")
    if not isinstance(page, CasePage):
        return page
    form = {
        "reviewed_on": shown_day(today(staff)),
        "what_changed": "",
        "why": "",
        "next_review_on": "",
    }
    return _review_page(staff, page, form, [])


@router.post("/cases/{case_id}/reviews/new", response_class=HTMLResponse)
def add_review(staff: StaffDep, case_id: str, posted: PostedDep) -> Response:
    """Record a review of the plan, then back to the case."""
    staff.check_csrf(one(posted, "csrf_token"))
    page = case_or_page(staff, case_id, "plan-review.write")
    if not isinstance(page, CasePage):
        return page
    form = {k: one(posted, k) for k in ("reviewed_on", "what_changed", "why", "next_review_on")}
    problems: Problems = []
    reviewed = typed_day(
        staff,
        form["reviewed_on"],
        "reviewed_on",
        problems,
        required=N_("Enter the day of the review, for example 30/11/2026"),
    )
    following = typed_day(staff, form["next_review_on"], "next_review_on", problems)
    for key, message in _REVIEW_MESSAGES.items():
        if not form[key].strip():
            problems.append({"field": key, "message": staff.gettext(message)})
        elif len(form[key].strip()) > 2000:
            problems.append({"field": key, "message": staff.gettext(_SHORTER)})
    if problems or reviewed is None:
        return _review_page(staff, page, form, problems, status=422)
    body = ReviewIn(
        reviewed_on=reviewed,
        what_changed=form["what_changed"],
        why=form["why"],
        next_review_on=following,
    )
    try:
        with attempt(staff.session):
            reviews.add_review(staff.session, staff.caller, page.id, body)
    except CaseworkInvalid as error:
        return _review_page(staff, page, form, service_problem(staff, error), status=422)
    except RefhubError as error:
        return refusal(staff, error)
    return go(f"/ui/cases/{page.id}?done=review#reviews")
