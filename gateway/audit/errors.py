"""Audit's errors: what can go wrong keeping the chain's witness."""

from __future__ import annotations

from kernel.errors import Recoverable, RefhubError

__all__ = ["AuditError", "WitnessUnavailable"]


class AuditError(RefhubError):
    code = "audit-error"
    title = "Audit error"


class WitnessUnavailable(Recoverable, AuditError):
    """The witness file could not be written (disk full, permissions): the checkpoint is
    in the database already, and the export is tried again with a backoff."""

    code = "audit-witness-unavailable"
    title = "Audit witness unavailable"
