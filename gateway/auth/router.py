"""Staff sign-in over HTTP: password, second factor, enrolment, password change, sign-out.

`POST /auth/login` is public by nature; every other route needs the session it creates.
The password and code steps are throttled per client address (`gateway.auth.throttle`);
passing the second factor replaces the session cookie with a new token.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Response

from gateway.auth import schemas, throttle
from gateway.auth import service as auth_service
from gateway.auth.dependencies import (
    CurrentCaller,
    SessionStateDep,
    clear_session_cookie,
    set_session_cookie,
)
from gateway.dependencies import DbSession, RuntimeDep
from gateway.errors import error_responses

__all__ = ["router"]

router = APIRouter(prefix="/auth", tags=["sign-in"])
_ERRORS = error_responses(401, 403, 422)
_THROTTLED_ERRORS = error_responses(401, 403, 422, 429)
_THROTTLED = [Depends(throttle.require_sign_in_quota)]  # before the body and the database


@router.post(
    "/login", response_model=schemas.LoginOut, responses=_THROTTLED_ERRORS, dependencies=_THROTTLED
)
def login(
    body: schemas.LoginIn, response: Response, session: DbSession, runtime: RuntimeDep
) -> schemas.LoginOut:
    """Sign in with email and password; then follow `next_step`."""
    result = auth_service.sign_in(session, email=body.email, password=body.password)
    set_session_cookie(response, runtime.settings, result.token)
    return schemas.LoginOut(next_step=result.next_step, csrf_token=result.csrf_token)


@router.post(
    "/login/totp",
    response_model=schemas.StepOut,
    responses=_THROTTLED_ERRORS,
    dependencies=_THROTTLED,
)
def login_totp(
    body: schemas.CodeIn,
    response: Response,
    state: SessionStateDep,
    session: DbSession,
    runtime: RuntimeDep,
) -> schemas.StepOut:
    """Pass the second factor with the authenticator's current code (each code once); the
    session cookie is replaced by a new one."""
    result = auth_service.pass_totp(session, state, code=body.code)
    set_session_cookie(response, runtime.settings, result.token)
    return schemas.StepOut(next_step=result.next_step)


@router.post("/totp/enrol", response_model=schemas.EnrolmentOut, responses=_ERRORS)
def totp_enrol(state: SessionStateDep, session: DbSession) -> schemas.EnrolmentOut:
    """Start enrolling an authenticator app (shown once; confirm with a code)."""
    secret, uri = auth_service.start_totp_enrolment(session, state)
    return schemas.EnrolmentOut(secret=secret, otpauth_uri=uri)


@router.post("/totp/confirm", response_model=schemas.StepOut, responses=_ERRORS)
def totp_confirm(
    body: schemas.CodeIn,
    response: Response,
    state: SessionStateDep,
    session: DbSession,
    runtime: RuntimeDep,
) -> schemas.StepOut:
    """Confirm the enrolment with a first code; this also passes the second factor (the
    session cookie is replaced by a new one)."""
    result = auth_service.confirm_totp(session, state, code=body.code)
    set_session_cookie(response, runtime.settings, result.token)
    return schemas.StepOut(next_step=result.next_step)


@router.post("/password", status_code=204, responses=_ERRORS)
def password_change(
    body: schemas.PasswordChangeIn, state: SessionStateDep, session: DbSession
) -> Response:
    """Change your password (required after an admin reset); ends your other sessions."""
    auth_service.require_mfa(state)
    auth_service.change_password(
        session, state, current=body.current_password, new=body.new_password
    )
    return Response(status_code=204)


@router.post("/logout", status_code=204, responses=_ERRORS)
def logout(state: SessionStateDep, session: DbSession) -> Response:
    """End this session."""
    auth_service.sign_out(session, state)
    response = Response(status_code=204)
    clear_session_cookie(response)
    return response


@router.post("/sessions/revoke", status_code=204, responses=_ERRORS)
def revoke_all(caller: CurrentCaller, session: DbSession) -> Response:
    """Sign out everywhere: end every session of your account, this one included."""
    auth_service.revoke_sessions(session, caller.id)
    return Response(status_code=204)


@router.get("/me", response_model=schemas.CallerOut, responses=_ERRORS)
def me(caller: CurrentCaller) -> schemas.CallerOut:
    """Who the hub thinks you are."""
    return schemas.CallerOut(
        kind=caller.kind.value,
        id=caller.id,
        organisation_id=caller.organisation_id,
        roles=sorted(caller.roles),
        scopes=sorted(caller.scopes),
        team=caller.team,
    )
