"""`/ui/team/reviews`: the supervisor's queue of review requests (assessments, plans,
closures the case workers asked them to look at), oldest first, each with a form to
approve it or return it with comments. The same service functions as the API decide
(`casework.supervision`); a refused decision shows its message at the field."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, HTTPException
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError

from consent import clients as consent_clients
from gateway.auth.models import Organisation
from gateway.web.i18n import N_
from gateway.web.shell import Staff, SupervisorDep, go, parse_uuid, refused
from gateway.web.supervision.dashboard import team_page
from gateway.workflow.casework import supervision
from gateway.workflow.casework.errors import CaseworkInvalid
from gateway.workflow.casework.qa_errors import ReviewNotFound
from gateway.workflow.casework.qa_schemas import DecisionIn, ReviewOut
from kernel.errors import RefhubError

__all__ = ["routes"]

routes = APIRouter(include_in_schema=False)
Field = Annotated[str, Form(max_length=5000)]

SUBJECTS = {
    "assessment": N_("Assessment"),
    "plan": N_("Service plan"),
    "closure": N_("Closing the case"),
}
DONE = {
    "approved": N_("Approved. The case worker can see your decision on the case."),
    "returned": N_("Returned with your comments. The case worker can see them on the case."),
}
#: Where the work is, and how the link to it reads.
LINKS = {
    "assessment": ("assessment", N_("Open the assessment")),
    "plan": ("plan", N_("Open the service plan")),
    "closure": ("plan", N_("Open the case's plan")),
}


def _rows(staff: Staff, items: list[ReviewOut]) -> list[dict[str, Any]]:
    org = staff.session.get(Organisation, staff.caller.organisation_id)
    names = consent_clients.labels_for(
        staff.session,
        staff.caller,
        {i.client_id: "service-coordination" for i in items},
        caller_org_type=org.org_type if org else None,
    )
    rows = []
    for item in items:
        label = names.get(item.client_id)
        rows.append(
            {
                "review": item,
                "client": (label.name or label.reference) if label else None,
                "subject": staff.gettext(SUBJECTS[item.subject.value]),
                "href": f"/ui/cases/{item.case_id}/{LINKS[item.subject.value][0]}",
                "link": staff.gettext(LINKS[item.subject.value][1]),
            }
        )
    return rows


def _page(
    staff: Staff,
    *,
    errors: list[dict[str, str]],
    done: str = "",
    sent: dict[str, str] | None = None,
    status: int = 200,
) -> HTMLResponse:
    items = supervision.queue(staff.session, staff.caller)
    return team_page(
        staff,
        "supervision/reviews.html",
        "reviews",
        rows=_rows(staff, items),
        errors=errors,
        done=staff.gettext(DONE[done]) if done in DONE else "",
        sent=sent or {},
        status=status,
    )


@routes.get("/team/reviews", response_class=HTMLResponse)
def review_queue(staff: SupervisorDep, done: str = "") -> HTMLResponse:
    """The organisation's review requests waiting for a decision."""
    return _page(staff, errors=[], done=done)


@routes.post("/team/reviews/{review_id}/decision", response_class=HTMLResponse)
def decide(
    review_id: str,
    staff: SupervisorDep,
    decision: Field = "",
    comments: Field = "",
    csrf_token: Field = "",
) -> Response:
    """Approve or return one request; the queue again, with the outcome or the problem."""
    staff.check_csrf(csrf_token)
    rid = parse_uuid(review_id)
    if rid is None:
        raise HTTPException(404)
    sent = {"review": str(rid), "decision": decision, "comments": comments}
    try:
        body = DecisionIn.model_validate(
            {"decision": decision or None, "comments": comments.strip() or None}
        )
    except ValidationError:
        message = staff.gettext("Choose whether to approve the work or return it.")
        field = f"decision-{rid}"
        return _page(staff, errors=[{"field": field, "message": message}], sent=sent, status=422)
    try:
        supervision.decide(staff.session, staff.caller, rid, body)
    except ReviewNotFound as exc:
        raise HTTPException(404) from exc
    except CaseworkInvalid as exc:
        message = staff.gettext("Say what to change when you return the work.")
        refused(staff, exc)
        return _page(
            staff, errors=[{"field": f"comments-{rid}", "message": message}], sent=sent, status=422
        )
    except RefhubError as exc:
        errors = refused(staff, exc, f"decision-{rid}")
        errors[0]["message"] = _refusal(staff, exc)
        return _page(staff, errors=errors, sent=sent, status=exc.status)
    return go(f"/ui/team/reviews?done={body.decision.value}")


def _refusal(staff: Staff, exc: RefhubError) -> str:
    if exc.code == "own-review-request":
        return staff.gettext("You asked for this review yourself: another supervisor decides.")
    if exc.code == "review-decided":
        return staff.gettext("This review was decided already.")
    return staff.gettext("This decision cannot be recorded.")
