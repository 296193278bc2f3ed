"""One person's page in the People section: their account, roles and team to change, and
the account actions (deactivate, reactivate, reset the second factor, reset or require a
new password, sign out everywhere), each behind a confirmation page."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Form, HTTPException, Query
from fastapi.responses import HTMLResponse, Response

from gateway.auth.admin import schemas
from gateway.auth.admin import service as admin_service
from gateway.web.admin.common import ROLE_HINTS, Field, admin_page, refused
from gateway.web.admin.people import (
    parse_roles,
    person_or_404,
    role_options,
    role_problem,
    user_row,
)
from gateway.web.i18n import N_
from gateway.web.shell import OrgAdminDep, Staff, go
from kernel.caller import Role
from kernel.errors import RefhubError

__all__ = ["ACTIONS", "routes"]

routes = APIRouter(include_in_schema=False)
Roles = Annotated[list[str], Form()]

#: action -> (the confirmation page's title and button, the banner after it is done)
ACTIONS: dict[str, tuple[str, str]] = {
    "deactivate": (N_("Deactivate the account"), N_("The account is deactivated.")),
    "reactivate": (N_("Reactivate the account"), N_("The account is active again.")),
    "reset-mfa": (
        N_("Reset the second factor"),
        N_("The second factor is reset: they set up an authenticator at their next sign-in."),
    ),
    "reset-password": (N_("Reset the password"), ""),
    "require-password": (
        N_("Ask for a new password"),
        N_("They must choose a new password at their next sign-in."),
    ),
    "sign-out": (
        N_("Sign out everywhere"),
        N_("They are signed out on every device."),
    ),
}


def person_page(
    staff: Staff,
    user_id: uuid.UUID,
    *,
    status: int = 200,
    errors: list[dict[str, str]] | None = None,
    form: dict[str, Any] | None = None,
    done: str = "",
) -> HTMLResponse:
    user = person_or_404(staff, user_id)
    org = staff.caller.organisation_id
    row = user_row(user, admin_service.last_sign_ins(staff.session, staff.caller, org))
    banner = None
    if done in ACTIONS and ACTIONS[done][1]:
        banner = {"kind": "ok", "text": staff.gettext(ACTIONS[done][1])}
    elif done == "saved":
        banner = {"kind": "ok", "text": staff.gettext("Roles and team saved.")}
    return admin_page(
        staff,
        "person",
        "people",
        status=status,
        person=row,
        myself=user.id == staff.caller.id,
        form=form or {"roles": row["roles"], "team": row["team"] or ""},
        errors=errors or [],
        role_options=role_options(staff),
        role_hints=ROLE_HINTS,
        banner=banner,
    )


@routes.get("/admin/users/{user_id}", response_class=HTMLResponse)
def person(
    user_id: uuid.UUID, staff: OrgAdminDep, done: Annotated[str, Query(max_length=40)] = ""
) -> HTMLResponse:
    return person_page(staff, user_id, done=done)


@routes.post("/admin/users/{user_id}/edit", response_class=HTMLResponse)
def edit_person(
    user_id: uuid.UUID,
    staff: OrgAdminDep,
    csrf_token: Field = "",
    team: Field = "",
    roles: Roles = [],  # noqa: B006 - FastAPI copies the default
) -> Response:
    staff.check_csrf(csrf_token)
    user = person_or_404(staff, user_id)
    form = {"roles": roles, "team": team.strip()}
    chosen = parse_roles(roles)
    if chosen and Role.HUB_ADMIN.value in user.roles:
        chosen.append(Role.HUB_ADMIN)  # not offered here, so not taken away (the service decides)
    if not chosen:
        return person_page(staff, user_id, status=422, errors=[role_problem(staff)], form=form)
    if len(form["team"]) > 100:
        message = staff.gettext("The team's name can have at most 100 characters.")
        errors = [{"field": "team", "message": message}]
        return person_page(staff, user_id, status=422, errors=errors, form=form)
    try:
        admin_service.update_user(
            staff.session,
            staff.caller,
            user_id,
            schemas.UserUpdate(roles=chosen, team=form["team"]),
        )
    except RefhubError as exc:
        errors = refused(staff, exc, "roles")
        return person_page(staff, user_id, status=exc.status, errors=errors, form=form)
    return go(f"/ui/admin/users/{user_id}?done=saved")


def _action_or_404(action: str) -> tuple[str, str]:
    if action not in ACTIONS:
        raise HTTPException(404)
    return ACTIONS[action]


@routes.get("/admin/users/{user_id}/confirm/{action}", response_class=HTMLResponse)
def confirm_action(user_id: uuid.UUID, action: str, staff: OrgAdminDep) -> HTMLResponse:
    title, _done = _action_or_404(action)
    user = person_or_404(staff, user_id)
    return admin_page(
        staff,
        "person_confirm",
        "people",
        person=user_row(user, {}),
        action=action,
        title=title,
        myself=user.id == staff.caller.id,
    )


def _do(staff: Staff, user_id: uuid.UUID, action: str) -> Callable[[], object]:
    session, caller = staff.session, staff.caller
    return {
        "deactivate": lambda: admin_service.update_user(
            session, caller, user_id, schemas.UserUpdate(active=False)
        ),
        "reactivate": lambda: admin_service.update_user(
            session, caller, user_id, schemas.UserUpdate(active=True)
        ),
        "reset-mfa": lambda: admin_service.reset_second_factor(session, caller, user_id),
        "reset-password": lambda: admin_service.reset_password(session, caller, user_id),
        "require-password": lambda: admin_service.require_password_change(session, caller, user_id),
        "sign-out": lambda: admin_service.revoke_user_sessions(session, caller, user_id),
    }[action]


@routes.post("/admin/users/{user_id}/{action}", response_class=HTMLResponse)
def run_action(
    user_id: uuid.UUID, action: str, staff: OrgAdminDep, csrf_token: Field = ""
) -> Response:
    staff.check_csrf(csrf_token)
    _action_or_404(action)
    user = person_or_404(staff, user_id)
    try:
        result = _do(staff, user_id, action)()
    except RefhubError as exc:
        return person_page(staff, user_id, status=exc.status, errors=refused(staff, exc))
    if action == "reset-password":
        return admin_page(
            staff,
            "password_reset",
            "people",
            person=user_row(user, {}),
            temporary=str(result),
            sign_in_url=str(staff.request.base_url).rstrip("/") + "/ui/login",
        )
    if user.id == staff.caller.id and action in ("sign-out", "reset-mfa", "require-password"):
        return go("/ui/login")  # their own sessions ended with it
    return go(f"/ui/admin/users/{user_id}?done={action}")
