"""Errors of case work (assessment, plan, reviews), each with its HTTP status and code.

Every one is raised before anything is changed and after the refusal is audited, so the
refusal is what the transaction keeps (`keeps_writes`).
"""

from __future__ import annotations

from gateway.workflow.errors import WorkflowError

__all__ = ["CaseClosed", "CaseworkInvalid", "ConsentNotPermitting", "PlanItemNotFound"]


class CaseworkInvalid(WorkflowError):
    """What was sent cannot be recorded (`errors` names the field); nothing is stored."""

    status = 422
    code = "casework-invalid"
    title = "Case work cannot be recorded as sent"
    keeps_writes = True

    def __init__(self, detail: str, *, location: str) -> None:
        super().__init__(detail)
        self.location = location
        self.errors = [{"location": location, "message": detail}]


class CaseClosed(WorkflowError):
    """The case is closed: its assessment and plan are kept as they were at closure."""

    status = 409
    code = "case-closed"
    title = "The case is closed"
    keeps_writes = True


class PlanItemNotFound(WorkflowError):
    """No such plan, goal or task, or not one the caller may see (the same answer)."""

    status = 404
    code = "plan-item-not-found"
    title = "Not found"
    keeps_writes = True


class ConsentNotPermitting(WorkflowError):
    """A partner's organisation serves this goal, but the client's consent does not let it
    see or update the goal's category now (revoked, expired, or never given)."""

    status = 403
    code = "consent-not-permitting"
    title = "The client's consent does not permit this"
    keeps_writes = True
