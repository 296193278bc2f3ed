"""Consent capture with the client present: the form, a check page that says the consent
back in plain words, saving (`consent.service.create_consent`, as the API's
`POST /consent/clients/{id}/consents`), and withdrawing with a confirmation step."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Form
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from consent import service as consent_service
from consent.errors import ConsentInvalid, ConsentNotFound
from consent.models import GrantMethod
from consent.schemas import RevokeRequest
from gateway import consent_wiring
from gateway.web.clients import labels
from gateway.web.clients.access import client_or_404, refused, words
from gateway.web.clients.forms import ConsentForm, attempt, parse_consent, problem_field
from gateway.web.clients.record import shown_identity
from gateway.web.clients.wording import consent_view
from gateway.web.shell import Staff, StaffDep, go, parse_uuid
from kernel.db import utcnow
from kernel.errors import RefhubError

__all__ = ["router"]

router = APIRouter()
#: The methods staff record in person (electronic consent is given on the consent page).
IN_PERSON = (GrantMethod.WRITTEN.value, GrantMethod.VERBAL.value)


class ConsentPost(ConsentForm):
    csrf_token: str = ""
    action: str = ""


def _client(staff: Staff, client_id: str) -> tuple[uuid.UUID, dict[str, Any]]:
    client = client_or_404(staff, client_id)
    return client.id, shown_identity(staff.session, staff.caller, client)


def _recipients(staff: Staff) -> list[tuple[str, str]]:
    """The network's organisations; the caller's own last, said as what it is for: the
    answers of the organisations the client is referred to (messages, outcomes,
    documents) come back to it only under the client's consent too."""
    members = consent_wiring.ORGANISATIONS.members(staff.session)
    own = staff.caller.organisation_id
    options = [(f"org:{i}", name) for i, name, _t in members if i != own]
    options += [
        (
            f"org:{i}",
            staff.gettext("%(name)s (yours: to receive the other side's answers)") % {"name": name},
        )
        for i, name, _t in members
        if i == own
    ]
    return options


def _types(staff: Staff) -> list[tuple[str, str]]:
    return [(f"type:{code}", words(staff).org_type(code)) for code in labels.ORG_TYPE_LABELS]


def _form_page(
    staff: Staff,
    client_id: uuid.UUID,
    identity: dict[str, Any],
    form: ConsentForm,
    errors: list[dict[str, str]],
    *,
    status: int = 200,
) -> HTMLResponse:
    return staff.page(
        "clients/consent_new.html",
        status=status,
        nav="clients",
        errors=errors,
        client_id=client_id,
        identity=identity,
        form=form,
        organisations=_recipients(staff),
        org_types=_types(staff),
        labels=labels,
        methods=IN_PERSON,
    )


def _default_form(identity: dict[str, Any]) -> ConsentForm:
    until = dt.date.today() + dt.timedelta(days=365)
    language = str(identity.get("preferred_language") or "en")
    return ConsentForm(
        period_end=f"{until.day}/{until.month}/{until.year}",
        language=language if language in labels.LANGUAGE_LABELS else "en",
    )


@router.get("/clients/{client_id}/consents/new", response_class=HTMLResponse)
def consent_form(staff: StaffDep, client_id: str) -> Response:
    try:
        found, identity = _client(staff, client_id)
    except RefhubError as error:
        return refused(staff, error)
    return _form_page(staff, found, identity, _default_form(identity), [])


def _recipient_text(staff: Staff, value: str) -> str:
    for option, text in _recipients(staff) + _types(staff):
        if option == value:
            return text
    return value


@router.post("/clients/{client_id}/consents/new", response_class=HTMLResponse)
def consent_check(
    staff: StaffDep, client_id: str, form: Annotated[ConsentPost, Form()]
) -> Response:
    """The consent said back in plain words, before anything is saved."""
    staff.check_csrf(form.csrf_token)
    try:
        found, identity = _client(staff, client_id)
    except RefhubError as error:
        return refused(staff, error)
    typed = ConsentForm.model_validate(form.model_dump(exclude={"csrf_token", "action"}))
    if form.action == "change":
        return _form_page(staff, found, identity, typed, [])
    draft, errors = parse_consent(typed, found, staff.gettext)
    if draft is None:
        return _form_page(staff, found, identity, typed, errors, status=422)
    provision = draft.provisions[0]
    sentence = words(staff).permit(
        sender=str(staff.context["profile"].get("organisation_name") or ""),
        recipients=[_recipient_text(staff, typed.recipient)],
        categories=[c.value for c in provision.categories],
        purposes=[p.value for p in provision.purposes],
        until=draft.period_end,
    )
    return staff.page(
        "clients/consent_check.html",
        nav="clients",
        client_id=found,
        identity=identity,
        form=typed,
        draft=draft,
        sentence=sentence,
        recipient=_recipient_text(staff, typed.recipient),
        labels=labels,
    )


@router.post("/clients/{client_id}/consents", response_class=HTMLResponse)
def consent_save(staff: StaffDep, client_id: str, form: Annotated[ConsentPost, Form()]) -> Response:
    """Save the consent the check page showed, through `consent.service.create_consent`."""
    staff.check_csrf(form.csrf_token)
    try:
        found, identity = _client(staff, client_id)
    except RefhubError as error:
        return refused(staff, error)
    typed = ConsentForm.model_validate(form.model_dump(exclude={"csrf_token", "action"}))
    draft, errors = parse_consent(typed, found, staff.gettext)
    if draft is None:
        return _form_page(staff, found, identity, typed, errors, status=422)
    try:
        with attempt(staff.session):
            consent_service.create_consent(
                staff.session, staff.caller, client_id=found, draft=draft
            )
    except ConsentInvalid as error:
        problem = problem_field(error.reason, error.detail, staff.gettext)
        return _form_page(staff, found, identity, typed, [problem], status=error.status)
    except RefhubError as error:
        problem = {"field": "", "message": error.detail}
        return _form_page(staff, found, identity, typed, [problem], status=error.status)
    return go(f"/ui/clients/{found}?done=consent")


def _consent(staff: Staff, client_id: uuid.UUID, series: str) -> Any:
    """The consent's current version, if it is this client's and visible."""
    series_id = parse_uuid(series)
    if series_id is None:
        raise StarletteHTTPException(404)
    try:
        record = consent_service.current_version(staff.session, staff.caller, series_id=series_id)
    except ConsentNotFound:
        raise StarletteHTTPException(404) from None
    if record.client_id != client_id:
        raise StarletteHTTPException(404)
    return record


def _withdraw_page(
    staff: Staff,
    client_id: uuid.UUID,
    identity: dict[str, Any],
    record: Any,
    *,
    reason: str = "client-instruction",
    errors: list[dict[str, str]] | None = None,
    status: int = 200,
) -> HTMLResponse:
    provisions = consent_service.provisions_of(staff.session, [record])[record.id]
    org_ids = {record.recorded_by_org_id} | {
        r.organisation_id for _p, rows in provisions for r in rows if r.organisation_id
    }
    names = consent_wiring.ORGANISATIONS.names(staff.session, org_ids)
    view = consent_view(words(staff), record, provisions, names, utcnow())
    return staff.page(
        "clients/consent_revoke.html",
        status=status,
        nav="clients",
        errors=errors or [],
        client_id=client_id,
        identity=identity,
        consent=view,
        reason=reason,
        reasons=list(labels.REVOKE_LABELS.items()),
    )


@router.get("/clients/{client_id}/consents/{series}/revoke", response_class=HTMLResponse)
def revoke_confirm(staff: StaffDep, client_id: str, series: str) -> Response:
    """Ask before withdrawing: what stops being shared, and why it is withdrawn."""
    try:
        found, identity = _client(staff, client_id)
    except RefhubError as error:
        return refused(staff, error)
    return _withdraw_page(staff, found, identity, _consent(staff, found, series))


@router.post("/clients/{client_id}/consents/{series}/revoke", response_class=HTMLResponse)
def revoke(
    staff: StaffDep,
    client_id: str,
    series: str,
    csrf_token: Annotated[str, Form()] = "",
    reason: Annotated[str, Form()] = "",
) -> Response:
    """Withdraw the consent (`consent.service.revoke`): the next decision no longer sees it."""
    staff.check_csrf(csrf_token)
    try:
        found, identity = _client(staff, client_id)
    except RefhubError as error:
        return refused(staff, error)
    record = _consent(staff, found, series)
    try:
        body = RevokeRequest.model_validate({"reason": reason})
    except ValidationError:
        problem = {"field": "reason", "message": staff.gettext("Say why the consent is withdrawn")}
        return _withdraw_page(
            staff, found, identity, record, reason=reason, errors=[problem], status=422
        )
    try:
        with attempt(staff.session):
            consent_service.revoke(
                staff.session, staff.caller, series_id=record.series_id, reason=body.reason
            )
    except RefhubError as error:
        problem = {"field": "", "message": staff.gettext("This consent is no longer in force.")}
        if not isinstance(error, ConsentInvalid):
            problem["message"] = error.detail
        return _withdraw_page(
            staff, found, identity, record, reason=reason, errors=[problem], status=error.status
        )
    return go(f"/ui/clients/{found}?done=withdrawn")
