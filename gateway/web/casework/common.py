"""What every case-work page needs: the posted form, the case of its path (or the 404
page, or the refusal page), typed dates, and a service's refusal shown at its field."""

from __future__ import annotations

import datetime as dt
import uuid
import zoneinfo
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, Response

from consent import clients as consent_clients
from gateway.auth.errors import Forbidden
from gateway.web.clients.forms import Problems, attempt, parse_day
from gateway.web.clients.record import shown_identity
from gateway.web.shell import Staff, parse_uuid
from gateway.workflow.cases import CaseNotFound
from gateway.workflow.casework import access
from gateway.workflow.models import Case
from kernel.errors import RefhubError

__all__ = [
    "CasePage",
    "Posted",
    "PostedDep",
    "case_or_page",
    "field_of",
    "not_found",
    "one",
    "refusal",
    "service_problem",
    "shown_day",
    "today",
    "typed_day",
]

#: A posted form as name -> values (the case-work forms have fields per item).
Posted = dict[str, list[str]]
_MAX_FIELDS = 600
_MAX_VALUE = 10000


async def _posted(request: Request) -> Posted:
    """The form's fields (read in the event loop; the page route itself runs in a thread)."""
    form = await request.form(max_files=0, max_fields=_MAX_FIELDS)
    out: Posted = {}
    for key, value in form.multi_items():
        if isinstance(value, str):
            out.setdefault(key, []).append(value[:_MAX_VALUE])
    return out


PostedDep = Annotated[Posted, Depends(_posted)]


def one(posted: Posted, key: str) -> str:
    """The first value posted under `key` ("" when absent)."""
    return (posted.get(key) or [""])[0]


@dataclass
class CasePage:
    """The case of a page's path, with what every case-work page shows of it."""

    case: Case
    client_name: str

    @property
    def id(self) -> uuid.UUID:
        return self.case.id

    def context(self) -> dict[str, Any]:
        return {"case": self.case, "client_name": self.client_name, "nav": "clients"}


def not_found(staff: Staff) -> HTMLResponse:
    return staff.page("not_found.html", status=404, errors=[])


def refusal(staff: Staff, error: RefhubError) -> HTMLResponse:
    """A refusal the person cannot fix on the page (their role, a closed case...)."""
    if not error.keeps_writes:
        staff.session.rollback()
    return staff.page(
        "clients/refused.html",
        status=error.status,
        nav="clients",
        errors=[],
        detail=staff.gettext(error.detail),
    )


def case_or_page(staff: Staff, case_id: str, action: str = "case.read") -> CasePage | Response:
    """The case if the caller does case work at the organisation holding it; else the
    404 page (no such case, or another organisation's: audited) or the refusal page."""
    found = parse_uuid(case_id)
    if found is None:
        return not_found(staff)
    try:
        with attempt(staff.session):
            case = access.owned_case(staff.session, staff.caller, found, action=action)
    except CaseNotFound:
        return not_found(staff)
    except Forbidden as error:
        return refusal(staff, error)
    name = ""
    try:
        client = consent_clients.get_client(staff.session, staff.caller, client_id=case.client_id)
        name = str(shown_identity(staff.session, staff.caller, client).get("name") or "")
    except RefhubError:
        name = ""
    return CasePage(case, name)


def _zone(staff: Staff) -> zoneinfo.ZoneInfo:
    return zoneinfo.ZoneInfo(staff.request.app.state.runtime.settings.display_timezone or "UTC")


def today(staff: Staff) -> dt.date:
    """Today in the hub's display time zone (the one the pages show days in)."""
    return dt.datetime.now(_zone(staff)).date()


def shown_day(day: dt.date | None) -> str:
    """A day as the forms take it back (day/month/year)."""
    return "" if day is None else f"{day.day}/{day.month}/{day.year}"


def typed_day(
    staff: Staff, text: str, field: str, problems: Problems, *, required: str = ""
) -> dt.date | None:
    """The day typed in `field`, or None with a problem added (`required`: its message
    when left empty)."""
    try:
        day = parse_day(text)
    except ValueError:
        message = staff.gettext("Enter a real date as day/month/year, for example 30/11/2026")
        problems.append({"field": field, "message": message})
        return None
    if day is None and required:
        problems.append({"field": field, "message": staff.gettext(required)})
    return day


def field_of(location: str) -> str:
    """A service error's location (`body.domains.health.needs.2.id`) as the form's field."""
    parts = location.split(".")
    if parts[:1] == ["body"]:
        parts = parts[1:]
    if not parts:
        return ""
    if parts[0] == "domains":
        return f"{parts[1]}-{parts[2]}" if len(parts) > 2 else "domains"
    if parts[0] == "disengagement" and len(parts) > 1:
        return parts[1]
    return parts[0]


def service_problem(
    staff: Staff, error: RefhubError, messages: dict[str, str] | None = None
) -> Problems:
    """A service's refusal as the problem at the form's field (with the page's own words
    for that field when given, else the service's message)."""
    errors = getattr(error, "errors", None) or []
    location = str(errors[0]["location"]) if errors else ""
    field = field_of(location) if location else ""
    message = (messages or {}).get(field) or staff.gettext(error.detail)
    return [{"field": field, "message": message}]
