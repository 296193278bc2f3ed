"""The directory moderation queue: listings not reviewed yet or changed since, oldest first;
approve, reject with a reason (a confirmation page: the listing is suspended and its owner
sees the reason), and restore a suspended listing. The rules are `directory.moderation`'s."""

from __future__ import annotations

import uuid
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, HTTPException, Query
from fastapi.responses import HTMLResponse, Response

from directory import moderation as directory_moderation
from directory.access import Viewer, visible_services
from directory.models import Service
from gateway.web.hub.common import Field, LongField, Text, hub_page, refused
from gateway.web.i18n import N_
from gateway.web.shell import HubAdminDep, Staff, go
from kernel.errors import RefhubError

__all__ = ["PART_LABELS", "routes"]

routes = APIRouter(include_in_schema=False)
PER_PAGE = 25
#: The listing's parts (HSDS names) as the queue words them.
PART_LABELS = {
    "name": N_("name"),
    "alternate_name": N_("other name"),
    "description": N_("description"),
    "url": N_("website"),
    "email": N_("email"),
    "status": N_("status"),
    "application_process": N_("how to apply"),
    "fees_description": N_("fees"),
    "eligibility_description": N_("eligibility"),
    "minimum_age": N_("minimum age"),
    "maximum_age": N_("maximum age"),
    "alert": N_("capacity note"),
    "phones": N_("phones"),
    "contacts": N_("contacts"),
    "cost_options": N_("costs"),
    "required_documents": N_("required documents"),
    "languages": N_("languages"),
    "schedules": N_("opening hours"),
    "service_areas": N_("service areas"),
    "service_at_locations": N_("locations"),
    "attributes": N_("categories"),
}
VERDICTS = {"reject": N_("Reject the listing"), "restore": N_("Restore the listing")}
DONE = {
    "approved": N_("The listing is approved: it stays in the directory and leaves the queue."),
    "rejected": N_(
        "The listing is suspended: searches no longer show it, and its owner sees your reason."
    ),
    "restored": N_("The listing is restored: searches show it again."),
}


def _service(staff: Staff, service_id: uuid.UUID) -> Service:
    found = staff.session.scalars(
        visible_services(Viewer.of(staff.caller)).where(Service.id == service_id)
    ).first()
    if found is None:
        raise HTTPException(404)
    return found


def _queue_page(
    staff: Staff,
    *,
    name: str = "",
    page: int = 1,
    code: int = 200,
    errors: list[dict[str, str]] | None = None,
    done: str = "",
) -> HTMLResponse:
    items, total = directory_moderation.queue(
        staff.session, staff.caller, name=name, limit=PER_PAGE, offset=(page - 1) * PER_PAGE
    )
    kept = {"name": name} if name else {}
    return hub_page(
        staff,
        "moderation",
        "moderation",
        status=code,
        items=items,
        total=total,
        wanted=name,
        page_no=page,
        pages=max((total + PER_PAGE - 1) // PER_PAGE, 1),
        page_url="/ui/hub/moderation" + (f"?{urlencode(kept)}" if kept else ""),
        suspended=directory_moderation.suspended(staff.session, staff.caller),
        part_labels=PART_LABELS,
        done=DONE.get(done, ""),
        errors=errors or [],
    )


@routes.get("/hub/moderation", response_class=HTMLResponse)
def queue(
    staff: HubAdminDep,
    name: Text = "",
    done: Text = "",
    page: Annotated[int, Query(ge=1, le=10000)] = 1,
) -> HTMLResponse:
    return _queue_page(staff, name=name, page=page, done=done)


def _verdict_page(
    staff: Staff,
    service: Service,
    verdict: str,
    *,
    code: int = 200,
    errors: list[dict[str, str]] | None = None,
    reason: str = "",
) -> HTMLResponse:
    return hub_page(
        staff,
        "moderation_confirm",
        "moderation",
        status=code,
        service=service,
        verdict=verdict,
        label=VERDICTS[verdict],
        reason=reason,
        errors=errors or [],
    )


@routes.get("/hub/moderation/{service_id}/{verdict}", response_class=HTMLResponse)
def confirm(service_id: uuid.UUID, verdict: str, staff: HubAdminDep) -> HTMLResponse:
    if verdict not in VERDICTS:
        raise HTTPException(404)
    return _verdict_page(staff, _service(staff, service_id), verdict)


@routes.post("/hub/moderation/{service_id}/approve", response_class=HTMLResponse)
def approve(
    service_id: uuid.UUID, staff: HubAdminDep, version: Field = "", csrf_token: Field = ""
) -> Response:
    staff.check_csrf(csrf_token)
    _service(staff, service_id)
    try:
        directory_moderation.approve(
            staff.session,
            staff.caller,
            service_id=service_id,
            version=int(version) if version.isdigit() else None,
        )
    except RefhubError as exc:
        return _queue_page(staff, code=exc.status, errors=refused(staff, exc))
    return go("/ui/hub/moderation?done=approved")


@routes.post("/hub/moderation/{service_id}/{verdict}", response_class=HTMLResponse)
def decide(
    service_id: uuid.UUID,
    verdict: str,
    staff: HubAdminDep,
    reason: LongField = "",
    version: Field = "",
    csrf_token: Field = "",
) -> Response:
    staff.check_csrf(csrf_token)
    if verdict not in VERDICTS:
        raise HTTPException(404)
    service = _service(staff, service_id)
    reason = reason.strip()
    if not reason or len(reason) > 500:
        message = (
            staff.gettext("Give a reason: the listing's owner will see it.")
            if not reason
            else staff.gettext("Keep the reason to 500 characters or fewer.")
        )
        return _verdict_page(
            staff,
            service,
            verdict,
            code=422,
            errors=[{"field": "reason", "message": message}],
            reason=reason,
        )
    try:
        if verdict == "reject":
            directory_moderation.reject(
                staff.session,
                staff.caller,
                service_id=service_id,
                reason=reason,
                version=int(version) if version.isdigit() else None,
            )
        else:
            directory_moderation.restore(
                staff.session, staff.caller, service_id=service_id, reason=reason
            )
    except RefhubError as exc:
        errors = refused(staff, exc)
        return _verdict_page(
            staff, _service(staff, service_id), verdict, code=exc.status, errors=errors
        )
    return go(f"/ui/hub/moderation?done={'rejected' if verdict == 'reject' else 'restored'}")
