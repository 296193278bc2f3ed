"""Creating a listing and a listing's page (the edit form, its moderation status and its
version history). The form is parsed into the API's `ServiceIn` and saved with
`directory.service.create_service` / `update_service`, as `POST`/`PUT /directory/services`
do; "Add another address" posts the form back with one more address row, input kept."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response

from directory import lookups as directory_lookups
from directory import owned as directory_owned
from directory import service as directory_service
from directory.details import Details
from directory.models import Moderation
from directory.schemas import ServiceIn
from gateway.auth import people
from gateway.web.directory.views import CAPACITY_LABELS, POPULATION_LABELS, STATUS_LABELS, Words
from gateway.web.i18n import N_
from gateway.web.listings.common import (
    PostedDep,
    listings_page,
    own_listing_or_404,
    refused,
)
from gateway.web.listings.forms import (
    DAYS,
    MAX_LOCATIONS,
    ListingForm,
    LocationRow,
    Problems,
    form_of,
    parse_listing,
    read_form,
)
from gateway.web.shell import OrgAdminDep, Staff, go
from kernel.errors import RefhubError

__all__ = ["routes"]

routes = APIRouter(include_in_schema=False)

#: Languages offered as checkboxes (others are typed as codes).
LANGUAGES = ("ar", "en", "es", "fa", "fr", "ku", "prs", "ps", "pt", "ru", "so", "ti", "tr", "uk")
_CHANGES = {
    "create": N_("Listed"),
    "update": N_("Edited"),
    "capacity": N_("Capacity updated"),
    "moderate-suspend": N_("Suspended by the hub"),
    "moderate-restore": N_("Restored by the hub"),
}


def _options(staff: Staff) -> dict[str, Any]:
    words = Words(staff.language, staff.gettext)
    _ = staff.gettext
    wide = words.locale.days["format"]["wide"]
    return {
        "category_options": [(t.code, t.name) for t in directory_lookups.categories(staff.session)],
        "language_options": sorted(
            ((c, words.language_name(c)) for c in LANGUAGES), key=lambda pair: pair[1]
        ),
        "population_options": [(c, _(label)) for c, label in POPULATION_LABELS.items()],
        "capacity_options": [(c, _(label)) for c, label in CAPACITY_LABELS.items()],
        "status_options": [(c, _(label)) for c, label in STATUS_LABELS.items()],
        "visibility_options": [
            ("public", _("Public: anyone can find it, also people outside the network")),
            ("network", _("Network only: signed-in staff of the network's organisations")),
        ],
        "days": [(d, wide[i]) for i, d in enumerate(DAYS)],
    }


def _history(staff: Staff, details: Details) -> list[dict[str, Any]]:
    versions = directory_service.list_versions(
        staff.session, staff.caller, service_id=details.service.id
    )
    names = people.names_of(staff.session, {v.actor for v in versions})
    out = []
    for v in reversed(versions):
        person = names.get(v.actor)
        if v.actor == staff.caller.actor:
            who = staff.gettext("You")
        elif person is not None:
            who = f"{person.name} ({person.organisation})" if person.organisation else person.name
        else:
            who = staff.gettext("The hub")
        label = _CHANGES.get(v.change)
        out.append(
            {
                "version": v.version,
                "change": staff.gettext(label) if label else v.change,
                "who": who,
                "at": v.changed_at,
            }
        )
    return out


def _form_page(
    staff: Staff,
    form: ListingForm,
    *,
    details: Details | None = None,
    status: int = 200,
    errors: Problems | None = None,
) -> HTMLResponse:
    org = directory_service.own_organization(staff.session, staff.caller.organisation_id)
    context: dict[str, Any] = {}
    if details is not None:
        s = details.service
        context = {
            "listing": {
                "id": str(s.id),
                "name": s.name,
                "version": s.version,
                "suspended": s.moderation == Moderation.SUSPENDED,
                "moderation_reason": s.moderation_reason or "",
                "confirmed_at": s.confirmed_at,
            },
            "history": _history(staff, details),
        }
    return listings_page(
        staff,
        "edit",
        "listing" if details is not None else "new",
        status=status,
        form=form,
        organisation=org,
        max_locations=MAX_LOCATIONS,
        errors=errors or [],
        **context,
        **_options(staff),
    )


def _typed(posted: dict[str, list[str]]) -> tuple[ListingForm, bool]:
    """The posted form, and whether it asked for one more address row."""
    form = read_form(posted)
    more = bool(posted.get("add_location")) and len(form.locations) < MAX_LOCATIONS
    if more:
        form.locations.append(LocationRow())
    return form, more


@routes.get("/listings/new", response_class=HTMLResponse)
def new_listing(staff: OrgAdminDep) -> HTMLResponse:
    zone = staff.request.app.state.runtime.settings.display_timezone
    return _form_page(staff, ListingForm(locations=[LocationRow()], timezone=zone))


@routes.post("/listings/new", response_class=HTMLResponse)
def create_listing(staff: OrgAdminDep, posted: PostedDep) -> Response:
    staff.check_csrf((posted.get("csrf_token") or [""])[0])
    form, more = _typed(posted)
    if more:
        return _form_page(staff, form)
    body, problems = parse_listing(form, None, staff.gettext)
    if body is None:
        return _form_page(staff, form, status=422, errors=problems)
    try:
        service = directory_service.create_service(staff.session, staff.caller, body=body)
    except RefhubError as exc:
        return _form_page(staff, form, status=exc.status, errors=refused(staff, exc))
    return go(f"/ui/listings?done=created&listing={service.id}#listing-{service.id}")


def _base(details: Details) -> ServiceIn:
    return directory_owned.current_body(details)


@routes.get("/listings/{service_id}", response_class=HTMLResponse)
def listing_page(service_id: str, staff: OrgAdminDep) -> HTMLResponse:
    """A listing of the organisation: its edit form, moderation status and history."""
    details = own_listing_or_404(staff, service_id)
    return _form_page(staff, form_of(_base(details), set(LANGUAGES)), details=details)


@routes.get("/listings/{service_id}/edit", response_class=HTMLResponse)
def edit_listing(service_id: str, staff: OrgAdminDep) -> HTMLResponse:
    return listing_page(service_id, staff)


@routes.post("/listings/{service_id}/edit", response_class=HTMLResponse)
def save_listing(service_id: str, staff: OrgAdminDep, posted: PostedDep) -> Response:
    staff.check_csrf((posted.get("csrf_token") or [""])[0])
    details = own_listing_or_404(staff, service_id)
    form, more = _typed(posted)
    if more:
        return _form_page(staff, form, details=details)
    body, problems = parse_listing(form, _base(details), staff.gettext)
    if body is None:
        return _form_page(staff, form, details=details, status=422, errors=problems)
    sid = details.service.id
    try:
        directory_service.update_service(staff.session, staff.caller, service_id=sid, body=body)
    except RefhubError as exc:
        errors = refused(staff, exc)
        details = own_listing_or_404(staff, service_id)
        return _form_page(staff, form, details=details, status=exc.status, errors=errors)
    return go(f"/ui/listings?done=saved&listing={sid}#listing-{sid}")
