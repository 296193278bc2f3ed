"""The client's consent-page link: issued from their record (`consent.page_access.issue_link`,
as the API's `POST /consent/clients/{id}/page-links`), shown once with its check code and a
QR code for the client's phone, printable."""

from __future__ import annotations

from typing import Annotated, Any

import segno
from fastapi import APIRouter, Form
from fastapi.responses import HTMLResponse, Response
from markupsafe import Markup
from pydantic import ValidationError

from consent import page_access
from consent.schemas import PageLinkCreate
from gateway.dependencies import RuntimeDep
from gateway.web.clients.access import client_or_404, refused
from gateway.web.clients.forms import attempt
from gateway.web.clients.labels import LANGUAGE_LABELS
from gateway.web.clients.record import shown_identity
from gateway.web.shell import Staff, StaffDep
from kernel.errors import RefhubError

__all__ = ["qr_svg", "router"]

router = APIRouter()
#: How long a link may be used, in minutes (the API allows 5 minutes to 7 days).
VALIDITY = {60: "1 hour", 60 * 24: "1 day", 60 * 24 * 7: "7 days"}


def qr_svg(url: str, title: str) -> Markup:
    """`url` as a QR code in inline SVG markup (the pages' CSP blocks data: images)."""
    code = segno.make(url, error="m")
    svg = code.svg_inline(scale=4, border=2, title=title, svgclass="qr", omitsize=True)
    return Markup(svg.replace("<svg ", '<svg role="img" ', 1))  # noqa: S704 - segno's output, title escaped by segno


def _form_page(
    staff: Staff,
    client: Any,
    identity: dict[str, Any],
    values: dict[str, str],
    errors: list[dict[str, str]],
    *,
    status: int = 200,
) -> HTMLResponse:
    return staff.page(
        "clients/link_new.html",
        status=status,
        nav="clients",
        errors=errors,
        client_id=client.id,
        identity=identity,
        values=values,
        language_options=[(c, staff.gettext(label)) for c, label in LANGUAGE_LABELS.items()],
        validity=[(str(k), v) for k, v in VALIDITY.items()],
    )


@router.get("/clients/{client_id}/link", response_class=HTMLResponse)
def link_form(staff: StaffDep, client_id: str) -> Response:
    client = client_or_404(staff, client_id)
    try:
        identity = shown_identity(staff.session, staff.caller, client)
    except RefhubError as error:
        return refused(staff, error)
    values = {
        "second_check": "code",
        "language": str(identity.get("preferred_language") or "en"),
        "valid_minutes": str(60 * 24),
    }
    return _form_page(staff, client, identity, values, [])


@router.post("/clients/{client_id}/link", response_class=HTMLResponse)
def issue_link(
    staff: StaffDep,
    runtime: RuntimeDep,
    client_id: str,
    csrf_token: Annotated[str, Form()] = "",
    second_check: Annotated[str, Form()] = "code",
    language: Annotated[str, Form()] = "",
    valid_minutes: Annotated[str, Form()] = "1440",
) -> Response:
    """Issue the link and show it once: the address (and QR code), the code to give apart."""
    staff.check_csrf(csrf_token)
    client = client_or_404(staff, client_id)
    try:
        identity = shown_identity(staff.session, staff.caller, client)
    except RefhubError as error:
        return refused(staff, error)
    values = {"second_check": second_check, "language": language, "valid_minutes": valid_minutes}
    try:
        body = PageLinkCreate.model_validate(
            {
                "second_check": second_check,
                "language": language or None,
                "valid_minutes": int(valid_minutes) if valid_minutes.isdigit() else None,
            }
        )
    except ValidationError as error:
        field = str(error.errors()[0]["loc"][0])
        problem = {"field": field, "message": staff.gettext("Choose one of the options")}
        return _form_page(staff, client, identity, values, [problem], status=422)
    try:
        with attempt(staff.session):
            issued = page_access.issue_link(
                staff.session,
                staff.caller,
                client_id=client.id,
                base_url=runtime.settings.public_base_url,
                language=body.language,
                second_check=body.second_check,
                valid_minutes=body.valid_minutes,
            )
    except RefhubError as error:
        field = "second_check" if error.status == 422 else ""
        message = error.detail
        if field:
            message = staff.gettext(
                "The client's date of birth is not recorded: give them a code instead"
            )
        problem = {"field": field, "message": message}
        return _form_page(staff, client, identity, values, [problem], status=error.status)
    return staff.page(
        "clients/link_issued.html",
        nav="clients",
        client_id=client.id,
        identity=identity,
        issued=issued,
        qr=qr_svg(issued.url, staff.gettext("QR code of the client's consent-page link")),
        language=LANGUAGE_LABELS.get(body.language or "", ""),
        birth_date_check=body.second_check == "birth-date",
    )
