"""The console's overview: what needs a hub admin's attention, one tile a section."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from directory import moderation as directory_moderation
from gateway.audit import search as audit_search
from gateway.auth.admin import service as admin_service
from gateway.auth.models import OrgStatus
from gateway.delivery import dead_letters
from gateway.web.hub.common import hub_page
from gateway.web.hub.keys import key_status
from gateway.web.shell import HubAdminDep

__all__ = ["routes"]

routes = APIRouter(include_in_schema=False)


@routes.get("/hub", response_class=HTMLResponse)
def overview(staff: HubAdminDep) -> HTMLResponse:
    session, caller = staff.session, staff.caller
    applied = admin_service.list_organisations(session, caller, status=OrgStatus.APPLIED)
    return hub_page(
        staff,
        "overview",
        "overview",
        applied=len(applied),
        to_review=directory_moderation.queue_size(session, caller),
        dead=dead_letters.count(session, caller),
        last=audit_search.last_verification(session, caller),
        keys=key_status(staff),
    )
