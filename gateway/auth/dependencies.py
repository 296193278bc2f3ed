"""Who is calling, for every route: one dependency, and the role requirements routes state.

A caller is either a system client with a bearer access token (`Authorization: Bearer`)
or a staff member with a session cookie. Cookie-authenticated requests that change state
must carry the session's CSRF token (`X-CSRF-Token` header or `csrf_token` form field).
A session only counts once the second factor is passed and any required password change
is done; the sign-in routes use `SessionStateDep`, which accepts a session still pending.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Request, Response

from gateway.auth import credentials
from gateway.auth import service as auth_service
from gateway.auth.clients import service as clients_service
from gateway.auth.errors import (
    CsrfFailed,
    Forbidden,
    MfaRequired,
    NotAuthenticated,
    PasswordChangeRequired,
)
from gateway.dependencies import DbSession
from kernel.caller import Caller, Role
from kernel.settings import Settings

__all__ = [
    "SESSION_COOKIE",
    "CurrentCaller",
    "SessionStateDep",
    "clear_session_cookie",
    "current_caller",
    "require_roles",
    "set_session_cookie",
]

SESSION_COOKIE = "refhub_session"
CSRF_HEADER = "x-csrf-token"
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def set_session_cookie(response: Response, settings: Settings, token: str) -> None:
    """Hand a new session to the browser: HttpOnly, SameSite=Lax, Secure behind https."""
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=int(auth_service.SESSION_ABSOLUTE.total_seconds()),
        httponly=True,
        secure=settings.public_base_url.startswith("https://"),
        samesite="lax",
        path="/",
    )


def clear_session_cookie(response: Response) -> None:
    response.delete_cookie(SESSION_COOKIE, path="/")


def _bearer_token(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return None


async def _csrf_token_sent(request: Request) -> str:
    """The CSRF token the request carries (header, or form field for HTML forms)."""
    if request.method in _SAFE_METHODS:
        return ""
    sent = request.headers.get(CSRF_HEADER, "")
    if not sent and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        form = await request.form()
        value = form.get("csrf_token")
        sent = value if isinstance(value, str) else ""
    return sent


CsrfSent = Annotated[str, Depends(_csrf_token_sent)]


def current_session_state(
    request: Request, session: DbSession, sent: CsrfSent
) -> auth_service.SessionState:
    """The staff session behind the cookie, even if sign-in is not complete yet."""
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        raise NotAuthenticated("Sign in first, or send a bearer access token.")
    state = auth_service.authenticate_session(session, token)
    unsafe = request.method not in _SAFE_METHODS
    if unsafe and not (sent and credentials.constant_time_equal(sent, state.csrf_token)):
        raise CsrfFailed("Send the session's CSRF token with every change.")
    request.state.caller = state.caller
    return state


SessionStateDep = Annotated[auth_service.SessionState, Depends(current_session_state)]


def current_caller(request: Request, session: DbSession, sent: CsrfSent) -> Caller:
    """The authenticated caller; raises 401/403 problems otherwise."""
    token = _bearer_token(request)
    if token is not None:
        caller = clients_service.caller_for_access_token(session, token)
        request.state.caller = caller
        return caller
    state = current_session_state(request, session, sent)
    if not state.mfa_passed:
        raise MfaRequired("Complete sign-in with your authenticator code first.")
    if state.must_change_password:
        raise PasswordChangeRequired("Change your temporary password first.")
    return state.caller


CurrentCaller = Annotated[Caller, Depends(current_caller)]


def require_roles(*roles: Role) -> Callable[[Caller], Caller]:
    """A dependency admitting staff with any of `roles` (hub admins always pass)."""

    def check(caller: CurrentCaller) -> Caller:
        if caller.is_hub_admin or caller.has_role(*roles):
            return caller
        raise Forbidden("Your role does not allow this.")

    return check
