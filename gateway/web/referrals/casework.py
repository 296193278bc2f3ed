"""Re-sending a declined referral to another provider, and closing the case a handover
brought, with its continuation plan (a check-your-answers page before closing)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Form, Query
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError

from directory import search as directory_search
from directory.access import Viewer
from gateway.web.i18n import N_
from gateway.web.referrals.actions import refused
from gateway.web.referrals.detail import referral_page
from gateway.web.referrals.rows import labels
from gateway.web.shell import Staff, StaffDep, go, parse_uuid
from gateway.workflow import access, cases, views
from gateway.workflow import resend as resend_service
from gateway.workflow.models import Handover, Referral
from gateway.workflow.schemas import CaseCloseIn, ResendIn
from kernel.errors import RefhubError

__all__ = ["CLOSURE_REASONS", "routes"]

routes = APIRouter(include_in_schema=False)
Field = Annotated[str, Form(max_length=1024)]
LongField = Annotated[str, Form(max_length=4000)]
CLOSURE_REASONS = {
    "goals-met": N_("The client's goals were met"),
    "client-disengaged": N_("The client stopped taking part"),
    "client-moved": N_("The client moved away"),
    "transferred": N_("The case moved to another organisation"),
    "client-declined": N_("The client declined further help"),
    "deceased": N_("The client died"),
    "other": N_("Another reason (say it in the outcome)"),
}


def _resend_page(
    staff: Staff,
    referral_id: uuid.UUID,
    text: str,
    *,
    status: int = 200,
    errors: list[dict[str, str]] | None = None,
) -> HTMLResponse:
    referral = access.get_visible(staff.session, staff.caller, referral_id)
    out = views.referral_out(staff.session, staff.caller, referral)
    same_needs = list(referral.service_codes) if not text else []
    hits = _other_services(staff, referral.service_id, same_needs, text)
    widened = bool(same_needs) and not hits
    if widened:  # nothing else for the same needs: every service taking referrals
        hits = _other_services(staff, referral.service_id, [], "")
    return staff.page(
        "referrals/resend.html",
        status=status,
        nav="outbox",
        referral=out,
        hits=hits,
        widened=widened,
        text=text,
        errors=errors or [],
    )


def _other_services(
    staff: Staff, current: uuid.UUID | None, categories: list[str], text: str
) -> list[directory_search.Hit]:
    """Services accepting electronic referrals (for these needs, or matching the words),
    the referral's own service left out."""
    query = directory_search.Query(
        categories=categories, text=text or None, accepting_referrals=True, per_page=20
    )
    try:
        found = directory_search.search(staff.session, Viewer.of(staff.caller), query)
    except RefhubError:
        return []
    return [h for h in found.hits if h.details.service.id != current]


@routes.get("/referrals/{referral_id}/resend", response_class=HTMLResponse)
def choose(
    referral_id: uuid.UUID, staff: StaffDep, q: Annotated[str, Query(max_length=100)] = ""
) -> HTMLResponse:
    try:
        return _resend_page(staff, referral_id, q.strip())
    except RefhubError:
        return referral_page(staff, referral_id)


@routes.post("/referrals/{referral_id}/resend", response_class=HTMLResponse)
def resend(
    referral_id: uuid.UUID, staff: StaffDep, service_id: Field = "", csrf_token: Field = ""
) -> Response:
    staff.check_csrf(csrf_token)
    chosen = parse_uuid(service_id)
    if chosen is None:
        return _resend_page(
            staff,
            referral_id,
            "",
            status=422,
            errors=[
                {
                    "field": "service_id",
                    "message": staff.gettext("Choose the service to send it to."),
                }
            ],
        )
    body = ResendIn(service_id=chosen)
    try:
        done = resend_service.resend(
            staff.session,
            staff.caller,
            referral_id,
            service_id=body.service_id,
            idempotency_key=body.idempotency_key,
        )
    except RefhubError as exc:
        refused(staff, exc)
        return _resend_page(
            staff, referral_id, "", status=exc.status, errors=[{"field": "", "message": exc.detail}]
        )
    return go(f"/ui/referrals/{done.referral.id}?done=resent")


def _case_of(staff: Staff, referral_id: uuid.UUID) -> tuple[Referral, uuid.UUID]:
    """The referral and the id of the case its handover brought to us."""
    referral = access.get_visible(staff.session, staff.caller, referral_id)
    handover = staff.session.get(Handover, referral.id)
    if handover is None or handover.case_id is None:
        raise cases.HandoverNotFound("This referral brought no case to close.")
    case = cases.get_case(staff.session, staff.caller, handover.case_id)
    return referral, case.id


def _close_page(
    staff: Staff,
    referral_id: uuid.UUID,
    step: str,
    form: dict[str, str],
    *,
    status: int = 200,
    errors: list[dict[str, str]] | None = None,
) -> HTMLResponse:
    referral, _ = _case_of(staff, referral_id)
    client = labels(staff.session, staff.caller, [referral]).get(referral.client_id)
    return staff.page(
        f"referrals/close_{step}.html",
        status=status,
        nav="inbox",
        referral=views.referral_out(staff.session, staff.caller, referral),
        client_name=client.name if client else None,
        form=form,
        reasons=CLOSURE_REASONS,
        errors=errors or [],
    )


@routes.get("/referrals/{referral_id}/close", response_class=HTMLResponse)
def close_form(referral_id: uuid.UUID, staff: StaffDep) -> HTMLResponse:
    try:
        return _close_page(staff, referral_id, "form", {})
    except RefhubError as exc:
        return referral_page(
            staff, referral_id, status=exc.status, errors=[{"field": "", "message": exc.detail}]
        )


_FIELDS = {"reason": "reason", "outcome": "outcome", "continuation_plan": "continuation_plan"}
_MESSAGES = {
    "reason": N_("Choose why the case is closing."),
    "outcome": N_("Say what the outcome was."),
    "continuation_plan": N_("Say what happens next for the client."),
}


@routes.post("/referrals/{referral_id}/close", response_class=HTMLResponse)
def close(
    referral_id: uuid.UUID,
    staff: StaffDep,
    reason: Field = "",
    outcome: LongField = "",
    continuation_plan: LongField = "",
    confirmed: Field = "",
    csrf_token: Field = "",
) -> Response:
    staff.check_csrf(csrf_token)
    form = {"reason": reason, "outcome": outcome, "continuation_plan": continuation_plan}
    if confirmed == "change":  # "Change the answers" on the check page: the form, kept
        return _close_page(staff, referral_id, "form", form)
    try:
        body = CaseCloseIn.model_validate(
            {
                "reason": reason,
                "outcome": outcome.strip(),
                "continuation_plan": continuation_plan.strip(),
            }
        )
    except ValidationError as exc:
        fields = {str(e["loc"][0]) for e in exc.errors() if e["loc"]}
        errors = [
            {"field": _FIELDS[f], "message": staff.gettext(_MESSAGES[f])}
            for f in _FIELDS
            if f in fields
        ]
        return _close_page(staff, referral_id, "form", form, status=422, errors=errors)
    if confirmed != "yes":
        return _close_page(staff, referral_id, "check", form)
    try:
        _, case_id = _case_of(staff, referral_id)
        cases.close_case(staff.session, staff.caller, case_id, body)
    except RefhubError as exc:
        refused(staff, exc)
        return _close_page(
            staff,
            referral_id,
            "form",
            form,
            status=exc.status,
            errors=[{"field": "", "message": exc.detail}],
        )
    return go(f"/ui/referrals/{referral_id}?done=closed")
