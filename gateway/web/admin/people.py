"""The People section: the organisation's staff with their last sign-in, and inviting a
person (their temporary password shown once, on the confirmation page)."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Form, HTTPException, Query
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError

from gateway.auth.admin import schemas
from gateway.auth.admin import service as admin_service
from gateway.auth.models import User
from gateway.web.admin.common import ROLE_HINTS, ROLE_LABELS, ROLE_NAMES, Field, admin_page, refused
from gateway.web.i18n import N_
from gateway.web.shell import OrgAdminDep, Staff
from kernel.caller import Role
from kernel.errors import RefhubError

__all__ = ["parse_roles", "role_problem", "routes", "user_row"]

routes = APIRouter(include_in_schema=False)
Roles = Annotated[list[str], Form()]


def user_row(user: User, signed_in: dict[uuid.UUID, Any]) -> dict[str, Any]:
    """What the pages show of one staff account."""
    return {
        "id": user.id,
        "name": user.display_name,
        "email": user.email,
        "roles": [r for r in user.roles if r in ROLE_NAMES],
        "team": user.team,
        "active": user.active,
        "enrolled": user.totp_enabled,
        "must_change": user.must_change_password,
        "last_sign_in": signed_in.get(user.id),
    }


def role_options(staff: Staff) -> list[tuple[str, str]]:
    return [(code, staff.gettext(label)) for code, label in ROLE_LABELS.items()]


def parse_roles(chosen: list[str]) -> list[Role] | None:
    """The roles ticked (only those an org admin gives), or None if one is unknown."""
    if any(code not in ROLE_LABELS for code in chosen):
        return None
    return [Role(code) for code in dict.fromkeys(chosen)]


def role_problem(staff: Staff) -> dict[str, str]:
    return {"field": "roles", "message": staff.gettext("Choose at least one role.")}


@routes.get("/admin/users", response_class=HTMLResponse)
def people(staff: OrgAdminDep, done: Annotated[str, Query(max_length=40)] = "") -> HTMLResponse:
    org = staff.caller.organisation_id
    users = admin_service.list_users(staff.session, staff.caller, org)
    signed_in = admin_service.last_sign_ins(staff.session, staff.caller, org)
    rows = sorted((user_row(u, signed_in) for u in users), key=lambda r: r["name"].lower())
    return admin_page(
        staff,
        "people",
        "people",
        rows=rows,
        active=sum(1 for r in rows if r["active"]),
        role_hints=ROLE_HINTS,
    )


def _new_form(
    staff: Staff, form: dict[str, Any], errors: list[dict[str, str]], status: int = 200
) -> HTMLResponse:
    return admin_page(
        staff,
        "person_new",
        "people",
        status=status,
        form=form,
        errors=errors,
        role_options=role_options(staff),
        role_hints=ROLE_HINTS,
    )


@routes.get("/admin/users/new", response_class=HTMLResponse)
def new_person(staff: OrgAdminDep) -> HTMLResponse:
    form = {"display_name": "", "email": "", "roles": [Role.CASE_WORKER.value], "team": ""}
    return _new_form(staff, form, [])


_MESSAGES = {
    "display_name": N_("Enter the person's full name (at most 200 characters)."),
    "email": N_("Enter their work email address, like name@example.org."),
    "team": N_("The team's name can have at most 100 characters."),
}


def _parse_person(
    staff: Staff, form: dict[str, Any]
) -> tuple[schemas.UserIn | None, list[dict[str, str]]]:
    roles = parse_roles(form["roles"])
    problems: list[dict[str, str]] = []
    try:
        body = schemas.UserIn(
            display_name=form["display_name"],
            email=form["email"],
            roles=roles or [],
            team=form["team"] or None,
        )
    except ValidationError as error:
        fields = {str(e["loc"][0]) for e in error.errors() if e["loc"]}
        for name in ("display_name", "email", "team"):
            if name in fields:
                problems.append({"field": name, "message": staff.gettext(_MESSAGES[name])})
        if "roles" in fields:
            problems.append(role_problem(staff))
        return None, problems
    return body, problems


@routes.post("/admin/users/new", response_class=HTMLResponse)
def create_person(
    staff: OrgAdminDep,
    csrf_token: Field = "",
    display_name: Field = "",
    email: Field = "",
    team: Field = "",
    roles: Roles = [],  # noqa: B006 - FastAPI copies the default
) -> Response:
    staff.check_csrf(csrf_token)
    form = {
        "display_name": display_name.strip(),
        "email": email.strip(),
        "team": team.strip(),
        "roles": roles,
    }
    body, problems = _parse_person(staff, form)
    if body is None:
        return _new_form(staff, form, problems, status=422)
    try:
        user, temporary = admin_service.create_user(
            staff.session, staff.caller, staff.caller.organisation_id, body
        )
    except admin_service.EmailTaken as exc:
        refused(staff, exc)
        message = staff.gettext("That email address already has an account on the hub.")
        return _new_form(staff, form, [{"field": "email", "message": message}], status=422)
    except RefhubError as exc:
        return _new_form(staff, form, refused(staff, exc), status=exc.status)
    return admin_page(
        staff,
        "person_created",
        "people",
        person=user_row(user, {}),
        temporary=temporary,
        sign_in_url=str(staff.request.base_url).rstrip("/") + "/ui/login",
    )


def person_or_404(staff: Staff, user_id: uuid.UUID) -> User:
    """The user if they belong to the admin's organisation; else the HTML 404 page."""
    try:
        user = admin_service.get_user(staff.session, staff.caller, user_id)
    except RefhubError:
        raise HTTPException(404) from None
    if user.organisation_id != staff.caller.organisation_id:
        raise HTTPException(404)  # a hub admin who is also an org admin: own org only here
    return user
