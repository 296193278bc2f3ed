"""Staff pages of the clients area: the client list and search, registration, a client's
record; consent capture and the consent-page link live beside it (`consents`, `link`)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Query
from fastapi.responses import HTMLResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from consent import client_search
from consent import clients as consent_clients
from consent.errors import ClientIdentifierTaken, ConsentNotFound
from gateway.web.clients import consents, link, notes
from gateway.web.clients.access import refused, words
from gateway.web.clients.forms import IDENTIFIER_ROWS, ClientForm, attempt, parse_client, parse_day
from gateway.web.clients.labels import CLOSURE_LABELS, LANGUAGE_LABELS
from gateway.web.clients.record import birth_day, load_record
from gateway.web.shell import StaffDep, go, parse_uuid
from kernel.errors import RefhubError

__all__ = ["router"]

router = APIRouter(prefix="/ui", include_in_schema=False)
PER_PAGE = 25
Typed = Annotated[str, Form()]


@router.get("/clients", response_class=HTMLResponse)
def client_list(
    staff: StaffDep,
    q: Annotated[str, Query(max_length=200)] = "",
    born: Annotated[str, Query(max_length=40)] = "",
    page_no: Annotated[int, Query(alias="page", ge=1, le=10000)] = 1,
) -> Response:
    """The organisation's clients, newest first, or those matching a name, reference or
    date of birth."""
    errors = []
    birth_date: dt.date | None = None
    try:
        birth_date = parse_day(born)
    except ValueError:
        errors.append(
            {
                "field": "born",
                "message": staff.gettext("Enter the date of birth as a date, for example 2/4/1988"),
            }
        )
    try:
        found, total = client_search.search_clients(
            staff.session,
            staff.caller,
            text=q,
            birth_date=birth_date,
            offset=(page_no - 1) * PER_PAGE,
            limit=PER_PAGE,
        )
    except RefhubError as error:
        return refused(staff, error)
    criteria = {k: v for k, v in (("q", q), ("born", born)) if v}
    return staff.page(
        "clients/list.html",
        nav="clients",
        errors=errors,
        q=q,
        born=born,
        searched=bool(criteria),
        found=[
            {
                "id": m.client.id,
                "name": m.identity.get("name") or "",
                "born": birth_day(m.identity),
                "references": [i.value for i in m.identifiers],
                "registered": m.client.created_at,
            }
            for m in found
        ],
        total=total,
        page_no=page_no,
        pages=max((total + PER_PAGE - 1) // PER_PAGE, 1),
        url="/ui/clients" + (f"?{urlencode(criteria)}" if criteria else ""),
    )


def _registration(
    staff: StaffDep,
    form: ClientForm,
    errors: list[dict[str, str]],
    *,
    status: int = 200,
    taken: str = "",
) -> HTMLResponse:
    return staff.page(
        "clients/new.html",
        status=status,
        nav="clients",
        errors=errors,
        form=form,
        language_options=[(c, staff.gettext(label)) for c, label in LANGUAGE_LABELS.items()],
        taken=taken,
    )


@router.get("/clients/new", response_class=HTMLResponse)
def new_client(staff: StaffDep) -> Response:
    return _registration(staff, ClientForm.empty(), [])


@router.post("/clients/new", response_class=HTMLResponse)
def register_client(
    staff: StaffDep,
    csrf_token: Typed = "",
    name: Typed = "",
    birth_date: Typed = "",
    preferred_language: Typed = "en",
    contact: Typed = "",
    identifier_0_system: Annotated[str, Form(alias="identifier-0-system")] = "",
    identifier_0_value: Annotated[str, Form(alias="identifier-0-value")] = "",
    identifier_1_system: Annotated[str, Form(alias="identifier-1-system")] = "",
    identifier_1_value: Annotated[str, Form(alias="identifier-1-value")] = "",
) -> Response:
    """Register a client with `consent.clients.register_client`, as the API does."""
    staff.check_csrf(csrf_token)
    rows = [(identifier_0_system, identifier_0_value), (identifier_1_system, identifier_1_value)]
    form = ClientForm(
        name=name,
        birth_date=birth_date,
        preferred_language=preferred_language,
        contact=contact,
        identifiers=rows[:IDENTIFIER_ROWS],
    )
    body, errors = parse_client(form, staff.gettext)
    if body is None:
        return _registration(staff, form, errors, status=422)
    try:
        with attempt(staff.session):
            client = consent_clients.register_client(
                staff.session, staff.caller, identity=body.identity, identifiers=body.identifiers
            )
    except ClientIdentifierTaken as error:
        pairs = [(i.system, i.value) for i in body.identifiers]
        if len(set(pairs)) < len(pairs):  # the form repeats a reference: no one else has it
            problem = {
                "field": f"identifier-{IDENTIFIER_ROWS - 1}-value",
                "message": staff.gettext("You entered the same reference twice"),
            }
            return _registration(staff, form, [problem], status=error.status)
        index = next(
            (
                i
                for i, (system, value) in enumerate(form.identifiers)
                if value.strip() and system.strip() in error.detail
            ),
            next(i for i, (_s, value) in enumerate(form.identifiers) if value.strip()),
        )
        field = f"identifier-{index}-value"
        message = staff.gettext(
            "Another client of your organisation already has this reference. "
            "Find that client instead of registering them again."
        )
        return _registration(
            staff,
            form,
            [{"field": field, "message": message}],
            status=error.status,
            taken=form.identifiers[index][1].strip(),
        )
    except RefhubError as error:
        return _registration(
            staff, form, [{"field": "", "message": error.detail}], status=error.status
        )
    return go(f"/ui/clients/{client.id}?done=registered")


@router.get("/clients/{client_id}", response_class=HTMLResponse)
def client_record(
    staff: StaffDep, client_id: str, done: Annotated[str, Query(max_length=20)] = ""
) -> Response:
    """The client's record: identity, consents, referrals and handovers, case, documents."""
    found = parse_uuid(client_id)
    if found is None:
        raise StarletteHTTPException(404)
    try:
        record = load_record(staff.session, staff.caller, found, words(staff))
    except ConsentNotFound:
        raise StarletteHTTPException(404) from None
    except RefhubError as error:
        return refused(staff, error)
    banners = {
        "registered": staff.gettext(
            "Client registered. Next, record their consent to share information."
        ),
        "consent": staff.gettext("Consent recorded. It is in force from now."),
        "withdrawn": staff.gettext("Consent withdrawn. Nothing more is sent under it from now."),
        "note": staff.gettext("Case note saved."),
        "corrected": staff.gettext(
            "Correction saved. The original note stays, marked as corrected."
        ),
    }
    banner = {"kind": "ok", "text": banners[done]} if done in banners else None
    return staff.page(
        "clients/record.html",
        nav="clients",
        record=record,
        banner=banner,
        language_labels=LANGUAGE_LABELS,
        closure_labels=CLOSURE_LABELS,
        kind_labels=notes.KIND_LABELS,
    )


router.include_router(consents.router)
router.include_router(link.router)
router.include_router(notes.router)
