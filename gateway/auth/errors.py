"""Identity and access errors: what the caller did wrong, never which check caught it."""

from __future__ import annotations

import math

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
    "TooManyAttempts",
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


class TooManyAttempts(AuthError):
    """One client address tried to sign in (or get tokens) too often; `retry_after` is
    how many seconds until its window admits another attempt."""

    status = 429
    code = "too-many-attempts"
    title = "Too many attempts"

    def __init__(self, detail: str = "", *, retry_after: float) -> None:
        super().__init__(detail)
        self.retry_after = max(1, math.ceil(retry_after))

    @property
    def headers(self) -> dict[str, str]:
        """The response headers this refusal carries (RFC 9110 Retry-After, in seconds)."""
        return {"Retry-After": str(self.retry_after)}
