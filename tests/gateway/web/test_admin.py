"""The organisation administrator's console over HTTP: people (invite, duplicate email,
deactivate with a confirmation, reset the second factor, another organisation's person),
system clients (register with a pasted JWKS, bad JWKS at the field, revoke a key) and the
workflow times, saved and refused."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from joserfc.jwk import ECKey
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from gateway.auth.clients.models import AccessToken, ClientKey, SystemClient
from gateway.auth.models import StaffSession, User
from gateway.workflow import monitor
from kernel.audit import AuditRecord
from kernel.caller import Role
from kernel.db import utcnow
from tests.gateway.staff import Account, MakeAccount, StaffClient

Signed = Callable[[Account], StaffClient]


def _form(staff: StaffClient, url: str, **fields: Any) -> httpx.Response:
    response: httpx.Response = staff.http.post(
        url, data={"csrf_token": staff.csrf, **fields}, follow_redirects=False
    )
    return response


def _public_jwks(kid: str = "k1") -> dict[str, Any]:
    key = ECKey.generate_key("P-384", parameters={"kid": kid})
    return {"keys": [key.as_dict(private=False)]}


@pytest.fixture
def admin(make_account: MakeAccount) -> Account:
    return make_account(roles=(Role.ORG_ADMIN,))


@pytest.fixture
def console(admin: Account, staff_client: Signed) -> StaffClient:
    return staff_client(admin)


def test_the_landing_page_counts_and_links_the_sections(console: StaffClient) -> None:
    page = console.get("/ui/admin")
    assert page.status_code == 200
    for href in ("/ui/admin/users", "/ui/admin/clients", "/ui/listings", "/ui/admin/thresholds"):
        assert f'href="{href}"' in page.text
    assert "people with an active account" in page.text


def test_creating_a_person_stores_roles_and_a_temporary_password(
    console: StaffClient, admin: Account, db: Session
) -> None:
    shown = _form(
        console,
        "/ui/admin/users/new",
        display_name="Rania Saleh",
        email="Rania.Saleh@example.org",
        roles=["case_worker", "supervisor"],
        team="Intake",
    )
    assert shown.status_code == 200
    assert "Account created" in shown.text
    assert "must change the password" in shown.text
    user = db.scalars(select(User).where(User.email == "rania.saleh@example.org")).one()
    assert user.organisation_id == admin.org.id
    assert set(user.roles) == {"case_worker", "supervisor"}
    assert user.team == "Intake"
    assert user.must_change_password
    temporary = re.search(r'<p class="secret admin-secret">(.+?)</p>', shown.text)
    assert temporary and temporary.group(1).strip()  # shown once, here
    listed = console.get("/ui/admin/users")
    assert "Rania Saleh" in listed.text and "Never" in listed.text  # no sign-in yet
    assert temporary.group(1) not in listed.text


def test_a_duplicate_email_is_refused_at_the_field_with_the_input_kept(
    console: StaffClient, make_account: MakeAccount
) -> None:
    other = make_account()  # any organisation: emails are unique on the whole hub
    page = _form(
        console,
        "/ui/admin/users/new",
        display_name="Someone Else",
        email=other.user.email.upper(),
        roles=["case_worker"],
    )
    assert page.status_code == 422
    assert 'id="email-error"' in page.text
    assert "already has an account" in page.text
    assert 'value="Someone Else"' in page.text
    assert 'href="#email"' in page.text  # the error summary links to the field


def test_bad_person_input_is_shown_at_each_field(console: StaffClient) -> None:
    page = _form(console, "/ui/admin/users/new", display_name="", email="not-an-email")
    assert page.status_code == 422
    for field in ("display_name", "email", "roles"):
        assert f'id="{field}-error"' in page.text, field


def test_deactivating_needs_a_confirmation_and_is_audited(
    console: StaffClient, admin: Account, make_account: MakeAccount, db: Session
) -> None:
    worker = make_account(org=admin.org)
    confirm = console.get(f"/ui/admin/users/{worker.user.id}/confirm/deactivate")
    assert confirm.status_code == 200
    assert "can no longer sign in" in confirm.text
    db.refresh(worker.user)
    assert worker.user.active  # asking is not doing
    done = _form(console, f"/ui/admin/users/{worker.user.id}/deactivate")
    assert done.status_code == 303
    db.refresh(worker.user)
    assert not worker.user.active
    page = console.get(done.headers["location"])
    assert "The account is deactivated." in page.text
    records = db.scalars(
        select(AuditRecord).where(AuditRecord.subject == f"User/{worker.user.id}")
    ).all()
    assert any(r.action == "user.update" and r.actor == f"user:{admin.user.id}" for r in records)


def test_an_admin_cannot_deactivate_themselves_or_drop_their_admin_role(
    console: StaffClient, admin: Account, db: Session
) -> None:
    page = _form(console, f"/ui/admin/users/{admin.user.id}/deactivate")
    assert page.status_code == 422
    assert "You cannot deactivate your own account." in page.text
    page = _form(console, f"/ui/admin/users/{admin.user.id}/edit", roles=["case_worker"])
    assert page.status_code == 422
    assert 'id="roles-error"' in page.text
    db.refresh(admin.user)
    assert admin.user.active and "org_admin" in admin.user.roles


def test_resetting_the_second_factor_makes_them_enrol_again(
    console: StaffClient, admin: Account, make_account: MakeAccount, db: Session
) -> None:
    worker = make_account(org=admin.org)
    assert worker.user.totp_enabled
    assert _form(console, f"/ui/admin/users/{worker.user.id}/reset-mfa").status_code == 303
    db.refresh(worker.user)
    assert not worker.user.totp_enabled and worker.user.totp_secret is None
    assert db.scalar(
        select(func.count()).where(
            AuditRecord.action == "user.mfa_reset", AuditRecord.subject == f"User/{worker.user.id}"
        )
    )
    assert "Not set up" in console.get(f"/ui/admin/users/{worker.user.id}").text


def test_roles_and_team_are_saved_and_sign_out_ends_sessions(
    console: StaffClient,
    admin: Account,
    make_account: MakeAccount,
    staff_client: Signed,
    db: Session,
) -> None:
    worker = make_account(org=admin.org)
    signed_in = staff_client(worker)
    saved = _form(
        console, f"/ui/admin/users/{worker.user.id}/edit", roles=["supervisor"], team="Housing"
    )
    assert saved.status_code == 303
    db.refresh(worker.user)
    assert worker.user.roles == ["supervisor"] and worker.user.team == "Housing"
    page = console.get("/ui/admin/users")
    assert "Supervisor" in page.text  # last sign-in shown from the session
    assert page.text.count("Never") == 0
    assert _form(console, f"/ui/admin/users/{worker.user.id}/sign-out").status_code == 303
    open_sessions = db.scalar(
        select(func.count()).where(
            StaffSession.user_id == worker.user.id, StaffSession.revoked_at.is_(None)
        )
    )
    assert open_sessions == 0
    assert signed_in.get("/ui/", follow_redirects=False).status_code == 303


def test_another_organisations_person_is_not_found_and_unchanged(
    console: StaffClient, make_account: MakeAccount, db: Session
) -> None:
    stranger = make_account()
    db.commit()  # as if made before: a refused request rolls back only its own writes
    for url in (
        f"/ui/admin/users/{stranger.user.id}",
        f"/ui/admin/users/{stranger.user.id}/confirm/deactivate",
    ):
        page = console.get(url)
        assert page.status_code == 404 and "text/html" in page.headers["content-type"]
    for action in ("deactivate", "reset-mfa", "reset-password", "sign-out"):
        assert _form(console, f"/ui/admin/users/{stranger.user.id}/{action}").status_code == 404
    assert (
        _form(console, f"/ui/admin/users/{stranger.user.id}/edit", roles=["org_admin"]).status_code
        == 404
    )
    db.refresh(stranger.user)
    assert stranger.user.active and stranger.user.totp_enabled
    assert stranger.user.roles == ["case_worker"]


def _register(console: StaffClient, jwks: str, **fields: Any) -> httpx.Response:
    data = {"name": "Case manager", "scopes": ["system/Task.cruds"], "jwks": jwks, **fields}
    return _form(console, "/ui/admin/clients/new", **data)


def test_registering_a_client_with_a_pasted_jwks(
    console: StaffClient, admin: Account, db: Session
) -> None:
    made = _register(console, json.dumps(_public_jwks("key-2026")))
    assert made.status_code == 303, made.text
    client = db.scalars(
        select(SystemClient).where(SystemClient.organisation_id == admin.org.id)
    ).one()
    assert client.allowed_scopes == ["system/Task.cruds"]
    page = console.get(made.headers["location"])
    assert str(client.id) in page.text  # the client id to give the agency's system
    assert "/auth/token" in page.text
    assert "key-2026" in page.text and "ES384" in page.text
    listed = console.get("/ui/admin/clients")
    assert "Case manager" in listed.text and "Never" in listed.text


@pytest.mark.parametrize(
    ("jwks", "says"),
    [
        ('{"keys": [', "This is not valid JSON"),
        ('{"keys": []}', "1 to 10 keys"),
        ("PRIVATE", "This is not valid JSON"),
        ("", "Paste the public keys"),
    ],
)
def test_a_bad_jwks_is_refused_at_the_field(
    console: StaffClient, db: Session, admin: Account, jwks: str, says: str
) -> None:
    page = _register(console, jwks)
    assert page.status_code == 422
    assert 'id="jwks-error"' in page.text
    assert says in page.text
    assert 'value="Case manager"' in page.text  # the input kept
    assert not db.scalar(select(func.count()).where(SystemClient.organisation_id == admin.org.id))


def test_a_private_key_or_a_p256_key_is_refused_at_the_field(console: StaffClient) -> None:
    private = ECKey.generate_key("P-384", parameters={"kid": "p"}).as_dict(private=True)
    page = _register(console, json.dumps({"keys": [private]}))
    assert page.status_code == 422
    assert 'id="jwks-error"' in page.text and "public keys only" in page.text
    p256 = ECKey.generate_key("P-256", parameters={"kid": "p256"}).as_dict(private=False)
    page = _register(console, json.dumps({"keys": [p256]}))
    assert page.status_code == 422 and "P-384" in page.text


def test_adding_and_revoking_a_key_with_a_confirmation(
    console: StaffClient, admin: Account, db: Session
) -> None:
    made = _register(console, json.dumps(_public_jwks("old")))
    client_id = made.headers["location"].split("/")[-1].split("?")[0]
    new_key = _public_jwks("new")["keys"][0]
    added = _form(console, f"/ui/admin/clients/{client_id}/keys", jwk=json.dumps(new_key))
    assert added.status_code == 303
    again = _form(console, f"/ui/admin/clients/{client_id}/keys", jwk=json.dumps(new_key))
    assert again.status_code == 409 and 'id="jwk-error"' in again.text  # kid used already

    confirm = console.get(f"/ui/admin/clients/{client_id}/revoke-key?kid=old")
    assert confirm.status_code == 200 and "Revoke the key" in confirm.text
    assert _form(console, f"/ui/admin/clients/{client_id}/revoke-key", kid="old").status_code == 303
    keys = {
        k.kid: k.revoked_at
        for k in db.scalars(select(ClientKey).where(ClientKey.client_id == uuid.UUID(client_id)))
    }
    assert keys["old"] is not None and keys["new"] is None

    assert _form(console, f"/ui/admin/clients/{client_id}/revoke").status_code == 303
    client = db.get(SystemClient, uuid.UUID(client_id))
    assert client is not None and client.status == "revoked"


def test_the_last_token_issued_is_shown(console: StaffClient, admin: Account, db: Session) -> None:
    made = _register(console, json.dumps(_public_jwks("k")))
    client_id = uuid.UUID(made.headers["location"].split("/")[-1].split("?")[0])
    key = db.scalars(select(ClientKey).where(ClientKey.client_id == client_id)).one()
    db.add(
        AccessToken(
            token_hash=uuid.uuid4().hex,
            client_id=client_id,
            client_key_id=key.id,
            organisation_id=admin.org.id,
            scopes=["system/Task.cruds"],
            issued_at=utcnow(),
            expires_at=utcnow(),
        )
    )
    db.flush()
    page = console.get(f"/ui/admin/clients/{client_id}")
    assert "has not connected yet" not in page.text


def test_another_organisations_client_is_not_found(
    console: StaffClient, make_account: MakeAccount, staff_client: Signed
) -> None:
    other = staff_client(make_account(roles=(Role.ORG_ADMIN,)))
    made = _register(other, json.dumps(_public_jwks("theirs")))
    client_id = made.headers["location"].split("/")[-1].split("?")[0]
    assert console.get(f"/ui/admin/clients/{client_id}").status_code == 404
    assert _form(console, f"/ui/admin/clients/{client_id}/revoke").status_code == 404
    assert other.get(f"/ui/admin/clients/{client_id}").status_code == 200  # still active


def test_workflow_times_are_saved(console: StaffClient, admin: Account, db: Session) -> None:
    page = console.get("/ui/admin/thresholds")
    assert page.status_code == 200 and "72" in page.text  # the default, in words
    saved = _form(
        console,
        "/ui/admin/thresholds",
        response_hours="48",
        start_hours="",
        escalation_hours="24",
        first_contact_days="3",
    )
    assert saved.status_code == 303
    values = monitor.effective_thresholds(db, admin.org.id)
    assert (values.response_hours, values.start_hours) == (48, monitor.DEFAULTS.start_hours)
    assert (values.escalation_hours, values.first_contact_days) == (24, 3)
    assert "Workflow times saved." in console.get(saved.headers["location"]).text


def test_bad_workflow_times_are_refused_with_the_input_kept(
    console: StaffClient, admin: Account, db: Session
) -> None:
    page = _form(
        console,
        "/ui/admin/thresholds",
        response_hours="-5",
        start_hours="soon",
        escalation_hours="99999",
        first_contact_days="91",
    )
    assert page.status_code == 422
    for field in ("response_hours", "start_hours", "escalation_hours", "first_contact_days"):
        assert f'id="{field}-error"' in page.text, field
    assert 'value="soon"' in page.text
    assert monitor.stored_thresholds(db, admin.org.id)["response_hours"] is None


def test_the_form_limits_match_the_api_schema() -> None:
    from gateway.web.admin.thresholds import FIELDS
    from gateway.workflow.schemas import ThresholdsIn

    for name, (_label, _hint, _unit, largest) in FIELDS.items():
        ThresholdsIn(**{name: largest})
        with pytest.raises(ValueError):
            ThresholdsIn(**{name: largest + 1})
