"""Registering a system client by JWKS URL: which addresses are accepted, the admin API
(`jwks` or `jwks_uri`, exactly one; 422 naming the field, nothing stored), and the org
admin's web form (the choice, errors at the field, the client's page)."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from joserfc.jwk import ECKey
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from gateway.auth.clients.errors import InvalidKeySource
from gateway.auth.clients.models import SystemClient
from gateway.auth.clients.remote_keys import check_jwks_uri
from kernel.audit import AuditRecord
from kernel.caller import Role
from tests.gateway.staff import Account, MakeAccount, StaffClient

URL = "https://cms.eastside.example/.well-known/jwks.json"


@pytest.mark.parametrize(
    "uri",
    [
        URL,
        "https://cms.example:8443/keys?set=current",
        "http://127.0.0.1:8765/jwks.json",
        "http://localhost/jwks.json",
        "http://[::1]:9000/jwks.json",
    ],
)
def test_https_and_loopback_http_addresses_are_accepted(uri: str) -> None:
    assert check_jwks_uri(f" {uri} ") == uri


@pytest.mark.parametrize(
    ("uri", "says"),
    [
        ("http://cms.example/jwks.json", "must use https"),
        ("http://10.0.0.7/jwks.json", "must use https"),
        ("ftp://cms.example/jwks.json", "https://"),
        ("file:///etc/passwd", "https://"),
        ("cms.example/jwks.json", "https://"),
        ("https://user:secret@cms.example/jwks", "no user name"),
        ("https://cms.example/jwks#current", "no user name"),
        ("https://cms.example:port/jwks", "cannot be read"),
        ("https://cms.exämple/jwks", "ASCII"),
        ("https://" + "a" * 2050, "2048"),
        ("", "1 to 2048"),
    ],
)
def test_other_addresses_are_refused_naming_the_field(uri: str, says: str) -> None:
    with pytest.raises(InvalidKeySource) as refused:
        check_jwks_uri(uri)
    assert refused.value.field == "jwks_uri"
    assert says in refused.value.detail


@pytest.fixture
def admin(make_account: MakeAccount) -> Account:
    return make_account(roles=(Role.ORG_ADMIN,))


@pytest.fixture
def console(admin: Account, staff_client: Any) -> StaffClient:
    signed_in: StaffClient = staff_client(admin)
    return signed_in


def _jwks() -> dict[str, Any]:
    key = ECKey.generate_key("P-384", parameters={"kid": "k1"})
    return {"keys": [key.as_dict(private=False)]}


def _clients(db: Session, admin: Account) -> int:
    return (
        db.scalar(
            select(func.count())
            .select_from(SystemClient)
            .where(SystemClient.organisation_id == admin.org.id)
        )
        or 0
    )


def _api_register(console: StaffClient, admin: Account, **body: Any) -> httpx.Response:
    payload = {"name": "Case manager", "allowed_scopes": ["system/Task.rs"], **body}
    return console.post(f"/admin/organisations/{admin.org.id}/clients", json=payload)


def test_the_api_registers_a_client_by_url(
    console: StaffClient, admin: Account, db: Session
) -> None:
    made = _api_register(console, admin, jwks_uri=URL)
    assert made.status_code == 201, made.text
    assert made.json()["jwks_uri"] == URL
    client_id = made.json()["id"]
    assert console.get(f"/admin/clients/{client_id}/keys").json() == []
    record = db.scalars(
        select(AuditRecord)
        .where(AuditRecord.action == "auth.client.register")
        .order_by(AuditRecord.seq.desc())
    ).first()
    assert record is not None and record.detail == {"jwks_uri": URL}
    # Keys of a URL client are published at the URL, not added here.
    added = console.post(f"/admin/clients/{client_id}/keys", json={"jwk": _jwks()["keys"][0]})
    assert added.status_code == 409 and added.json()["code"] == "keys-at-jwks-uri"
    pasted = _api_register(console, admin, jwks=_jwks())
    assert pasted.status_code == 201 and pasted.json()["jwks_uri"] is None


@pytest.mark.parametrize(
    ("body", "field", "says"),
    [
        ({"jwks_uri": URL, "jwks": "both"}, "jwks_uri", "not both"),
        ({}, "jwks", "give the public keys"),
        ({"jwks_uri": "http://cms.example/jwks.json"}, "jwks_uri", "must use https"),
        ({"jwks_uri": "https://cms.example/jwks#a"}, "jwks_uri", "no user name"),
    ],
)
def test_the_api_refuses_both_neither_or_a_bad_url(
    console: StaffClient,
    admin: Account,
    db: Session,
    body: dict[str, Any],
    field: str,
    says: str,
) -> None:
    if body.get("jwks") == "both":
        body = {**body, "jwks": _jwks()}
    refused = _api_register(console, admin, **body)
    assert refused.status_code == 422, refused.text
    problem = refused.json()
    assert problem["code"] == "invalid-key-source"
    assert problem["errors"][0]["location"] == f"body.{field}"
    assert says in problem["detail"]
    assert _clients(db, admin) == 0


def _form(console: StaffClient, **fields: Any) -> httpx.Response:
    data = {
        "csrf_token": console.csrf,
        "name": "Case manager",
        "scopes": ["system/Task.cruds"],
        **fields,
    }
    response: httpx.Response = console.http.post(
        "/ui/admin/clients/new", data=data, follow_redirects=False
    )
    return response


def test_the_form_registers_a_client_by_url(
    console: StaffClient, admin: Account, db: Session
) -> None:
    form = console.get("/ui/admin/clients/new")
    assert 'name="keys_from" value="jwks" checked' in form.text
    assert 'id="jwks_uri"' in form.text
    made = _form(console, keys_from="jwks_uri", jwks_uri=URL, jwks="")
    assert made.status_code == 303, made.text
    client = db.scalars(
        select(SystemClient).where(SystemClient.organisation_id == admin.org.id)
    ).one()
    assert client.jwks_uri == URL
    page = console.get(made.headers["location"])
    assert URL in page.text and "Fetched from an address (URL)" in page.text
    assert "Keys and rotation" in page.text and "at most every 30 seconds" in page.text
    assert (
        'action="/ui/admin/clients/'
        not in page.text.split("danger-zone")[0].split("Keys and rotation")[1]
    )  # no add-key form: keys are published at the URL
    listed = console.get("/ui/admin/clients")
    assert "Fetched from its URL" in listed.text


@pytest.mark.parametrize(
    ("fields", "field", "says"),
    [
        ({"keys_from": "jwks_uri", "jwks_uri": ""}, "jwks_uri", "Enter the address"),
        (
            {"keys_from": "jwks_uri", "jwks_uri": URL, "jwks": json.dumps(_jwks())},
            "jwks",
            "leave the pasted keys empty",
        ),
        (
            {"keys_from": "jwks", "jwks_uri": URL, "jwks": json.dumps(_jwks())},
            "jwks_uri",
            "leave the address empty",
        ),
        (
            {"keys_from": "jwks_uri", "jwks_uri": "http://cms.example/jwks.json"},
            "jwks_uri",
            "must use https",
        ),
    ],
)
def test_the_form_shows_a_key_source_problem_at_the_field(
    console: StaffClient,
    admin: Account,
    db: Session,
    fields: dict[str, str],
    field: str,
    says: str,
) -> None:
    page = _form(console, **fields)
    assert page.status_code == 422
    assert f'id="{field}-error"' in page.text
    assert says in page.text
    assert 'value="Case manager"' in page.text  # the input kept
    chosen = fields["keys_from"]
    assert f'name="keys_from" value="{chosen}" checked' in page.text
    assert _clients(db, admin) == 0
