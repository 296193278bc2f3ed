"""The console's landing page: what an organisation administrator can do here, with the
numbers behind each section."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from gateway.auth.admin import service as admin_service
from gateway.auth.clients import service as clients_service
from gateway.auth.clients.models import ClientStatus
from gateway.web.admin.common import admin_page
from gateway.web.shell import OrgAdminDep

__all__ = ["routes"]

routes = APIRouter(include_in_schema=False)


@routes.get("/admin", response_class=HTMLResponse)
def overview(staff: OrgAdminDep) -> HTMLResponse:
    org = staff.caller.organisation_id
    users = admin_service.list_users(staff.session, staff.caller, org)
    systems = clients_service.list_clients(staff.session, staff.caller, organisation_id=org)
    return admin_page(
        staff,
        "overview",
        "overview",
        people=sum(1 for u in users if u.active),
        inactive=sum(1 for u in users if not u.active),
        not_enrolled=sum(1 for u in users if u.active and not u.totp_enabled),
        systems=sum(1 for c in systems if c.status == ClientStatus.ACTIVE),
    )
