"""Staff sign-in rules: passwords, lock-out, the TOTP second factor, server-side sessions.

A session is created by a correct password. It grants access only once the second factor
is passed (or, for an account that needs one and has none yet, only to enrol one), and
only while the user is active, the organisation active, and the session neither revoked
nor expired. Failed attempts are counted and audited in the request's transaction, which
the refusal (`keeps_writes`) commits instead of rolling back.

Failures lock the account as `gateway.auth.lockout` says, for passwords and codes alike.
An accepted code's time step is kept, so the same code cannot be used twice, and the
session gets a new token when the second factor passes.
"""

from __future__ import annotations

import datetime as dt
import secrets
import uuid
from dataclasses import dataclass

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from gateway.auth import credentials, lockout
from gateway.auth.errors import InvalidCredentials, InvalidInput, MfaRequired, NotAuthenticated
from gateway.auth.models import Organisation, OrgStatus, StaffSession, User
from kernel import audit
from kernel.caller import Caller, CallerKind, Role
from kernel.db import utcnow

__all__ = [
    "ADMIN_ROLES",
    "SessionState",
    "SignIn",
    "authenticate_session",
    "change_password",
    "confirm_totp",
    "describe",
    "pass_totp",
    "require_mfa",
    "revoke_sessions",
    "sign_in",
    "sign_out",
    "start_totp_enrolment",
]

ADMIN_ROLES = frozenset({Role.ORG_ADMIN, Role.HUB_ADMIN})
SESSION_IDLE = dt.timedelta(minutes=30)
SESSION_ABSOLUTE = dt.timedelta(hours=12)
_TOUCH_EVERY = dt.timedelta(minutes=1)


@dataclass(frozen=True)
class SignIn:
    token: str
    csrf_token: str
    next_step: str  # "done", "totp", "enrol-totp", "change-password"


@dataclass(frozen=True)
class SessionState:
    caller: Caller
    session_id: uuid.UUID
    csrf_token: str
    mfa_passed: bool
    must_change_password: bool
    needs_enrolment: bool


def _needs_mfa(user: User) -> bool:
    return user.mfa_required or bool(set(user.roles) & ADMIN_ROLES) or user.totp_enabled


def _next_step(user: User, mfa_passed: bool) -> str:
    if not mfa_passed:
        return "totp" if user.totp_enabled else "enrol-totp"
    return "change-password" if user.must_change_password else "done"


def sign_in(session: Session, *, email: str, password: str) -> SignIn:
    """Check a password and open a session (second factor still to come, if required).

    Raises:
        InvalidCredentials: unknown email, wrong password, locked, inactive user or
            organisation: all the same answer.
    """
    row = session.execute(
        select(User, Organisation.status)
        .join(Organisation, Organisation.id == User.organisation_id)
        .where(func.lower(User.email) == email.strip().lower())
        .with_for_update(of=User)
    ).first()
    user, org_status = (row[0], row[1]) if row else (None, None)
    password_ok = credentials.verify_password(user.password_hash if user else None, password)
    now = utcnow()
    reason = None
    if user is None:
        reason = "unknown-account"
    elif lockout.is_locked(user, now):
        reason = "locked"
    elif not password_ok:
        reason = "bad-password"
    elif not user.active or org_status != OrgStatus.ACTIVE:
        reason = "inactive"
    if reason is not None or user is None:
        raise lockout.refuse(session, user, reason or "unknown-account", "auth.sign_in")
    user.failed_logins, user.locked_until = 0, None
    mfa_passed = not _needs_mfa(user)
    token, csrf = credentials.new_session_token(), secrets.token_urlsafe(24)
    session.add(
        StaffSession(
            token_hash=credentials.token_digest(token),
            csrf_token=csrf,
            user_id=user.id,
            mfa_passed=mfa_passed,
            expires_at=now + SESSION_ABSOLUTE,
        )
    )
    audit.record(
        session,
        actor=f"user:{user.id}",
        action="auth.sign_in",
        organisation=str(user.organisation_id),
        subject=f"User/{user.id}",
    )
    return SignIn(token=token, csrf_token=csrf, next_step=_next_step(user, mfa_passed))


def authenticate_session(session: Session, token: str) -> SessionState:
    """The state behind a session cookie.

    Raises:
        NotAuthenticated: unknown, revoked or expired session; inactive user or organisation.
    """
    row = session.execute(
        select(StaffSession, User, Organisation.status)
        .join(User, User.id == StaffSession.user_id)
        .join(Organisation, Organisation.id == User.organisation_id)
        .where(StaffSession.token_hash == credentials.token_digest(token))
    ).first()
    now = utcnow()
    if row is None:
        raise NotAuthenticated("Sign in first.")
    staff_session, user, org_status = row
    if (
        staff_session.revoked_at is not None
        or staff_session.expires_at <= now
        or staff_session.last_seen_at + SESSION_IDLE <= now
        or not user.active
        or org_status != OrgStatus.ACTIVE
    ):
        raise NotAuthenticated("The session has ended; sign in again.")
    if now - staff_session.last_seen_at > _TOUCH_EVERY:
        staff_session.last_seen_at = now
    caller = Caller(
        kind=CallerKind.USER,
        id=user.id,
        organisation_id=user.organisation_id,
        roles=frozenset(Role(r) for r in user.roles),
        team=user.team,
    )
    return SessionState(
        caller=caller,
        session_id=staff_session.id,
        csrf_token=staff_session.csrf_token,
        mfa_passed=staff_session.mfa_passed,
        must_change_password=user.must_change_password,
        needs_enrolment=not user.totp_enabled,
    )


def require_mfa(state: SessionState) -> None:
    """Raise unless the session has passed the second factor."""
    if not state.mfa_passed:
        raise MfaRequired("Complete sign-in with your authenticator code first.")


def _user(session: Session, state: SessionState) -> User:
    user = session.get(User, state.caller.id, with_for_update=True)
    assert user is not None
    return user


def _code_problem(user: User, secret: str, code: str) -> tuple[str | None, int]:
    """Why `code` cannot pass the second factor now (None when it can), and its time step."""
    if lockout.is_locked(user, utcnow()):
        return "locked", 0
    step = credentials.totp_step(secret, code)
    if step is None:
        return "bad-totp", 0
    if user.totp_last_step is not None and step <= user.totp_last_step:
        return "replayed-totp", step  # this code, or a later one, was accepted already
    return None, step


def pass_totp(session: Session, state: SessionState, *, code: str) -> SignIn:
    """Complete sign-in with a TOTP code: the session's new token (the cookie must be
    replaced) and the next step.

    Raises:
        InvalidInput: no authenticator is enrolled.
        InvalidCredentials: wrong code, a code already used, or the account locked;
            counted, and locking the account after MAX_FAILURES.
    """
    user = _user(session, state)
    if not user.totp_enabled or not user.totp_secret:
        raise InvalidInput("No authenticator is enrolled for this account; enrol one first.")
    reason, step = _code_problem(user, user.totp_secret, code)
    if reason is not None:
        error = lockout.refuse(session, user, reason, "auth.second_factor", code_step=True)
        error.detail = "The code is wrong or has expired."
        raise error
    user.totp_last_step, user.totp_failures = step, 0
    token = _pass_mfa(session, state)
    audit.record(
        session,
        actor=state.caller.actor,
        action="auth.second_factor",
        organisation=str(user.organisation_id),
    )
    return SignIn(token=token, csrf_token=state.csrf_token, next_step=_next_step(user, True))


def _pass_mfa(session: Session, state: SessionState) -> str:
    """Mark the session as past the second factor under a new token (returned): a token
    known before sign-in was complete does not become a signed-in one."""
    token = credentials.new_session_token()
    session.execute(
        update(StaffSession)
        .where(StaffSession.id == state.session_id)
        .values(mfa_passed=True, token_hash=credentials.token_digest(token))
    )
    return token


def start_totp_enrolment(session: Session, state: SessionState) -> tuple[str, str]:
    """A new (not yet active) TOTP secret and its otpauth URI, for an account without one.

    Raises:
        InvalidInput: an authenticator is already enrolled (an org admin must reset it).
    """
    user = _user(session, state)
    if user.totp_enabled:
        raise InvalidInput("An authenticator is already enrolled; ask an org admin to reset it.")
    user.totp_secret = credentials.new_totp_secret()
    return user.totp_secret, credentials.totp_uri(user.totp_secret, account=user.email)


def confirm_totp(session: Session, state: SessionState, *, code: str) -> SignIn:
    """Activate the enrolled secret with a first valid code; the session passes MFA under
    a new token (returned with the next step), and the code cannot be used again."""
    user = _user(session, state)
    if user.totp_enabled or not user.totp_secret:
        raise InvalidInput("Start an enrolment first.")
    step = credentials.totp_step(user.totp_secret, code)
    if step is None:
        raise InvalidInput("The code does not match; check the device clock and try again.")
    user.totp_enabled = True
    user.totp_last_step, user.totp_failures = step, 0
    token = _pass_mfa(session, state)
    audit.record(
        session,
        actor=state.caller.actor,
        action="auth.totp_enrolled",
        organisation=str(user.organisation_id),
        subject=f"User/{user.id}",
    )
    return SignIn(token=token, csrf_token=state.csrf_token, next_step=_next_step(user, True))


def change_password(session: Session, state: SessionState, *, current: str, new: str) -> None:
    """Change one's own password; other sessions of the user are revoked."""
    user = _user(session, state)
    if not credentials.verify_password(user.password_hash, current):
        raise InvalidCredentials("The current password is wrong.")
    problem = credentials.password_problem(new, email=user.email)
    if problem:
        raise InvalidInput(f"The new password {problem}.")
    user.password_hash = credentials.hash_password(new)
    user.must_change_password = False
    revoke_sessions(session, user.id, except_session=state.session_id)
    audit.record(
        session,
        actor=state.caller.actor,
        action="auth.password_changed",
        organisation=str(user.organisation_id),
        subject=f"User/{user.id}",
    )


def revoke_sessions(
    session: Session, user_id: uuid.UUID, *, except_session: uuid.UUID | None = None
) -> int:
    """End every open session of a user (but `except_session`); returns how many."""
    statement = (
        update(StaffSession)
        .where(StaffSession.user_id == user_id, StaffSession.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )
    if except_session is not None:
        statement = statement.where(StaffSession.id != except_session)
    return int(session.execute(statement).rowcount)  # type: ignore[attr-defined]


def sign_out(session: Session, state: SessionState) -> None:
    session.execute(
        update(StaffSession).where(StaffSession.id == state.session_id).values(revoked_at=utcnow())
    )
    audit.record(
        session,
        actor=state.caller.actor,
        action="auth.sign_out",
        organisation=str(state.caller.organisation_id),
    )


def describe(session: Session, caller: Caller) -> dict[str, str]:
    """What the staff UI shows of the signed-in user: email, name, organisation name."""
    row = session.execute(
        select(User.email, User.display_name, Organisation.name)
        .join(Organisation, Organisation.id == User.organisation_id)
        .where(User.id == caller.id)
    ).one()
    return {"user_email": row[0], "display_name": row[1], "organisation_name": row[2]}
