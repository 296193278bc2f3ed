"""Identity and access errors: what the caller did wrong, never which check caught it."""

from __future__ import annotations

from kernel.errors import RefhubError

__all__ = [
    "AuthError",
    "CsrfFailed",
    "Forbidden",
    "InvalidCredentials",
    "InvalidInput",
    "MfaRequired",
    "NotAuthenticated",
    "NotFoundForCaller",
    "PasswordChangeRequired",
    "TransitionRefused",
]


class AuthError(RefhubError):
    status = 401
    code = "auth-error"
    title = "Authentication error"


class NotAuthenticated(AuthError):
    code = "not-authenticated"
    title = "Not authenticated"


class InvalidCredentials(AuthError):
    code = "invalid-credentials"
    title = "Sign-in failed"
    keeps_writes = True  # the failure count and its audit record must stay


class MfaRequired(AuthError):
    status = 403
    code = "second-factor-required"
    title = "Second factor required"


class PasswordChangeRequired(AuthError):
    status = 403
    code = "password-change-required"
    title = "Password change required"


class CsrfFailed(AuthError):
    status = 403
    code = "csrf-failed"
    title = "CSRF check failed"


class Forbidden(AuthError):
    status = 403
    code = "forbidden"
    title = "Forbidden"


class NotFoundForCaller(AuthError):
    """Missing, or belonging to an organisation the caller may not see: the same answer."""

    status = 404
    code = "not-found"
    title = "Not found"


class InvalidInput(AuthError):
    status = 422
    code = "invalid-input"
    title = "Invalid input"


class TransitionRefused(AuthError):
    status = 409
    code = "invalid-transition"
    title = "Not allowed in the current state"
