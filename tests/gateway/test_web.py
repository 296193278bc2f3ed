"""Staff web UI sign-in: forms, CSRF on every post, second factor, enrolment, escaping."""

from __future__ import annotations

import re

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from gateway.auth import credentials
from kernel.caller import Role
from tests.gateway.staff import Account, MakeAccount


def _csrf(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, html
    return found.group(1)


def _browser(app: FastAPI) -> TestClient:
    return TestClient(app, follow_redirects=False, raise_server_exceptions=False)


def _password_step(http: TestClient, account: Account, password: str | None = None) -> str:
    token = _csrf(http.get("/ui/login").text)
    response = http.post(
        "/ui/login",
        data={
            "email": account.user.email,
            "password": password or account.password,
            "csrf_token": token,
        },
    )
    assert response.status_code in (303, 401), response.text
    return response.headers.get("location", "")


def test_unauthenticated_pages_redirect_to_sign_in(app: FastAPI) -> None:
    http = _browser(app)
    for page in ("/ui/", "/ui/totp", "/ui/password"):
        response = http.get(page)
        assert response.status_code == 303
        assert response.headers["location"] == "/ui/login"


def test_password_then_code_reaches_home(app: FastAPI, make_account: MakeAccount) -> None:
    account = make_account(roles=(Role.SUPERVISOR,))
    http = _browser(app)
    assert _password_step(http, account) == "/ui/totp"
    form = http.get("/ui/totp")
    done = http.post("/ui/totp", data={"code": account.code(), "csrf_token": _csrf(form.text)})
    assert done.headers["location"] == "/ui/"
    home = http.get("/ui/")
    assert home.status_code == 200
    assert account.org.name in home.text
    assert "Supervisor" in home.text
    assert home.headers["x-frame-options"] == "DENY"


def test_login_form_needs_its_csrf_token(app: FastAPI, make_account: MakeAccount) -> None:
    account = make_account()
    http = _browser(app)
    http.get("/ui/login")
    forged = http.post(
        "/ui/login",
        data={"email": account.user.email, "password": account.password, "csrf_token": "forged"},
    )
    assert forged.status_code == 403
    assert "refhub_session" not in forged.headers.get("set-cookie", "")


def test_wrong_password_shows_the_form_again(
    app: FastAPI, make_account: MakeAccount, db: Session
) -> None:
    account = make_account()
    http = _browser(app)
    token = _csrf(http.get("/ui/login").text)
    response = http.post(
        "/ui/login",
        data={"email": account.user.email, "password": "not the password", "csrf_token": token},
    )
    assert response.status_code == 401
    assert "wrong" in response.text
    assert account.user.email in response.text  # the email field is kept
    db.refresh(account.user)
    assert account.user.failed_logins == 1


def test_admin_enrols_an_authenticator(app: FastAPI, make_account: MakeAccount) -> None:
    account = make_account(roles=(Role.ORG_ADMIN,), totp=False)
    http = _browser(app)
    assert _password_step(http, account) == "/ui/enrol"
    start = http.post("/ui/enrol/start", data={"csrf_token": _csrf(http.get("/ui/enrol").text)})
    secret = re.search(r'<code id="secret">([A-Z2-7]+)</code>', start.text)
    assert secret
    confirm = http.post(
        "/ui/enrol/confirm",
        data={"code": credentials.totp_code(secret.group(1)), "csrf_token": _csrf(start.text)},
    )
    assert confirm.headers["location"] == "/ui/"
    assert http.get("/ui/").status_code == 200


def test_sign_out_needs_the_session_token(app: FastAPI, make_account: MakeAccount) -> None:
    account = make_account()
    http = _browser(app)
    _password_step(http, account)
    token = _csrf(http.get("/ui/totp").text)
    http.post("/ui/totp", data={"code": account.code(), "csrf_token": token})
    http.post("/ui/logout", data={"csrf_token": "forged"})
    still = http.get("/ui/")
    assert still.status_code == 200  # a forged sign-out does nothing...
    http.post("/ui/logout", data={"csrf_token": _csrf(still.text)})
    assert http.get("/ui/").status_code == 303  # ...the real one ends the session


def test_names_are_escaped(app: FastAPI, make_account: MakeAccount, db: Session) -> None:
    account = make_account()
    account.user.display_name = "<script>alert(1)</script>"
    db.flush()
    http = _browser(app)
    _password_step(http, account)
    http.post(
        "/ui/totp", data={"code": account.code(), "csrf_token": _csrf(http.get("/ui/totp").text)}
    )
    home = http.get("/ui/").text
    assert "<script>alert(1)</script>" not in home
    assert "&lt;script&gt;" in home
