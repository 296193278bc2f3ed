"""Past versions of a referral's Task (FHIR vread), derived from the referral's history.

Every change that raises the Task's version writes one history step (`submitted` for
version 1, then `status`, `update`, `first-contact`), so version n is the state after the
n-th of those steps: status, business status, reason code and time as recorded. Client
content (reason text, outputs) is stored only as it is now, so a past version carries the
reason's display text and no outputs; the current version is the full Task.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from gateway.workflow import fhir, history
from gateway.workflow.errors import ReferralNotFound
from gateway.workflow.models import Referral
from gateway.workflow.states import REASON_SYSTEM, REASONS, business_status_concept

__all__ = ["VERSIONED_ACTIONS", "task_version"]

VERSIONED_ACTIONS = frozenset({"submitted", "status", "update", "first-contact"})


def task_version(session: Session, referral: Referral, version: int) -> dict[str, Any]:
    """The Task as it was at `version`.

    Raises:
        ReferralNotFound: no such version (FHIR answers 404 for an unknown version).
    """
    if version == referral.version:
        return fhir.task_resource(session, referral)
    steps = [e for e in history.events_of(session, referral) if e.action in VERSIONED_ACTIONS]
    if not 1 <= version < referral.version or len(steps) != referral.version:
        raise ReferralNotFound(f"The Task has no version {version}.")
    step = steps[version - 1]
    task = fhir.task_resource(session, referral, with_outputs=False)
    stamp = step.at.isoformat()
    task["meta"] = {**task["meta"], "versionId": str(version), "lastUpdated": stamp}
    task["lastModified"] = stamp
    task["status"] = step.to_status or task["status"]
    task.pop("statusReason", None)
    task.pop("businessStatus", None)
    if step.business_status:
        task["businessStatus"] = business_status_concept(step.business_status)
    code = next((s.reason for s in reversed(steps[:version]) if s.action == "status"), None)
    if code is not None and code in REASONS:
        display = REASONS[code]
        task["statusReason"] = {
            "coding": [{"system": REASON_SYSTEM, "code": code, "display": display}],
            "text": display,
        }
    return task
