"""Errors of the referral workflow, each with its HTTP status and stable code."""

from __future__ import annotations

from typing import Any

from kernel.errors import RefhubError

__all__ = [
    "InvalidTransition",
    "NotAllowedChange",
    "OutputRequired",
    "PreconditionFailed",
    "ReferralNotFound",
    "ReferralRefused",
    "SubmissionInvalid",
    "WorkflowError",
]


class WorkflowError(RefhubError):
    code = "workflow-error"
    title = "Referral workflow error"
    extra: dict[str, Any] | None = None


class ReferralNotFound(WorkflowError):
    """No such referral, or not one the caller's organisation may see (the same answer)."""

    status = 404
    code = "referral-not-found"
    title = "Referral not found"
    keeps_writes = True  # the refused look-up is audited; raised before any change


class SubmissionInvalid(WorkflowError):
    """The submission cannot become a referral (what is wrong is in the detail)."""

    status = 422
    code = "submission-invalid"
    title = "Submission cannot be routed"

    def __init__(self, detail: str, *, errors: list[dict[str, str]] | None = None) -> None:
        super().__init__(detail)
        self.errors = errors or None


class ReferralRefused(WorkflowError):
    """Consent does not permit the disclosure; recorded before refusing."""

    status = 403
    code = "consent-refused"
    title = "Consent does not permit this referral"
    keeps_writes = True


class InvalidTransition(WorkflowError):
    """The status change is not allowed from here, or not for this party."""

    status = 409
    code = "invalid-transition"
    title = "Status change not allowed"

    def __init__(self, detail: str, *, current: str, allowed: list[str]) -> None:
        super().__init__(detail)
        self.extra = {"current_status": current, "allowed": allowed}


class NotAllowedChange(WorkflowError):
    """A field the caller's side may not change, or a missing reason."""

    status = 422
    code = "change-not-allowed"
    title = "Change not allowed"


class PreconditionFailed(WorkflowError):
    """If-Match names an older version: someone changed the referral meanwhile."""

    status = 412
    code = "precondition-failed"
    title = "The referral changed meanwhile"

    def __init__(self, detail: str, *, current_version: int) -> None:
        super().__init__(detail)
        self.extra = {"current_version": current_version}


class OutputRequired(NotAllowedChange):
    """Completion without an output (Gravity SDOH CC refer-9)."""

    code = "output-required"
    title = "Completion requires an output"

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.errors = [{"location": "Task.output", "message": detail}]
