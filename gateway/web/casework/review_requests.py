"""Asking a supervisor to review the case's assessment, its plan or its closing, from the
case page (`supervision.request_review`, as the API's `POST /cases/{id}/reviews-requested`);
the case page shows each request and the supervisor's decision and comments."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form
from fastapi.responses import HTMLResponse, Response

from gateway.web.casework.common import CasePage, case_or_page, refusal
from gateway.web.clients.forms import attempt
from gateway.web.shell import StaffDep, go
from gateway.workflow.casework import supervision
from gateway.workflow.casework.qa_schemas import Subject
from kernel.errors import RefhubError

__all__ = ["router"]

router = APIRouter()


@router.post("/cases/{case_id}/review-requests", response_class=HTMLResponse)
def ask_for_review(
    staff: StaffDep,
    case_id: str,
    csrf_token: Annotated[str, Form(max_length=200)] = "",
    subject: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    """Ask for the review, then back to the case's review card."""
    staff.check_csrf(csrf_token)
    page = case_or_page(staff, case_id, "supervision.request")
    if not isinstance(page, CasePage):
        return page
    if subject not in {s.value for s in Subject}:
        return go(f"/ui/cases/{page.id}#supervision")
    try:
        with attempt(staff.session):
            supervision.request_review(staff.session, staff.caller, page.id, Subject(subject))
    except RefhubError as error:
        return refusal(staff, error)
    return go(f"/ui/cases/{page.id}?done=review-asked#supervision")
