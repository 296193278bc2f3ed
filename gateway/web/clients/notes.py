"""Case notes on a client's record: the "Add a case note" form (and its correction form),
saved with `gateway.workflow.notes.add_note`, as the API's `POST /cases/{id}/notes`.

The contact's day and time are typed in the hub's display time zone (the one the pages
show times in); the note goes on the organisation's open case of the client, or, for a
correction, on the case of the note it corrects.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
import zoneinfo
from typing import Annotated, Any

from fastapi import APIRouter, Form, Query
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel, ValidationError

from gateway.web.clients.access import client_or_404, refused
from gateway.web.clients.forms import Problems, attempt, parse_day
from gateway.web.clients.record import shown_identity
from gateway.web.i18n import N_
from gateway.web.shell import Staff, StaffDep, go, parse_uuid
from gateway.workflow import cases, notes
from gateway.workflow.casework import plans
from gateway.workflow.casework.schemas import OPEN_LIFECYCLES
from gateway.workflow.notes import NOTE_TEXT_MAX, ContactKind, NoteIn, NoteInvalid
from kernel.errors import RefhubError

__all__ = ["KIND_LABELS", "NoteForm", "router"]

router = APIRouter()

KIND_LABELS = {
    ContactKind.HOME_VISIT.value: N_("Home visit"),
    ContactKind.OFFICE_VISIT.value: N_("Office visit"),
    ContactKind.PHONE.value: N_("Phone call"),
    ContactKind.VIDEO.value: N_("Video call"),
    ContactKind.OTHER.value: N_("Other contact"),
}

#: The API's field (its error location's last part) → the form's input id and message.
_FIELDS = {
    "contacted_at": ("contact_day", N_("Enter the day of the contact, for example 30/11/2026")),
    "kind": ("kind", N_("Choose how the contact took place")),
    "interpreter_language": (
        "interpreter_language",
        N_("Give the language only if an interpreter took part, or choose Yes above"),
    ),
    "duration_minutes": (
        "duration_minutes",
        N_("Enter the length in whole minutes, from 1 to 1440, or leave it empty"),
    ),
    "participants": ("participants", N_("Say who took part in at most 500 characters")),
    "text": ("text", N_("Write what happened")),
    "corrects": ("text", N_("The note to correct is not a note of this case")),
    "goal_ids": ("goal_ids", N_("Choose goals of this case's plan")),
    "share_with_partners": (
        "share",
        N_("A note is shared through the goals it is linked to: choose at least one goal"),
    ),
}
_TOO_LONG = N_("Shorten the note to at most 20,000 characters")
_FUTURE = N_("The contact cannot be in the future: enter when it took place")
_TIME = N_("Enter the time of the contact on the 24-hour clock, for example 14:30")
_NO_CASE = N_(
    "Your organisation has no open case for this client. A case opens when your "
    "organisation first refers the client, or accepts their handover."
)


class NoteForm(BaseModel):
    """The note form as typed (kept to be shown again with the input kept)."""

    case_id: str = ""
    corrects: str = ""
    contact_day: str = ""
    contact_time: str = ""
    kind: str = ""
    interpreter: str = "no"
    interpreter_language: str = ""
    duration_minutes: str = ""
    participants: str = ""
    text: str = ""
    goal_ids: list[str] = []
    share: str = ""


class NotePost(NoteForm):
    csrf_token: str = ""


def _zone(staff: Staff) -> zoneinfo.ZoneInfo:
    return zoneinfo.ZoneInfo(staff.request.app.state.runtime.settings.display_timezone or "UTC")


def _typed_moment(staff: Staff, form: NoteForm, problems: Problems) -> dt.datetime | None:
    try:
        day = parse_day(form.contact_day)
    except ValueError:
        day = None
    if day is None:
        problems.append(
            {"field": "contact_day", "message": staff.gettext(_FIELDS["contacted_at"][1])}
        )
    typed = re.fullmatch(r"(\d{1,2})[:.h](\d{2})", form.contact_time.strip())
    moment = None
    if typed and int(typed[1]) < 24 and int(typed[2]) < 60:
        moment = dt.time(int(typed[1]), int(typed[2]))
    else:
        problems.append({"field": "contact_time", "message": staff.gettext(_TIME)})
    if day is None or moment is None:
        return None
    return dt.datetime.combine(day, moment, tzinfo=_zone(staff))


def parse_note(staff: Staff, form: NoteForm) -> tuple[NoteIn | None, Problems]:
    """The typed form as the API's `NoteIn`, or the problems at their fields."""
    problems: Problems = []
    when = _typed_moment(staff, form, problems)
    raw: dict[str, Any] = {
        "contacted_at": when or dt.datetime.now(dt.UTC),
        "kind": form.kind,
        "interpreter": form.interpreter == "yes",
        "interpreter_language": form.interpreter_language.strip() or None,
        "duration_minutes": form.duration_minutes.strip() or None,
        "participants": form.participants.strip() or None,
        "text": form.text,
        "corrects": parse_uuid(form.corrects) if form.corrects else None,
        "goal_ids": [g for g in (parse_uuid(v) for v in form.goal_ids) if g is not None],
        "share_with_partners": form.share == "yes",
    }
    try:
        body = NoteIn.model_validate(raw)
    except ValidationError as error:
        seen = {p["field"] for p in problems}
        for item in error.errors():
            field, message = _FIELDS.get(str(item["loc"][0]), ("text", _FIELDS["text"][1]))
            if field == "text" and item["type"] == "string_too_long":
                message = _TOO_LONG
            if field not in seen:
                seen.add(field)
                problems.append({"field": field, "message": staff.gettext(message)})
        return None, problems
    return (None, problems) if problems else (body, problems)


def _problem_of(staff: Staff, form: NoteForm, error: NoteInvalid) -> dict[str, str]:
    location = error.errors[0]["location"] if error.errors else ""
    location = location.removeprefix("body.").split(".", 1)[0]
    if location == "contacted_at":  # later today: the time is wrong, else the day
        today = dt.datetime.now(_zone(staff)).date()
        field = "contact_time" if parse_day(form.contact_day) == today else "contact_day"
        return {"field": field, "message": staff.gettext(_FUTURE)}
    field, message = _FIELDS.get(location, ("", error.detail))
    return {"field": field, "message": staff.gettext(message) if field else message}


def _form_page(
    staff: Staff,
    client_id: uuid.UUID,
    identity: dict[str, Any],
    form: NoteForm,
    errors: Problems,
    *,
    original: notes.NoteOut | None = None,
    status: int = 200,
) -> HTMLResponse:
    return staff.page(
        "clients/note_new.html",
        status=status,
        nav="clients",
        errors=errors,
        client_id=client_id,
        identity=identity,
        form=form,
        original=original,
        kind_labels=KIND_LABELS,
        text_max=NOTE_TEXT_MAX,
        goal_options=_goal_options(staff, parse_uuid(form.case_id)),
    )


def _goal_options(staff: Staff, case_id: uuid.UUID | None) -> list[tuple[str, str]]:
    """The open goals of the case's plan, as checkbox options (none without a plan)."""
    if case_id is None:
        return []
    try:
        plan = plans.read_plan(staff.session, staff.caller, case_id)
    except RefhubError:
        return []
    if plan is None:
        return []
    return [
        (str(g.id), g.worker_words or g.family_words)
        for g in plan.goals
        if g.lifecycle_status in OPEN_LIFECYCLES
    ]


def _original(staff: Staff, client_id: uuid.UUID, note_id: str) -> notes.NoteOut | None:
    wanted = parse_uuid(note_id)
    if wanted is None:
        return None
    mine = notes.notes_of_client(staff.session, staff.caller, client_id)
    return next((n for n in mine if n.id == wanted), None)


def _open_case(staff: Staff, client_id: uuid.UUID) -> uuid.UUID | None:
    rows, _ = cases.list_cases(
        staff.session, staff.caller, status="open", offset=0, limit=1, client_id=client_id
    )
    return rows[0].id if rows else None


@router.get("/clients/{client_id}/notes/new", response_class=HTMLResponse)
def note_form(
    staff: StaffDep, client_id: str, corrects: Annotated[str, Query(max_length=40)] = ""
) -> Response:
    """The "Add a case note" form; with `corrects`, the correction of that note."""
    client = client_or_404(staff, client_id)
    try:
        identity = shown_identity(staff.session, staff.caller, client)
        original = _original(staff, client.id, corrects) if corrects else None
        case_id = original.case_id if original else _open_case(staff, client.id)
    except RefhubError as error:
        return refused(staff, error)
    zone = _zone(staff)
    today = dt.datetime.now(zone).date()
    form = NoteForm(
        case_id=str(case_id or ""), contact_day=f"{today.day}/{today.month}/{today.year}"
    )
    if original is not None:
        local = original.contacted_at.astimezone(zone)
        form = NoteForm(
            case_id=str(original.case_id),
            corrects=str(original.id),
            contact_day=f"{local.day}/{local.month}/{local.year}",
            contact_time=f"{local:%H:%M}",
            kind=original.kind.value,
            interpreter="yes" if original.interpreter else "no",
            interpreter_language=original.interpreter_language or "",
            duration_minutes=str(original.duration_minutes or ""),
            participants=original.participants or "",
            text=original.text,
        )
    errors = [] if case_id else [{"field": "", "message": staff.gettext(_NO_CASE)}]
    return _form_page(staff, client.id, identity, form, errors, original=original)


@router.post("/clients/{client_id}/notes/new", response_class=HTMLResponse)
def add_note(staff: StaffDep, client_id: str, posted: Annotated[NotePost, Form()]) -> Response:
    """Save the note on the case (`notes.add_note`), then back to the client's record."""
    staff.check_csrf(posted.csrf_token)
    client = client_or_404(staff, client_id)
    form = NoteForm.model_validate(posted.model_dump(exclude={"csrf_token"}))
    try:
        identity = shown_identity(staff.session, staff.caller, client)
        original = _original(staff, client.id, form.corrects) if form.corrects else None
    except RefhubError as error:
        return refused(staff, error)
    case_id = parse_uuid(form.case_id)
    if case_id is None:
        no_case = [{"field": "", "message": staff.gettext(_NO_CASE)}]
        return _form_page(staff, client.id, identity, form, no_case, status=422)
    body, errors = parse_note(staff, form)
    if body is None:
        return _form_page(staff, client.id, identity, form, errors, original=original, status=422)
    try:
        with attempt(staff.session):
            note = notes.add_note(staff.session, staff.caller, case_id, body, client_id=client.id)
    except NoteInvalid as error:
        problem = [_problem_of(staff, form, error)]
        return _form_page(staff, client.id, identity, form, problem, original=original, status=422)
    except RefhubError as error:
        return refused(staff, error)
    done = "corrected" if body.corrects else "note"
    return go(f"/ui/clients/{client.id}?done={done}#note-{note.id}")
