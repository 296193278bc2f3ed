"""Routes of the listings console: the organisation's own listings with their daily figures
(the quick "Update capacity" form, "Confirm still current"), and the organisation's entry
in the directory. Creating and editing a listing are in `edit`, the delivery endpoint in
`endpoint`. Only org admins reach these pages (`OrgAdminDep`); every change goes through
`directory.service` with the signed-in person as the caller, which audits it."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from directory import owned as directory_owned
from directory import service as directory_service
from directory.details import Details
from directory.models import Moderation, Visibility
from directory.schemas import OrganizationIn
from directory.tasks import STALE_AFTER_MONTHS, stale_cutoff
from gateway.web.directory.views import CAPACITY_LABELS, Words
from gateway.web.i18n import N_
from gateway.web.listings import edit, endpoint
from gateway.web.listings.common import (
    Field,
    LongField,
    listings_page,
    own_listing_or_404,
    refused,
)
from gateway.web.listings.forms import CapacityForm, Problems, parse_capacity
from gateway.web.shell import OrgAdminDep, Staff, go
from kernel.db import utcnow
from kernel.errors import RefhubError

__all__ = ["router"]

router = APIRouter(prefix="/ui", include_in_schema=False)


def row_of(words: Words, details: Details) -> dict[str, Any]:
    """What the listings page shows of one listing, in words."""
    s = details.service
    return {
        "id": str(s.id),
        "name": s.name,
        "status": words.status(s.status),
        "public": s.visibility == Visibility.PUBLIC,
        "suspended": s.moderation == Moderation.SUSPENDED,
        "moderation_reason": s.moderation_reason or "",
        "capacity": words.capacity(s.capacity, None),
        "wait_days": s.wait_time_days,
        "capacity_note": s.capacity_note or "",
        "confirmed_at": s.confirmed_at,
        "stale": s.confirmed_at < stale_cutoff(utcnow()),
        "form": CapacityForm(
            capacity=s.capacity or "",
            wait_time_days="" if s.wait_time_days is None else str(s.wait_time_days),
            capacity_note=s.capacity_note or "",
        ),
    }


def _list_page(
    staff: Staff,
    *,
    status: int = 200,
    errors: Problems | None = None,
    typed: tuple[str, CapacityForm] | None = None,
    banner: dict[str, str] | None = None,
) -> HTMLResponse:
    words = Words(staff.language, staff.gettext)
    rows = [row_of(words, d) for d in directory_owned.own_listings(staff.session, staff.caller)]
    for row in rows:
        if typed is not None and row["id"] == typed[0]:
            row["form"] = typed[1]
    org = directory_service.own_organization(staff.session, staff.caller.organisation_id)
    return listings_page(
        staff,
        "list",
        "listings",
        status=status,
        rows=rows,
        organisation=org,
        stale_months=STALE_AFTER_MONTHS,
        capacity_options=[(code, staff.gettext(label)) for code, label in CAPACITY_LABELS.items()],
        errors=errors or [],
        banner=banner,
    )


_DONE = {
    "capacity": N_("Capacity of “%(name)s” updated. Case workers see it in Find a service now."),
    "confirmed": N_(
        "“%(name)s” is confirmed as still current. It will need confirming again in "
        "%(months)s months."
    ),
    "created": N_("“%(name)s” is listed. Case workers can find it in Find a service now."),
    "saved": N_("Changes to “%(name)s” saved as a new version. Case workers see them now."),
    "organisation": N_(
        "Your organisation's entry in the directory is saved. You can add listings now."
    ),
}


@router.get("/listings", response_class=HTMLResponse)
def listings(
    staff: OrgAdminDep,
    done: Annotated[str, Query(max_length=20)] = "",
    listing: Annotated[str, Query(max_length=40)] = "",
) -> HTMLResponse:
    """The organisation's listings, each with its figures and its quick forms."""
    banner = None
    if done in _DONE:
        name = ""
        if listing:
            try:
                name = own_listing_or_404(staff, listing).service.name
            except StarletteHTTPException:  # a stale link only loses the banner's name
                name = ""
        text = staff.gettext(_DONE[done]) % {"name": name, "months": STALE_AFTER_MONTHS}
        banner = {"kind": "ok", "text": text}
    return _list_page(staff, banner=banner)


@router.post("/listings/{service_id}/capacity", response_class=HTMLResponse)
def update_capacity(
    service_id: str,
    staff: OrgAdminDep,
    csrf_token: Field = "",
    capacity: Field = "",
    wait_time_days: Field = "",
    capacity_note: LongField = "",
) -> Response:
    """The quick form: capacity, waiting time and a note (`directory.service.update_capacity`)."""
    staff.check_csrf(csrf_token)
    details = own_listing_or_404(staff, service_id)
    sid = str(details.service.id)
    typed = CapacityForm(
        capacity=capacity, wait_time_days=wait_time_days, capacity_note=capacity_note
    )
    body, problems = parse_capacity(typed, f"capacity-{sid}", staff.gettext)
    if body is None:
        return _list_page(staff, status=422, errors=problems, typed=(sid, typed))
    try:
        directory_service.update_capacity(
            staff.session, staff.caller, service_id=details.service.id, body=body
        )
    except RefhubError as exc:
        return _list_page(staff, status=exc.status, errors=refused(staff, exc), typed=(sid, typed))
    return go(f"/ui/listings?done=capacity&listing={sid}#listing-{sid}")


@router.post("/listings/{service_id}/confirm", response_class=HTMLResponse)
def confirm_current(service_id: str, staff: OrgAdminDep, csrf_token: Field = "") -> Response:
    """ "Confirm still current" (`directory.service.confirm_service`): resets the stale clock."""
    staff.check_csrf(csrf_token)
    details = own_listing_or_404(staff, service_id)
    try:
        directory_service.confirm_service(
            staff.session, staff.caller, service_id=details.service.id
        )
    except RefhubError as exc:
        return _list_page(staff, status=exc.status, errors=refused(staff, exc))
    sid = details.service.id
    return go(f"/ui/listings?done=confirmed&listing={sid}#listing-{sid}")


def _organisation_page(
    staff: Staff, form: dict[str, str], *, status: int = 200, errors: Problems | None = None
) -> HTMLResponse:
    return listings_page(
        staff, "organisation", "organisation", status=status, form=form, errors=errors or []
    )


@router.get("/listings/organisation", response_class=HTMLResponse)
def organisation(staff: OrgAdminDep) -> HTMLResponse:
    """The organisation's entry in the directory (needed before its first listing)."""
    org = directory_service.own_organization(staff.session, staff.caller.organisation_id)
    profile = staff.context.get("profile")
    form = {
        "name": org.name if org else str(getattr(profile, "organisation_name", "") or ""),
        "description": org.description if org else "",
        "email": (org.email or "") if org else "",
        "website": (org.website or "") if org else "",
        "visibility": org.visibility if org else Visibility.PUBLIC.value,
        "exists": "1" if org else "",
    }
    return _organisation_page(staff, form)


@router.post("/listings/organisation", response_class=HTMLResponse)
def save_organisation(
    staff: OrgAdminDep,
    csrf_token: Field = "",
    name: Field = "",
    description: LongField = "",
    email: Field = "",
    website: Field = "",
    visibility: Field = "public",
) -> Response:
    """Create or replace the organisation's entry (`directory.service.upsert_organization`)."""
    staff.check_csrf(csrf_token)
    existing = directory_service.own_organization(staff.session, staff.caller.organisation_id)
    form = {
        "name": name,
        "description": description,
        "email": email,
        "website": website,
        "visibility": visibility,
        "exists": "1" if existing else "",
    }
    try:
        body = OrganizationIn(
            name=name.strip(),
            description=description.strip(),
            email=email.strip() or None,
            website=website.strip() or None,
            visibility=visibility,
            **(
                {
                    k: getattr(existing, k)
                    for k in ("alternate_name", "identifier", "identifier_type", "org_type")
                }
                if existing
                else {}
            ),
        )
    except ValidationError as error:
        problems: Problems = []
        for item in error.errors():
            field = str(item["loc"][0]) if item["loc"] else ""
            if field == "name":
                message = staff.gettext("Enter your organisation's name")
            elif field == "visibility":
                message = staff.gettext("Choose one of the options")
            else:
                message = staff.gettext("This is too long")
            if all(p["field"] != field for p in problems):
                problems.append({"field": field, "message": message})
        return _organisation_page(staff, form, status=422, errors=problems)
    try:
        directory_service.upsert_organization(staff.session, staff.caller, body=body)
    except RefhubError as exc:
        return _organisation_page(staff, form, status=exc.status, errors=refused(staff, exc))
    return go("/ui/listings?done=organisation")


router.include_router(endpoint.routes)
router.include_router(edit.routes)
