"""The Workflow times section: how long the organisation gives itself to answer, start and
first contact a referral it receives, before the hub reminds it and tells the sender.
Saved with the same service function as `PUT /workflow/thresholds`."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError

from gateway.web.admin.common import Field, admin_page, refused
from gateway.web.i18n import N_
from gateway.web.shell import OrgAdminDep, Staff, go
from gateway.workflow import monitor
from gateway.workflow.schemas import ThresholdsIn
from kernel.errors import RefhubError

__all__ = ["routes"]

routes = APIRouter(include_in_schema=False)

#: field -> (label, hint, unit, the largest value ThresholdsIn takes)
FIELDS: dict[str, tuple[str, str, str, int]] = {
    "response_hours": (
        N_("Time to answer a new referral"),
        N_("From when a referral arrives until your organisation accepts or declines it."),
        N_("hours"),
        24 * 60,
    ),
    "start_hours": (
        N_("Time to start the service"),
        N_("From accepting a referral until you mark it in progress."),
        N_("hours"),
        24 * 60,
    ),
    "escalation_hours": (
        N_("Time after a reminder before the sender is told"),
        N_(
            "If the referral is still waiting this long after the reminder, the sender's "
            "supervisors are alerted."
        ),
        N_("hours"),
        24 * 60,
    ),
    "first_contact_days": (
        N_("Time to first contact after a handover"),
        N_("From accepting a handover until you confirm you have reached the client."),
        N_("days"),
        90,
    ),
}


def _page(
    staff: Staff,
    form: dict[str, str],
    errors: list[dict[str, str]],
    *,
    status: int = 200,
    saved: bool = False,
) -> HTMLResponse:
    effective = asdict(monitor.effective_thresholds(staff.session, staff.caller.organisation_id))
    banner = {"kind": "ok", "text": staff.gettext("Workflow times saved.")} if saved else None
    return admin_page(
        staff,
        "thresholds",
        "thresholds",
        status=status,
        form=form,
        errors=errors,
        fields=FIELDS,
        defaults=asdict(monitor.DEFAULTS),
        effective=effective,
        banner=banner,
    )


@routes.get("/admin/thresholds", response_class=HTMLResponse)
def thresholds(staff: OrgAdminDep, done: Annotated[str, Query(max_length=40)] = "") -> HTMLResponse:
    stored = monitor.stored_thresholds(staff.session, staff.caller.organisation_id)
    form = {name: "" if value is None else str(value) for name, value in stored.items()}
    return _page(staff, form, [], saved=done == "saved")


def _parse(staff: Staff, form: dict[str, str]) -> tuple[ThresholdsIn | None, list[dict[str, str]]]:
    values: dict[str, int | None] = {}
    problems = []
    for name, (_label, _hint, unit, largest) in FIELDS.items():
        text = form[name]
        if not text:
            values[name] = None
            continue
        number = int(text) if text.isdigit() and len(text) <= 6 else None
        if number is None or not 1 <= number <= largest:
            message = staff.gettext(
                "Enter a whole number of %(unit)s from 1 to %(largest)s, or leave it empty "
                "for the hub's default."
            ) % {"unit": staff.gettext(unit), "largest": largest}
            problems.append({"field": name, "message": message})
        values[name] = number
    if problems:
        return None, problems
    try:
        return ThresholdsIn(**values), []
    except ValidationError:  # the schema's limits are FIELDS' limits: kept in step by a test
        return None, [{"field": "", "message": staff.gettext("Check the values.")}]


@routes.post("/admin/thresholds", response_class=HTMLResponse)
def save_thresholds(
    staff: OrgAdminDep,
    csrf_token: Field = "",
    response_hours: Field = "",
    start_hours: Field = "",
    escalation_hours: Field = "",
    first_contact_days: Field = "",
) -> Response:
    staff.check_csrf(csrf_token)
    form = {
        "response_hours": response_hours.strip(),
        "start_hours": start_hours.strip(),
        "escalation_hours": escalation_hours.strip(),
        "first_contact_days": first_contact_days.strip(),
    }
    body, problems = _parse(staff, form)
    if body is None:
        return _page(staff, form, problems, status=422)
    try:
        monitor.update_thresholds(staff.session, staff.caller, values=body.model_dump())
    except RefhubError as exc:
        return _page(staff, form, refused(staff, exc), status=exc.status)
    return go("/ui/admin/thresholds?done=saved")
