"""Staff pages of case work: opening a case from the client's record, the case page
(assessment, plan, goals and tasks, reviews), the forms that write each part, and the
plans partner agencies serve. Every page calls the same services as the JSON API
(`gateway.workflow.casework`): an organisation that does not hold the case gets the 404
page, a person who does no case work the refusal page."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Form, Query
from fastapi.responses import HTMLResponse, Response

from consent.errors import ConsentNotFound
from gateway.auth.errors import Forbidden
from gateway.web.casework import (
    assessment,
    conferences,
    goals,
    plan,
    review_requests,
    shared,
    tasks,
)
from gateway.web.casework.common import CasePage, case_or_page, not_found, refusal
from gateway.web.casework.items import Entry, entries
from gateway.web.casework.labels import (
    ACHIEVEMENT_LABELS,
    DOMAIN_LABELS,
    KIND_LABELS,
    LIFECYCLE_LABELS,
    RESPONSIBLE_LABELS,
    REVIEW_BUTTONS,
    REVIEW_SUBJECTS,
    RISK_LABELS,
    SEVERITY_LABELS,
    STAGE_LABELS,
    TASK_STATUS_LABELS,
)
from gateway.web.clients.forms import attempt
from gateway.web.i18n import N_
from gateway.web.shell import StaffDep, go, parse_uuid
from gateway.workflow.casework import assessments, opening, plans, supervision
from gateway.workflow.casework import conferences as conference_service
from gateway.workflow.casework.assessments import AssessmentOut
from kernel.errors import RefhubError

__all__ = ["router"]

router = APIRouter(prefix="/ui", include_in_schema=False)

_BANNERS = {
    "opened": N_("Case opened."),
    "assessment": N_("Assessment saved."),
    "plan": N_("Plan saved."),
    "goal": N_("Goal added. Next, add the tasks that lead to it."),
    "goal-status": N_("Goal updated."),
    "task": N_("Task added."),
    "task-status": N_("Task updated."),
    "task-referral": N_("Referral linked. The task now follows the referral's status."),
    "review": N_("Review recorded."),
    "conference": N_("Conference recorded. Its actions are now tasks of the plan."),
    "review-asked": N_("Review asked for. Your organisation's supervisors see it in their queue."),
}


def _index(versions: list[AssessmentOut]) -> dict[uuid.UUID, Entry]:
    """Every item of every version by id (the latest wording wins)."""
    out: dict[uuid.UUID, Entry] = {}
    for version in reversed(versions):
        for entry in entries(version):
            out[entry.id] = entry
    return out


@router.get("/cases/{case_id}", response_class=HTMLResponse)
def case_page(
    staff: StaffDep, case_id: str, done: Annotated[str, Query(max_length=20)] = ""
) -> Response:
    """The case: the latest assessment by domain, the plan with its goals and tasks, the
    reviews, and what to do next."""
    page = case_or_page(staff, case_id)
    if not isinstance(page, CasePage):
        return page
    try:
        versions = assessments.list_assessments(staff.session, staff.caller, page.id)
        the_plan = plans.read_plan(staff.session, staff.caller, page.id)
        meetings = conference_service.list_conferences(staff.session, staff.caller, page.id)
        asked = supervision.case_reviews(staff.session, staff.caller, page.id)
    except RefhubError as error:
        return refusal(staff, error)
    latest = versions[0] if versions else None
    banner = {"kind": "ok", "text": staff.gettext(_BANNERS[done])} if done in _BANNERS else None
    return staff.page(
        "casework/case.html",
        banner=banner,
        errors=[],
        latest=latest,
        earlier=versions[1:],
        plan=the_plan,
        conferences=meetings,
        supervision_reviews=asked,
        pending_subjects={r.subject.value for r in asked if r.decision == "pending"},
        items=_index(versions),
        strengths=entries(latest, "strengths"),
        barriers=entries(latest, "barriers"),
        domain_labels=DOMAIN_LABELS,
        kind_labels=KIND_LABELS,
        risk_labels=RISK_LABELS,
        severity_labels=SEVERITY_LABELS,
        stage_labels=STAGE_LABELS,
        lifecycle_labels=LIFECYCLE_LABELS,
        achievement_labels=ACHIEVEMENT_LABELS,
        task_status_labels=TASK_STATUS_LABELS,
        responsible_labels=RESPONSIBLE_LABELS,
        review_subjects=REVIEW_SUBJECTS,
        review_buttons=REVIEW_BUTTONS,
        **page.context(),
    )


@router.post("/clients/{client_id}/cases", response_class=HTMLResponse)
def open_case(staff: StaffDep, client_id: str, csrf_token: Annotated[str, Form()] = "") -> Response:
    """Open the organisation's case for the client (`opening.open_case`), then the case."""
    staff.check_csrf(csrf_token)
    found = parse_uuid(client_id)
    if found is None:
        return not_found(staff)
    try:
        with attempt(staff.session):
            case, created = opening.open_case(staff.session, staff.caller, found)
    except ConsentNotFound:
        return not_found(staff)
    except (Forbidden, RefhubError) as error:
        return refusal(staff, error)
    return go(f"/ui/cases/{case.id}" + ("?done=opened" if created else ""))


router.include_router(assessment.router)
router.include_router(plan.router)
router.include_router(goals.router)
router.include_router(tasks.router)
router.include_router(shared.router)
router.include_router(conferences.router)
router.include_router(review_requests.router)
