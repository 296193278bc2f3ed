"""Errors of supervision and file review, each with its HTTP status and stable code.

Each is raised after the refusal is audited and before anything is changed, so the
transaction keeps the audit record (`keeps_writes`).
"""

from __future__ import annotations

from gateway.workflow.errors import WorkflowError

__all__ = [
    "FileReviewDone",
    "FileReviewNotFound",
    "OwnRequest",
    "ReviewDecided",
    "ReviewNotFound",
    "SupervisorsOnly",
]


class SupervisorsOnly(WorkflowError):
    """Only a supervisor (a person, not a system client) may do this."""

    status = 403
    code = "supervisors-only"
    title = "Only supervisors may do this"
    keeps_writes = True


class OwnRequest(WorkflowError):
    """A supervisor cannot decide on a review they asked for themselves."""

    status = 403
    code = "own-review-request"
    title = "You cannot decide on your own request"
    keeps_writes = True


class ReviewNotFound(WorkflowError):
    """No such review request, or not one of the caller's organisation (the same answer)."""

    status = 404
    code = "review-not-found"
    title = "Review not found"
    keeps_writes = True


class ReviewDecided(WorkflowError):
    """The review was decided already; ask for a new review instead."""

    status = 409
    code = "review-decided"
    title = "The review was decided already"
    keeps_writes = True


class FileReviewNotFound(WorkflowError):
    """No such file review, or not one of the caller's organisation (the same answer)."""

    status = 404
    code = "file-review-not-found"
    title = "File review not found"
    keeps_writes = True


class FileReviewDone(WorkflowError):
    """The sampled file review is marked done; its findings are kept as recorded."""

    status = 409
    code = "file-review-done"
    title = "The file review is done"
    keeps_writes = True
