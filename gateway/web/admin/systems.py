"""The System clients section: an agency's software that calls the hub's API with SMART
Backend Services (a signed JWT assertion exchanged for a token). Registering one with its
public keys (a pasted JWKS, or the URL where the system publishes its JWKS), its page, key
rotation and revocation, each revocation behind a confirmation page."""

from __future__ import annotations

import json
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Form, HTTPException, Query
from fastapi.responses import HTMLResponse, Response

from gateway.auth.clients import scopes as scope_rules
from gateway.auth.clients import service as clients_service
from gateway.auth.clients.errors import ClientError, InvalidKey, InvalidKeySource, InvalidScopes
from gateway.auth.clients.keys import ALGORITHMS
from gateway.auth.clients.models import ClientKey, ClientStatus, SystemClient
from gateway.auth.clients.router import token_url
from gateway.web.admin.common import Field, LongField, admin_page, refused
from gateway.web.i18n import N_
from gateway.web.shell import OrgAdminDep, Staff, go
from kernel.errors import RefhubError

__all__ = ["routes"]

routes = APIRouter(include_in_schema=False)
Scopes = Annotated[list[str], Form()]

#: What each scope the hub advertises lets a client do, in words.
SCOPE_LABELS: dict[str, str] = {
    "system/ServiceRequest.cruds": N_("Send and manage referrals"),
    "system/Task.cruds": N_("Follow and answer referrals (status, messages)"),
    "system/Consent.rs": N_("Read clients' consents"),
    "system/*.rs": N_("Read and search everything the organisation may see"),
    "system/*.read": N_("Read everything (SMART v1 form)"),
    "system/*.write": N_("Write everything (SMART v1 form)"),
    "system/*.cruds": N_("Everything the organisation may do"),
    "system/*.*": N_("Everything (SMART v1 form)"),
}
_DONE = {
    "registered": N_(
        "The system client is registered. Give its client id and the token endpoint "
        "to the agency's system."
    ),
    "key-added": N_(
        "The key is added. The client can sign with the old and the new key until you "
        "revoke the old one."
    ),
    "key-revoked": N_(
        "The key is revoked: assertions signed with it and tokens got with it stop working."
    ),
    "revoked": N_(
        "The system client is revoked: it gets no new tokens and its tokens stop working."
    ),
}


def _client_or_404(staff: Staff, client_id: uuid.UUID) -> SystemClient:
    try:
        client = clients_service.get_client(staff.session, staff.caller, client_id=client_id)
    except RefhubError:
        raise HTTPException(404) from None
    if client.organisation_id != staff.caller.organisation_id:
        raise HTTPException(404)
    return client


def _read_json(staff: Staff, text: str, field: str) -> tuple[Any, dict[str, str] | None]:
    """The pasted text as JSON, or the problem at `field` (where the parser stopped)."""
    if not text.strip():
        return None, {"field": field, "message": staff.gettext("Paste the public keys (JSON).")}
    try:
        return json.loads(text), None
    except json.JSONDecodeError as exc:
        message = staff.gettext(
            "This is not valid JSON: %(problem)s at line %(line)s, column %(column)s."
        ) % {"problem": exc.msg, "line": exc.lineno, "column": exc.colno}
        return None, {"field": field, "message": message}


def _key_problem(staff: Staff, exc: InvalidKey, field: str) -> dict[str, str]:
    message = staff.gettext("These keys cannot be used: %(reason)s.") % {"reason": exc.detail}
    return {"field": field, "message": message}


@routes.get("/admin/clients", response_class=HTMLResponse)
def clients(staff: OrgAdminDep) -> HTMLResponse:
    org = staff.caller.organisation_id
    found = clients_service.list_clients(staff.session, staff.caller, organisation_id=org)
    issued = clients_service.last_tokens(staff.session, staff.caller, organisation_id=org)
    rows = []
    for client in found:
        keys = clients_service.list_keys(staff.session, staff.caller, client_id=client.id)
        rows.append(
            {
                "client": client,
                "active_keys": sum(1 for k in keys if k.revoked_at is None),
                "last_token": issued.get(client.id),
            }
        )
    return admin_page(staff, "clients", "clients", rows=rows, scope_labels=SCOPE_LABELS)


def _new_form(
    staff: Staff, form: dict[str, Any], errors: list[dict[str, str]], status: int = 200
) -> HTMLResponse:
    options = [
        (scope, f"{staff.gettext(SCOPE_LABELS[scope])} ({scope})")
        for scope in scope_rules.SCOPES_SUPPORTED
    ]
    return admin_page(
        staff,
        "client_new",
        "clients",
        status=status,
        form=form,
        errors=errors,
        scope_options=options,
        source_options=[
            ("jwks", staff.gettext("I paste them below (JWKS)")),
            ("jwks_uri", staff.gettext("The hub fetches them from an address (URL)")),
        ],
        algorithms=ALGORITHMS,
    )


@routes.get("/admin/clients/new", response_class=HTMLResponse)
def new_client(staff: OrgAdminDep) -> HTMLResponse:
    form = {"name": "", "scopes": [], "jwks": "", "jwks_uri": "", "keys_from": "jwks"}
    return _new_form(staff, form, [])


def _problems(staff: Staff, name: str, chosen: list[str]) -> list[dict[str, str]]:
    problems = []
    if not 1 <= len(name) <= 200:
        message = staff.gettext("Enter the system's name (at most 200 characters).")
        problems.append({"field": "name", "message": message})
    if not chosen or any(s not in scope_rules.SCOPES_SUPPORTED for s in chosen):
        message = staff.gettext("Choose at least one thing the system may do.")
        problems.append({"field": "scopes", "message": message})
    return problems


def _source_problems(staff: Staff, by_url: bool, jwks: str, jwks_uri: str) -> list[dict[str, str]]:
    """The field the chosen way of giving the keys needs, and the other one left empty."""
    _ = staff.gettext
    if by_url:
        problems = []
        if not jwks_uri:
            message = _("Enter the address (URL) where the system publishes its public keys.")
            problems.append({"field": "jwks_uri", "message": message})
        if jwks.strip():
            message = _(
                "You chose an address: leave the pasted keys empty, or choose to paste them."
            )
            problems.append({"field": "jwks", "message": message})
        return problems
    if jwks_uri:
        message = _("You chose to paste the keys: leave the address empty, or choose an address.")
        return [{"field": "jwks_uri", "message": message}]
    return []


@routes.post("/admin/clients/new", response_class=HTMLResponse)
def register_client(
    staff: OrgAdminDep,
    csrf_token: Field = "",
    name: Field = "",
    keys_from: Field = "jwks",
    jwks: LongField = "",
    jwks_uri: LongField = "",
    scopes: Scopes = [],  # noqa: B006 - FastAPI copies the default
) -> Response:
    staff.check_csrf(csrf_token)
    by_url = keys_from == "jwks_uri"
    form: dict[str, Any] = {
        "name": name.strip(),
        "scopes": scopes,
        "jwks": jwks,
        "jwks_uri": jwks_uri.strip(),
        "keys_from": "jwks_uri" if by_url else "jwks",
    }
    problems = _problems(staff, name.strip(), scopes)
    problems += _source_problems(staff, by_url, jwks, jwks_uri.strip())
    parsed = None
    if not by_url:
        parsed, json_problem = _read_json(staff, jwks, "jwks")
        if json_problem:
            problems.append(json_problem)
    if problems:
        return _new_form(staff, form, problems, status=422)
    try:
        client = clients_service.register_client(
            staff.session,
            staff.caller,
            organisation_id=staff.caller.organisation_id,
            name=name.strip(),
            jwks=None if by_url else parsed,
            jwks_uri=jwks_uri.strip() if by_url else None,
            allowed_scopes=scopes,
        )
    except InvalidKey as exc:
        refused(staff, exc)
        return _new_form(staff, form, [_key_problem(staff, exc, "jwks")], status=422)
    except InvalidKeySource as exc:
        refused(staff, exc)
        message = staff.gettext("This address cannot be used: %(reason)s.") % {"reason": exc.detail}
        return _new_form(staff, form, [{"field": exc.field, "message": message}], status=422)
    except InvalidScopes as exc:
        return _new_form(staff, form, refused(staff, exc, "scopes"), status=422)
    except RefhubError as exc:
        return _new_form(staff, form, refused(staff, exc), status=exc.status)
    return go(f"/ui/admin/clients/{client.id}?done=registered")


def client_page(
    staff: Staff,
    client_id: uuid.UUID,
    *,
    status: int = 200,
    errors: list[dict[str, str]] | None = None,
    jwk: str = "",
    done: str = "",
) -> HTMLResponse:
    client = _client_or_404(staff, client_id)
    keys = clients_service.list_keys(staff.session, staff.caller, client_id=client.id)
    org = staff.caller.organisation_id
    issued = clients_service.last_tokens(staff.session, staff.caller, organisation_id=org)
    banner = {"kind": "ok", "text": staff.gettext(_DONE[done])} if done in _DONE else None
    return admin_page(
        staff,
        "client",
        "clients",
        status=status,
        client=client,
        active=client.status == ClientStatus.ACTIVE,
        keys=keys,
        active_keys=sum(1 for k in keys if k.revoked_at is None),
        last_token=issued.get(client.id),
        token_endpoint=token_url(staff.request.app.state.runtime.settings),
        scope_labels=SCOPE_LABELS,
        algorithms=ALGORITHMS,
        errors=errors or [],
        jwk=jwk,
        banner=banner,
    )


@routes.get("/admin/clients/{client_id}", response_class=HTMLResponse)
def client_detail(
    client_id: uuid.UUID, staff: OrgAdminDep, done: Annotated[str, Query(max_length=40)] = ""
) -> HTMLResponse:
    return client_page(staff, client_id, done=done)


def _one_key(parsed: Any) -> Any:
    """A pasted JWK, or the one key of a pasted JWKS (what key generators often print)."""
    keys = parsed.get("keys") if isinstance(parsed, dict) else None
    if isinstance(keys, list) and len(keys) == 1:
        return keys[0]
    return parsed


@routes.post("/admin/clients/{client_id}/keys", response_class=HTMLResponse)
def add_key(
    client_id: uuid.UUID, staff: OrgAdminDep, csrf_token: Field = "", jwk: LongField = ""
) -> Response:
    staff.check_csrf(csrf_token)
    _client_or_404(staff, client_id)
    parsed, problem = _read_json(staff, jwk, "jwk")
    if problem:
        return client_page(staff, client_id, status=422, errors=[problem], jwk=jwk)
    try:
        clients_service.add_key(
            staff.session, staff.caller, client_id=client_id, jwk=_one_key(parsed)
        )
    except InvalidKey as exc:
        refused(staff, exc)
        errors = [_key_problem(staff, exc, "jwk")]
        return client_page(staff, client_id, status=422, errors=errors, jwk=jwk)
    except ClientError as exc:
        errors = refused(staff, exc, "jwk")
        return client_page(staff, client_id, status=exc.status, errors=errors, jwk=jwk)
    return go(f"/ui/admin/clients/{client_id}?done=key-added")


def _key_or_404(staff: Staff, client_id: uuid.UUID, kid: str) -> ClientKey:
    keys = clients_service.list_keys(staff.session, staff.caller, client_id=client_id)
    for key in keys:
        if key.kid == kid:
            return key
    raise HTTPException(404)


@routes.get("/admin/clients/{client_id}/revoke-key", response_class=HTMLResponse)
def confirm_revoke_key(
    client_id: uuid.UUID, staff: OrgAdminDep, kid: Annotated[str, Query(max_length=200)] = ""
) -> HTMLResponse:
    client = _client_or_404(staff, client_id)
    key = _key_or_404(staff, client_id, kid)
    return admin_page(staff, "client_confirm", "clients", client=client, key=key)


@routes.post("/admin/clients/{client_id}/revoke-key", response_class=HTMLResponse)
def revoke_key(
    client_id: uuid.UUID, staff: OrgAdminDep, csrf_token: Field = "", kid: Field = ""
) -> Response:
    staff.check_csrf(csrf_token)
    _client_or_404(staff, client_id)
    _key_or_404(staff, client_id, kid)
    clients_service.revoke_key(staff.session, staff.caller, client_id=client_id, kid=kid)
    return go(f"/ui/admin/clients/{client_id}?done=key-revoked")


@routes.get("/admin/clients/{client_id}/revoke", response_class=HTMLResponse)
def confirm_revoke_client(client_id: uuid.UUID, staff: OrgAdminDep) -> HTMLResponse:
    client = _client_or_404(staff, client_id)
    return admin_page(staff, "client_confirm", "clients", client=client, key=None)


@routes.post("/admin/clients/{client_id}/revoke", response_class=HTMLResponse)
def revoke_client(client_id: uuid.UUID, staff: OrgAdminDep, csrf_token: Field = "") -> Response:
    staff.check_csrf(csrf_token)
    _client_or_404(staff, client_id)
    clients_service.revoke_client(staff.session, staff.caller, client_id=client_id)
    return go(f"/ui/admin/clients/{client_id}?done=revoked")
