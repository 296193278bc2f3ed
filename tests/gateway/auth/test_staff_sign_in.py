"""Staff sign-in: password + TOTP, lock-out, CSRF, cookies, sessions that end at once."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.auth.models import OrgStatus, StaffSession
from kernel.audit import AuditRecord
from kernel.caller import Role
from tests.gateway.staff import Account, MakeAccount, StaffClient


def test_password_then_code_signs_in(app: FastAPI, make_account: MakeAccount) -> None:
    account = make_account(roles=(Role.SUPERVISOR,), team="north")
    client = StaffClient(app)
    assert client.login(account, with_code=False) == "totp"
    assert client.get("/auth/me").status_code == 403  # second factor still missing
    assert client.post("/auth/login/totp", json={"code": account.code()}).json() == {
        "next_step": "done"
    }
    me = client.get("/auth/me").json()
    assert me["id"] == str(account.user.id)
    assert me["roles"] == ["supervisor"]
    assert me["team"] == "north"


def test_wrong_password_and_unknown_email_look_the_same(
    app: FastAPI, make_account: MakeAccount, db: Session
) -> None:
    account = make_account()
    client = StaffClient(app)
    wrong = client.http.post(
        "/auth/login", json={"email": account.user.email, "password": "x" * 12}
    )
    unknown = client.http.post(
        "/auth/login", json={"email": "nobody@example.org", "password": "x" * 12}
    )
    assert wrong.status_code == unknown.status_code == 401
    assert {k: v for k, v in wrong.json().items() if k != "request_id"} == {
        k: v for k, v in unknown.json().items() if k != "request_id"
    }
    denied = db.scalars(
        select(AuditRecord).where(
            AuditRecord.action == "auth.sign_in", AuditRecord.outcome == "denied"
        )
    ).all()
    assert any(r.actor == f"user:{account.user.id}" for r in denied)


def test_repeated_failures_lock_the_account(
    app: FastAPI, make_account: MakeAccount, db: Session
) -> None:
    account = make_account()
    client = StaffClient(app)
    for _ in range(5):
        assert (
            client.http.post(
                "/auth/login", json={"email": account.user.email, "password": "wrong password!"}
            ).status_code
            == 401
        )
    locked = client.http.post(
        "/auth/login", json={"email": account.user.email, "password": account.password}
    )
    assert locked.status_code == 401
    db.refresh(account.user)
    assert account.user.locked_until is not None


def test_wrong_code_is_refused(app: FastAPI, make_account: MakeAccount) -> None:
    account = make_account()
    client = StaffClient(app)
    client.login(account, with_code=False)
    wrong = "000000" if account.code() != "000000" else "111111"
    assert client.post("/auth/login/totp", json={"code": wrong}).status_code == 401
    assert client.get("/auth/me").status_code == 403


def test_admin_without_authenticator_must_enrol(app: FastAPI, make_account: MakeAccount) -> None:
    from gateway.auth import credentials

    account = make_account(roles=(Role.ORG_ADMIN,), totp=False)
    client = StaffClient(app)
    assert client.login(account) == "enrol-totp"
    assert client.get("/auth/me").status_code == 403
    enrolment = client.post("/auth/totp/enrol").json()
    assert enrolment["otpauth_uri"].startswith("otpauth://totp/refhub:")
    code = credentials.totp_code(enrolment["secret"])
    assert client.post("/auth/totp/confirm", json={"code": code}).json() == {"next_step": "done"}
    assert client.get("/auth/me").status_code == 200
    assert client.post("/auth/totp/enrol").status_code == 422  # cannot silently replace it


def test_state_changes_need_the_csrf_token(
    app: FastAPI, make_account: MakeAccount, staff_client: Callable[[Account], StaffClient]
) -> None:
    client = staff_client(make_account())
    assert client.http.post("/auth/logout").status_code == 403
    assert client.http.post("/auth/logout", headers={"X-CSRF-Token": "forged"}).status_code == 403
    assert client.post("/auth/logout").status_code == 204
    assert client.get("/auth/me").status_code == 401


def test_session_cookie_flags(app: FastAPI, make_account: MakeAccount) -> None:
    response = StaffClient(app).http.post(
        "/auth/login",
        json={"email": make_account().user.email, "password": "correct horse battery staple"},
    )
    cookie = response.headers["set-cookie"].lower()
    assert "httponly" in cookie
    assert "samesite=lax" in cookie
    assert "secure" not in cookie  # http base URL; https turns Secure on


def test_secure_cookie_behind_https(
    settings: object, make_account: MakeAccount, db: Session
) -> None:
    from fastapi.testclient import TestClient

    from gateway.app import create_app
    from gateway.dependencies import get_session
    from gateway.runtime import Runtime
    from kernel.settings import Settings

    assert isinstance(settings, Settings)
    https = create_app(
        Runtime(settings.model_copy(update={"public_base_url": "https://hub.example.org"})),
        run_relay=False,
    )

    def _session():  # type: ignore[no-untyped-def]
        yield db

    https.dependency_overrides[get_session] = _session
    account = make_account()
    response = TestClient(https).post(
        "/auth/login", json={"email": account.user.email, "password": account.password}
    )
    assert "secure" in response.headers["set-cookie"].lower()


def test_sign_out_everywhere(
    app: FastAPI, make_account: MakeAccount, staff_client: Callable[[Account], StaffClient]
) -> None:
    account = make_account()
    phone, laptop = staff_client(account), staff_client(account)
    assert laptop.post("/auth/sessions/revoke").status_code == 204
    assert phone.get("/auth/me").status_code == 401
    assert laptop.get("/auth/me").status_code == 401


def test_suspending_the_organisation_ends_sessions_at_once(
    make_account: MakeAccount, staff_client: Callable[[Account], StaffClient], db: Session
) -> None:
    account = make_account()
    client = staff_client(account)
    assert client.get("/auth/me").status_code == 200
    account.org.status = OrgStatus.SUSPENDED.value
    db.flush()
    assert client.get("/auth/me").status_code == 401
    assert db.scalars(select(StaffSession).where(StaffSession.user_id == account.user.id)).first()
