"""Administration: organisations join only when approved; org admins run their own staff;
nobody sees or touches another organisation's records; every change is audited."""

from __future__ import annotations

import uuid
from collections.abc import Callable

from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.auth import credentials
from gateway.auth.models import Organisation, OrgStatus, User
from kernel.audit import AuditRecord
from kernel.caller import Role
from tests.gateway.staff import Account, MakeAccount, MakeOrg, StaffClient

Signed = Callable[[Account], StaffClient]
APPLICATION = {
    "name": "Safe Harbour Counselling",
    "org_type": "torture_survivor_service",
    "contact_email": "intake@safeharbour.example",
    "admin": {
        "email": "lead@safeharbour.example",
        "display_name": "Lead",
        "password": "a long and unusual passphrase",
    },
}


def _actions(db: Session, subject: str) -> list[str]:
    return [
        r.action
        for r in db.scalars(
            select(AuditRecord).where(AuditRecord.subject == subject).order_by(AuditRecord.seq)
        )
    ]


def test_application_waits_for_a_hub_admin(
    app: FastAPI, make_account: MakeAccount, make_org: MakeOrg, staff_client: Signed, db: Session
) -> None:
    applied = StaffClient(app).http.post("/admin/organisations/applications", json=APPLICATION)
    assert applied.status_code == 201, applied.text
    org_id = applied.json()["id"]
    assert applied.json()["status"] == "applied"
    login = {"email": "lead@safeharbour.example", "password": "a long and unusual passphrase"}
    assert StaffClient(app).http.post("/auth/login", json=login).status_code == 401

    hub = staff_client(make_account(org=make_org(org_type="hub_operator"), roles=(Role.HUB_ADMIN,)))
    refused = hub.post(f"/admin/organisations/{org_id}/suspend", json={"reason": "x"})
    assert refused.status_code == 409
    assert "active" in refused.json()["detail"] and "rejected" in refused.json()["detail"]
    approved = hub.post(f"/admin/organisations/{org_id}/approve", json={})
    assert approved.json()["status"] == "active"
    first = StaffClient(app)
    assert (
        first.login(
            Account(
                user=db.scalars(select(User).where(User.email == "lead@safeharbour.example")).one(),
                org=None,
                password=login["password"],  # type: ignore[arg-type]
                totp_secret=None,
            )
        )
        == "enrol-totp"
    )  # admins must enrol a second factor
    assert hub.post(f"/admin/organisations/{org_id}/suspend", json={}).status_code == 422
    assert (
        hub.post(
            f"/admin/organisations/{org_id}/suspend", json={"reason": "complaint under review"}
        ).json()["status"]
        == "suspended"
    )
    assert _actions(db, f"Organization/{org_id}") == [
        "organisation.apply",
        "organisation.approve",
        "organisation.suspend",
    ]


def test_duplicate_application_is_refused(app: FastAPI) -> None:
    client = StaffClient(app).http
    assert client.post("/admin/organisations/applications", json=APPLICATION).status_code == 201
    assert client.post("/admin/organisations/applications", json=APPLICATION).status_code == 422


def test_only_hub_admins_change_membership(make_account: MakeAccount, staff_client: Signed) -> None:
    admin = make_account(roles=(Role.ORG_ADMIN,))
    client = staff_client(admin)
    response = client.post(f"/admin/organisations/{admin.org.id}/suspend", json={"reason": "x"})
    assert response.status_code == 403


def test_org_admin_creates_staff_who_must_change_password(
    app: FastAPI, make_account: MakeAccount, staff_client: Signed, db: Session
) -> None:
    admin = make_account(roles=(Role.ORG_ADMIN,))
    client = staff_client(admin)
    created = client.post(
        f"/admin/organisations/{admin.org.id}/users",
        json={
            "email": "worker@example.org",
            "display_name": "Case Worker",
            "roles": ["case_worker"],
            "team": "east",
        },
    )
    assert created.status_code == 201, created.text
    temporary = created.json()["temporary_password"]
    user = db.get(User, uuid.UUID(created.json()["user"]["id"]))
    assert user is not None
    newcomer = StaffClient(app)
    step = newcomer.login(Account(user=user, org=admin.org, password=temporary, totp_secret=None))
    assert step == "enrol-totp"
    enrol = newcomer.post("/auth/totp/enrol").json()
    assert newcomer.post(
        "/auth/totp/confirm", json={"code": credentials.totp_code(enrol["secret"])}
    ).json() == {"next_step": "change-password"}
    assert newcomer.get("/auth/me").json()["code"] == "password-change-required"
    weak = newcomer.post(
        "/auth/password", json={"current_password": temporary, "new_password": "short"}
    )
    assert weak.status_code == 422
    assert (
        newcomer.post(
            "/auth/password",
            json={"current_password": temporary, "new_password": "my own long passphrase"},
        ).status_code
        == 204
    )
    assert newcomer.get("/auth/me").json()["roles"] == ["case_worker"]
    assert _actions(db, f"User/{user.id}")[0] == "user.create"


def test_role_rules(make_account: MakeAccount, staff_client: Signed) -> None:
    admin = make_account(roles=(Role.ORG_ADMIN,))
    worker = make_account(org=admin.org, roles=(Role.CASE_WORKER,))
    as_worker = staff_client(worker)
    assert (
        as_worker.post(
            f"/admin/organisations/{admin.org.id}/users",
            json={"email": "x@example.org", "display_name": "X", "roles": ["case_worker"]},
        ).status_code
        == 403
    )
    as_admin = staff_client(admin)
    assert (
        as_admin.post(
            f"/admin/organisations/{admin.org.id}/users",
            json={"email": "y@example.org", "display_name": "Y", "roles": ["hub_admin"]},
        ).status_code
        == 403
    )
    assert (
        as_admin.patch(f"/admin/users/{admin.user.id}", json={"mfa_required": False}).status_code
        == 422
    )
    assert (
        as_admin.patch(f"/admin/users/{worker.user.id}", json={"mfa_required": False}).json()[
            "mfa_required"
        ]
        is False
    )
    assert (
        as_admin.patch(f"/admin/users/{admin.user.id}", json={"active": False}).status_code == 422
    )


def test_reset_and_revocation_by_org_admin(
    make_account: MakeAccount, staff_client: Signed, db: Session
) -> None:
    admin = make_account(roles=(Role.ORG_ADMIN,))
    worker = make_account(org=admin.org)
    worker_client = staff_client(worker)
    as_admin = staff_client(admin)
    assert as_admin.post(f"/admin/users/{worker.user.id}/sessions/revoke").status_code == 204
    assert worker_client.get("/auth/me").status_code == 401
    reset = as_admin.post(f"/admin/users/{worker.user.id}/password-reset")
    assert reset.status_code == 200
    db.refresh(worker.user)
    assert worker.user.must_change_password
    assert not worker.user.totp_enabled
    assert credentials.verify_password(
        worker.user.password_hash, reset.json()["temporary_password"]
    )


def test_no_organisation_sees_another(
    make_account: MakeAccount, make_org: MakeOrg, staff_client: Signed
) -> None:
    ours = make_account(roles=(Role.ORG_ADMIN,))
    theirs = make_account(roles=(Role.ORG_ADMIN,))
    client = staff_client(ours)
    listed = client.get("/admin/organisations").json()
    assert [o["id"] for o in listed] == [str(ours.org.id)]
    for url in (
        f"/admin/organisations/{theirs.org.id}",
        f"/admin/organisations/{theirs.org.id}/users",
        f"/admin/users/{theirs.user.id}",
    ):
        response = client.get(url)
        assert response.status_code == 404, url
        assert theirs.org.name not in response.text
        assert theirs.user.email not in response.text
    assert (
        client.post(
            f"/admin/organisations/{theirs.org.id}/users",
            json={"email": "z@example.org", "display_name": "Z", "roles": ["case_worker"]},
        ).status_code
        == 404
    )
    assert client.post(f"/admin/users/{theirs.user.id}/password-reset").status_code == 404


def test_hub_admin_sees_every_organisation(
    make_account: MakeAccount, make_org: MakeOrg, staff_client: Signed
) -> None:
    other = make_org()
    hub = staff_client(make_account(org=make_org(org_type="hub_operator"), roles=(Role.HUB_ADMIN,)))
    ids = {o["id"] for o in hub.get("/admin/organisations").json()}
    assert str(other.id) in ids
    pending = make_org(status=OrgStatus.APPLIED)
    applied = {
        o["id"] for o in hub.get("/admin/organisations", params={"status": "applied"}).json()
    }
    assert str(pending.id) in applied
    assert str(other.id) not in applied
    assert isinstance(pending, Organisation)
