"""The organisation's electronic endpoint: where the hub delivers referrals to it, and the
public key it encrypts them to (`directory.service.set_endpoint`, as
`PUT /directory/organization/endpoint` does), with the delivery figures of
`gateway.delivery.health.endpoint_health` beside it."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError

from directory import owned as directory_owned
from directory import service as directory_service
from directory.schemas import EndpointIn
from gateway.delivery import health as delivery_health
from gateway.web.i18n import N_
from gateway.web.listings.common import Field, LongField, listings_page, refused
from gateway.web.listings.forms import Problems
from gateway.web.shell import OrgAdminDep, Staff, go
from kernel.errors import RefhubError

__all__ = ["routes"]

routes = APIRouter(include_in_schema=False)
_PRIVATE = {"d", "p", "q", "dp", "dq", "qi", "k"}


def _page(
    staff: Staff,
    form: dict[str, str],
    *,
    status: int = 200,
    errors: Problems | None = None,
    saved: bool = False,
) -> HTMLResponse:
    assert staff.caller.organisation_id is not None
    org = directory_service.own_organization(staff.session, staff.caller.organisation_id)
    figures = delivery_health.endpoint_health(
        staff.session, staff.caller, staff.caller.organisation_id
    )
    _ = staff.gettext
    return listings_page(
        staff,
        "endpoint",
        "endpoint",
        status=status,
        form=form,
        organisation=org,
        health=figures,
        window_days=figures.window.days,
        connection_options=[
            ("hl7-fhir-rest", _("FHIR server (the hub creates the referral there)")),
            ("rest-hook", _("Webhook (the hub posts each message to this address)")),
        ],
        errors=errors or [],
        banner={
            "kind": "ok",
            "text": _(
                "Your endpoint is saved. The hub delivers new referrals to it, encrypted to "
                "this key."
            ),
        }
        if saved
        else None,
    )


@routes.get("/listings/endpoint", response_class=HTMLResponse)
def endpoint_page(
    staff: OrgAdminDep, done: Annotated[str, Query(max_length=20)] = ""
) -> HTMLResponse:
    current = directory_owned.own_endpoint(staff.session, staff.caller)
    form = {
        "address": current.address if current else "",
        "connection_type": current.connection_type if current else "rest-hook",
        "name": (current.name or "") if current else "",
        "public_jwk": json.dumps(current.public_jwk, indent=2)
        if current and current.public_jwk
        else "",
        "active": "1" if current is None or current.active else "",
        "exists": "1" if current else "",
    }
    return _page(staff, form, saved=done == "saved")


def _key(text: str, staff: Staff) -> tuple[dict[str, Any] | None, str]:
    """The pasted JWK as a dict (None: no key), or what is wrong with it in words."""
    if not text.strip():
        return None, ""
    try:
        value = json.loads(text)
    except ValueError:
        return None, staff.gettext(
            "Paste the key as JSON, starting with { and ending with }, as your IT provider gave it"
        )
    if not isinstance(value, dict):
        return None, staff.gettext("Paste one key (a JSON object), not a list or a text")
    if _PRIVATE & set(value):
        return None, staff.gettext(
            "This is a private key: never share it. Paste the public key only (without "
            "the “d” part)"
        )
    return value, ""


@routes.post("/listings/endpoint", response_class=HTMLResponse)
def save_endpoint(
    staff: OrgAdminDep,
    csrf_token: Field = "",
    address: Field = "",
    connection_type: Field = "",
    name: Field = "",
    public_jwk: LongField = "",
    active: Field = "",
) -> Response:
    staff.check_csrf(csrf_token)
    current = directory_owned.own_endpoint(staff.session, staff.caller)
    form = {
        "address": address,
        "connection_type": connection_type,
        "name": name,
        "public_jwk": public_jwk,
        "active": active,
        "exists": "1" if current else "",
    }
    key, key_problem = _key(public_jwk, staff)
    problems: Problems = []
    if key_problem:
        problems.append({"field": "public_jwk", "message": key_problem})
    try:
        body = EndpointIn(
            address=address.strip(),
            connection_type=connection_type,
            name=name.strip() or None,
            public_jwk=key,
            active=bool(active),
        )
    except ValidationError as error:
        messages = {
            "address": N_("Enter the address starting with https://"),
            "connection_type": N_("Choose how the hub connects to you"),
            "public_jwk": N_(
                "This is not a public key the hub can use: paste the public key (JWK) of "
                "kind EC, OKP or RSA, with all its parts"
            ),
            "name": N_("This is too long"),
        }
        for item in error.errors():
            field = str(item["loc"][0]) if item["loc"] else ""
            if field in messages and all(p["field"] != field for p in problems):
                problems.append({"field": field, "message": staff.gettext(messages[field])})
        return _page(staff, form, status=422, errors=problems)
    if problems:
        return _page(staff, form, status=422, errors=problems)
    try:
        directory_service.set_endpoint(staff.session, staff.caller, body=body)
    except RefhubError as exc:
        return _page(staff, form, status=exc.status, errors=refused(staff, exc))
    return go("/ui/listings/endpoint?done=saved")
