"""The Case planning section: how often the organisation reviews plans (and repeats
assessments), and what every goal must state. Saved with the same service function as
`PUT /workflow/plan-settings`."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse, Response

from gateway.web.admin.common import Field, admin_page, refused
from gateway.web.shell import OrgAdminDep, Staff, go
from gateway.workflow.casework import plan_settings
from gateway.workflow.casework.plan_settings import DEFAULT_REVIEW_DAYS, PlanSettingsIn
from kernel.errors import RefhubError

__all__ = ["routes"]

routes = APIRouter(include_in_schema=False)


def _page(
    staff: Staff,
    form: dict[str, str],
    errors: list[dict[str, str]],
    *,
    status: int = 200,
    saved: bool = False,
) -> HTMLResponse:
    _ = staff.gettext
    banner = {"kind": "ok", "text": _("Case planning rules saved.")} if saved else None
    return admin_page(
        staff,
        "plan_settings",
        "planning",
        status=status,
        form=form,
        errors=errors,
        yes_no=[("yes", _("Yes")), ("no", _("No"))],
        default_days=DEFAULT_REVIEW_DAYS,
        banner=banner,
    )


@routes.get("/admin/planning", response_class=HTMLResponse)
def planning(staff: OrgAdminDep, done: Annotated[str, Query(max_length=40)] = "") -> HTMLResponse:
    found = plan_settings.read_settings(staff.session, staff.caller)
    form = {
        "review_every_days": str(found.review_every_days),
        "goal_domain_required": "yes" if found.goal_domain_required else "no",
        "goal_target_required": "yes" if found.goal_target_required else "no",
    }
    return _page(staff, form, [], saved=done == "saved")


@routes.post("/admin/planning", response_class=HTMLResponse)
def save_planning(
    staff: OrgAdminDep,
    csrf_token: Field = "",
    review_every_days: Field = "",
    goal_domain_required: Field = "",
    goal_target_required: Field = "",
) -> Response:
    staff.check_csrf(csrf_token)
    form = {
        "review_every_days": review_every_days.strip(),
        "goal_domain_required": goal_domain_required,
        "goal_target_required": goal_target_required,
    }
    problems = []
    text = form["review_every_days"]
    days = int(text) if text.isdigit() and len(text) <= 3 else None
    if days is None or not 7 <= days <= 365:
        message = staff.gettext("Enter a whole number of days from 7 to 365.")
        problems.append({"field": "review_every_days", "message": message})
    for name in ("goal_domain_required", "goal_target_required"):
        if form[name] not in ("yes", "no"):
            problems.append({"field": name, "message": staff.gettext("Choose Yes or No.")})
    if problems or days is None:
        return _page(staff, form, problems, status=422)
    body = PlanSettingsIn(
        review_every_days=days,
        goal_domain_required=form["goal_domain_required"] == "yes",
        goal_target_required=form["goal_target_required"] == "yes",
    )
    try:
        plan_settings.update_settings(staff.session, staff.caller, body)
    except RefhubError as exc:
        return _page(staff, form, refused(staff, exc), status=exc.status)
    return go("/ui/admin/planning?done=saved")
