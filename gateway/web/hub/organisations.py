"""Organisations: the list by status, approve, reject, suspend and reinstate (a confirmation
page with the reason before rejecting or suspending), through `admin_service.change_status`,
the rule the API's `/admin/organisations/{id}/{action}` routes call."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, HTTPException
from fastapi.responses import HTMLResponse, Response

from consent.i18n import ORG_TYPE_LABELS
from directory import service as directory_service
from gateway.auth.admin import service as admin_service
from gateway.auth.models import Organisation, OrgStatus
from gateway.web.hub.common import Field, LongField, Text, hub_page, refused
from gateway.web.i18n import N_
from gateway.web.shell import HubAdminDep, Staff, go
from kernel.errors import NotFound, RefhubError

__all__ = ["ACTIONS", "STATUS_LABELS", "routes"]

routes = APIRouter(include_in_schema=False)

#: action -> (target status, needs a reason, needs a confirmation page, button label)
ACTIONS = {
    "approve": (OrgStatus.ACTIVE, False, False, N_("Approve")),
    "reject": (OrgStatus.REJECTED, True, True, N_("Reject the application")),
    "suspend": (OrgStatus.SUSPENDED, True, True, N_("Suspend the organisation")),
    "reactivate": (OrgStatus.ACTIVE, False, True, N_("Reinstate the organisation")),
}
STATUS_LABELS = {
    "applied": N_("Waiting for approval"),
    "active": N_("Active member"),
    "suspended": N_("Suspended"),
    "rejected": N_("Rejected"),
}
#: which actions each status offers
OFFERED = {
    "applied": ("approve", "reject"),
    "active": ("suspend",),
    "suspended": ("reactivate",),
    "rejected": (),
}


def _rows(staff: Staff, status: OrgStatus | None) -> list[dict[str, object]]:
    orgs = admin_service.list_organisations(staff.session, staff.caller, status=status)
    rows: list[dict[str, object]] = []
    for org in orgs:
        listing = directory_service.own_organization(staff.session, org.id)
        rows.append({"org": org, "listing": listing, "actions": OFFERED.get(org.status, ())})
    return rows


def _list_page(
    staff: Staff,
    status: str = "",
    *,
    code: int = 200,
    errors: list[dict[str, str]] | None = None,
    done: str = "",
) -> HTMLResponse:
    chosen = OrgStatus(status) if status in STATUS_LABELS else None
    return hub_page(
        staff,
        "organisations",
        "organisations",
        status=code,
        rows=_rows(staff, chosen),
        chosen=chosen.value if chosen else "",
        status_labels_org=STATUS_LABELS,
        org_types=ORG_TYPE_LABELS,
        actions=ACTIONS,
        done=done,
        errors=errors or [],
    )


@routes.get("/hub/organisations", response_class=HTMLResponse)
def organisations(staff: HubAdminDep, status: Text = "", done: Text = "") -> HTMLResponse:
    return _list_page(staff, status, done=done if done in ACTIONS else "")


def _organisation(staff: Staff, org_id: uuid.UUID) -> Organisation:
    try:
        return admin_service.get_organisation(staff.session, staff.caller, org_id)
    except NotFound:
        raise HTTPException(404) from None


def _confirm_page(
    staff: Staff,
    org: Organisation,
    action: str,
    *,
    code: int = 200,
    errors: list[dict[str, str]] | None = None,
    reason: str = "",
) -> HTMLResponse:
    return hub_page(
        staff,
        "organisation_confirm",
        "organisations",
        status=code,
        org=org,
        action=action,
        label=ACTIONS[action][3],
        reason_needed=ACTIONS[action][1],
        reason=reason,
        errors=errors or [],
    )


@routes.get("/hub/organisations/{org_id}/confirm/{action}", response_class=HTMLResponse)
def confirm(org_id: uuid.UUID, action: str, staff: HubAdminDep) -> HTMLResponse:
    org = _organisation(staff, org_id)
    if action not in OFFERED.get(org.status, ()) or not ACTIONS[action][2]:
        raise HTTPException(404)
    return _confirm_page(staff, org, action)


@routes.post("/hub/organisations/{org_id}/status", response_class=HTMLResponse)
def change_status(
    org_id: uuid.UUID,
    staff: HubAdminDep,
    action: Field = "",
    reason: LongField = "",
    csrf_token: Field = "",
) -> Response:
    staff.check_csrf(csrf_token)
    org = _organisation(staff, org_id)
    if action not in ACTIONS:
        raise HTTPException(404)
    target, needs_reason, confirmed, _label = ACTIONS[action]
    reason = reason.strip()[:500]
    if needs_reason and not reason:
        message = staff.gettext("Give a reason: the organisation's administrators will see it.")
        return _confirm_page(
            staff, org, action, code=422, errors=[{"field": "reason", "message": message}]
        )
    try:
        admin_service.change_status(
            staff.session, staff.caller, org_id, to=target, reason=reason or None
        )
    except RefhubError as exc:
        errors = refused(staff, exc)
        org = _organisation(staff, org_id)
        if confirmed and action in OFFERED.get(org.status, ()):
            return _confirm_page(staff, org, action, code=exc.status, errors=errors, reason=reason)
        return _list_page(staff, code=exc.status, errors=errors)
    return go(f"/ui/hub/organisations?status={target.value}&done={action}")
