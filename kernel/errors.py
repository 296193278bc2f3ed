"""Root of refhub's exception types; each surface renders them (problem JSON or OperationOutcome).

Every exception carries an HTTP status and a stable machine code. `Recoverable` marks
failures worth retrying (a broker or receiver briefly away); everything else is permanent.
"""

from __future__ import annotations

__all__ = [
    "Conflict",
    "NotFound",
    "Recoverable",
    "RefhubError",
    "SettingsError",
    "StartupError",
]


class RefhubError(Exception):
    """Base of every error refhub raises on purpose."""

    status: int = 500
    code: str = "internal-error"
    title: str = "Internal error"
    #: A refusal that must leave a trace (a failed sign-in, a refused token request):
    #: the transaction boundary commits what was recorded before raising, instead of
    #: rolling it back. Raise such errors only before making any other change.
    keeps_writes: bool = False

    def __init__(self, detail: str = "") -> None:
        super().__init__(detail or self.title)
        self.detail = detail or self.title


class StartupError(RefhubError):
    """The hub cannot start: the message says what is wrong and how to fix it."""

    code = "startup-error"
    title = "Cannot start"


class SettingsError(StartupError):
    """A REFHUB_* setting has a bad value."""

    code = "bad-settings"
    title = "Bad settings"


class NotFound(RefhubError):
    status = 404
    code = "not-found"
    title = "Not found"


class Conflict(RefhubError):
    status = 409
    code = "conflict"
    title = "Conflict"


class Recoverable(RefhubError):
    """A temporary failure: the same work may succeed later.

    `retry_after` (seconds), when given, is when to try again instead of the task's own
    backoff (a receiver's `Retry-After`, or a backoff the raiser computed itself).
    """

    status = 503
    code = "temporarily-unavailable"
    title = "Temporarily unavailable"

    def __init__(self, detail: str = "", *, retry_after: float | None = None) -> None:
        super().__init__(detail)
        self.retry_after = retry_after
