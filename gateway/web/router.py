"""Staff web UI: sign-in pages (password, authenticator, enrolment, password change).

Server-rendered HTML with Jinja2 (autoescaped). Every form post carries a CSRF token: the
session's own once signed in, and before that a double-submit token (cookie + form field)
so nobody can sign a victim in to an account of the attacker's. Failures re-render the
form with a message; the sign-in rules are `gateway.auth.service`'s, exactly as for the API,
and so is the per-address throttle of the password and code forms (429, `Retry-After`).
"""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response

from gateway.auth import service as auth_service
from gateway.auth import throttle
from gateway.auth.dependencies import clear_session_cookie, set_session_cookie
from gateway.auth.errors import AuthError
from gateway.dependencies import DbSession, RuntimeDep
from gateway.web.pages import csrf_ok as _csrf_ok
from gateway.web.pages import go as _go
from gateway.web.pages import page as _page
from gateway.web.pages import session_state as _state

__all__ = ["router"]

router = APIRouter(prefix="/ui", include_in_schema=False)
LOGIN_CSRF_COOKIE = "refhub_login_csrf"
_NEXT = {
    "done": "/ui/",
    "totp": "/ui/totp",
    "enrol-totp": "/ui/enrol",
    "change-password": "/ui/password",
}
Field = Annotated[str, Form(max_length=1024)]


def _next(state: auth_service.SessionState) -> str:
    if not state.mfa_passed:
        return "/ui/enrol" if state.needs_enrolment else "/ui/totp"
    return "/ui/password" if state.must_change_password else "/ui/"


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, session: DbSession, runtime: RuntimeDep) -> Response:
    state = _state(request, session)
    if state is not None and state.mfa_passed and not state.must_change_password:
        return _go("/ui/")
    token = secrets.token_urlsafe(24)
    response = _page(request, "login.html", csrf_token=token)
    response.set_cookie(
        LOGIN_CSRF_COOKIE,
        token,
        httponly=True,
        secure=runtime.settings.public_url_is_https,
        samesite="strict",
        path="/ui",
    )
    return response


def _refused(request: Request, name: str, error: AuthError, **context: str) -> Response:
    """The form again, with the refusal's status, message and headers (Retry-After)."""
    response = _page(request, name, status=error.status, error=error.detail, **context)
    response.headers.update(getattr(error, "headers", None) or {})
    return response


@router.post("/login", response_class=HTMLResponse)
def login(
    request: Request,
    refusal: throttle.SignInRefusal,
    session: DbSession,
    runtime: RuntimeDep,
    email: Field,
    password: Field,
    csrf_token: Field = "",
) -> Response:
    cookie = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if refusal is not None:
        return _refused(request, "login.html", refusal, csrf_token=cookie, email=email)
    if not _csrf_ok(csrf_token, cookie):
        return _page(
            request,
            "login.html",
            status=403,
            csrf_token=cookie,
            email=email,
            error="The form expired; please try again.",
        )
    try:
        result = auth_service.sign_in(session, email=email, password=password)
    except AuthError as exc:
        return _refused(request, "login.html", exc, csrf_token=cookie, email=email)
    response = _go(_NEXT[result.next_step])
    set_session_cookie(response, runtime.settings, result.token)
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/ui")
    return response


@router.get("/totp", response_class=HTMLResponse)
def totp_form(request: Request, session: DbSession) -> Response:
    state = _state(request, session)
    if state is None:
        return _go("/ui/login")
    return _page(request, "totp.html", csrf_token=state.csrf_token)


@router.post("/totp", response_class=HTMLResponse)
def totp(
    request: Request,
    refusal: throttle.SignInRefusal,
    session: DbSession,
    runtime: RuntimeDep,
    code: Field,
    csrf_token: Field = "",
) -> Response:
    state = _state(request, session)
    if state is None or not _csrf_ok(csrf_token, state.csrf_token):
        return _go("/ui/login")
    if refusal is not None:
        return _refused(request, "totp.html", refusal, csrf_token=state.csrf_token)
    try:
        result = auth_service.pass_totp(session, state, code=code)
    except AuthError as exc:
        return _refused(request, "totp.html", exc, csrf_token=state.csrf_token)
    response = _go(_NEXT[result.next_step])
    set_session_cookie(response, runtime.settings, result.token)
    return response


@router.get("/enrol", response_class=HTMLResponse)
def enrol_form(request: Request, session: DbSession) -> Response:
    state = _state(request, session)
    if state is None:
        return _go("/ui/login")
    return _page(request, "enrol.html", csrf_token=state.csrf_token)


@router.post("/enrol/start", response_class=HTMLResponse)
def enrol_start(request: Request, session: DbSession, csrf_token: Field = "") -> Response:
    state = _state(request, session)
    if state is None or not _csrf_ok(csrf_token, state.csrf_token):
        return _go("/ui/login")
    try:
        secret, uri = auth_service.start_totp_enrolment(session, state)
    except AuthError as exc:
        return _page(
            request, "enrol.html", status=exc.status, csrf_token=state.csrf_token, error=exc.detail
        )
    return _page(request, "enrol.html", csrf_token=state.csrf_token, secret=secret, otpauth_uri=uri)


@router.post("/enrol/confirm", response_class=HTMLResponse)
def enrol_confirm(
    request: Request, session: DbSession, runtime: RuntimeDep, code: Field, csrf_token: Field = ""
) -> Response:
    state = _state(request, session)
    if state is None or not _csrf_ok(csrf_token, state.csrf_token):
        return _go("/ui/login")
    try:
        result = auth_service.confirm_totp(session, state, code=code)
    except AuthError as exc:
        return _page(
            request, "enrol.html", status=exc.status, csrf_token=state.csrf_token, error=exc.detail
        )
    response = _go(_NEXT[result.next_step])
    set_session_cookie(response, runtime.settings, result.token)
    return response


@router.get("/password", response_class=HTMLResponse)
def password_form(request: Request, session: DbSession) -> Response:
    state = _state(request, session)
    if state is None or not state.mfa_passed:
        return _go("/ui/login" if state is None else _next(state))
    return _page(request, "password.html", csrf_token=state.csrf_token)


@router.post("/password", response_class=HTMLResponse)
def password(
    request: Request,
    session: DbSession,
    current_password: Field,
    new_password: Field,
    csrf_token: Field = "",
) -> Response:
    state = _state(request, session)
    if state is None or not state.mfa_passed or not _csrf_ok(csrf_token, state.csrf_token):
        return _go("/ui/login")
    try:
        auth_service.change_password(session, state, current=current_password, new=new_password)
    except AuthError as exc:
        return _page(
            request,
            "password.html",
            status=exc.status,
            csrf_token=state.csrf_token,
            error=exc.detail,
        )
    return _go("/ui/")


@router.post("/logout")
def logout(request: Request, session: DbSession, csrf_token: Field = "") -> Response:
    state = _state(request, session)
    if state is not None and not _csrf_ok(csrf_token, state.csrf_token):
        return _go("/ui/")  # a forged sign-out changes nothing
    if state is not None:
        auth_service.sign_out(session, state)
    response = _go("/ui/login")
    clear_session_cookie(response)
    return response


@router.post("/sessions/revoke")
def revoke_everywhere(request: Request, session: DbSession, csrf_token: Field = "") -> Response:
    state = _state(request, session)
    if state is None or not state.mfa_passed or not _csrf_ok(csrf_token, state.csrf_token):
        return _go("/ui/")
    auth_service.revoke_sessions(session, state.caller.id)
    response = _go("/ui/login")
    clear_session_cookie(response)
    return response
