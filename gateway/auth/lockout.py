"""Failed staff sign-in attempts: counted, audited, and locking the account.

Wrong passwords and wrong authenticator codes are counted apart: a correct password resets
only the passwords' count, so signing in again buys no more guesses at the second factor.
Either count reaching MAX_FAILURES locks the account for LOCK_BASE, doubling with each
further failure (attempts while locked count too), never longer than LOCK_CAP; a lock also
ends the account's sessions still short of the second factor. Every failure and every lock
is audited. The answer is the same for all of them, and for an unknown account.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import update
from sqlalchemy.orm import Session

from gateway.auth.errors import InvalidCredentials
from gateway.auth.models import StaffSession, User
from kernel import audit
from kernel.db import utcnow

__all__ = ["LOCK_BASE", "LOCK_CAP", "MAX_FAILURES", "is_locked", "lock_duration", "refuse"]

MAX_FAILURES = 5
LOCK_BASE = dt.timedelta(minutes=1)
LOCK_CAP = dt.timedelta(minutes=15)
_COUNT_CEILING = 1_000_000  # counts stop here; the lock reached its cap long before
_DOUBLINGS_CEILING = 16  # LOCK_BASE * 2**16 is far past the cap: no huge powers, no overflow


def lock_duration(failures: int) -> dt.timedelta | None:
    """How long `failures` consecutive failures lock an account: not at all below
    MAX_FAILURES, then LOCK_BASE, doubling with each further failure, at most LOCK_CAP."""
    if failures < MAX_FAILURES:
        return None
    doublings = min(failures - MAX_FAILURES, _DOUBLINGS_CEILING)
    duration: dt.timedelta = LOCK_BASE * (1 << doublings)
    return min(duration, LOCK_CAP)


def is_locked(user: User, now: dt.datetime) -> bool:
    return user.locked_until is not None and user.locked_until > now


def refuse(
    session: Session, user: User | None, why: str, action: str, *, code_step: bool = False
) -> InvalidCredentials:
    """Audit the failure, count it (against the password, or the code when `code_step`),
    and lock the account once the count reaches MAX_FAILURES.

    Returns the error to raise; it keeps these writes (`keeps_writes`), so the caller must
    not have changed anything else in the transaction.
    """
    audit.record(
        session,
        actor=f"user:{user.id}" if user else "anonymous",
        action=action,
        outcome=audit.Outcome.DENIED,
        organisation=str(user.organisation_id) if user else None,
        detail={"reason": why},
    )
    if user is not None:
        if code_step:
            user.totp_failures = failures = min(user.totp_failures + 1, _COUNT_CEILING)
        else:
            user.failed_logins = failures = min(user.failed_logins + 1, _COUNT_CEILING)
        duration = lock_duration(failures)
        if duration is not None:
            _lock(session, user, duration, failures=failures, code_step=code_step)
    return InvalidCredentials("The email or password is wrong, or the account is locked.")


def _lock(
    session: Session, user: User, duration: dt.timedelta, *, failures: int, code_step: bool
) -> None:
    """Lock the account for `duration` and end its sessions still short of the second
    factor: a guesser must start again with the password, which the lock refuses."""
    now = utcnow()
    user.locked_until = now + duration
    ended = session.execute(
        update(StaffSession)
        .where(
            StaffSession.user_id == user.id,
            StaffSession.mfa_passed.is_(False),
            StaffSession.revoked_at.is_(None),
        )
        .values(revoked_at=now)
    ).rowcount  # type: ignore[attr-defined]
    audit.record(
        session,
        actor="system:auth.lockout",
        action="auth.account_locked",
        organisation=str(user.organisation_id),
        subject=f"User/{user.id}",
        detail={
            "factor": "totp" if code_step else "password",
            "failures": failures,
            "seconds": int(duration.total_seconds()),
            "pending_sessions_ended": int(ended),
        },
    )
