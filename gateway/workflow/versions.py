"""Versions of a referral's Task (FHIR vread): kept sealed at each change, or rebuilt.

Every change that raises the Task's version stores the Task as it is then (`store`), as
FHIR JSON sealed under the client's data key like packets and thread messages: status,
reason with its text, business status, outputs and contained Procedures, exactly as a read
answered it at that version. Erasure destroys the key, so no version discloses content any
more; a vread then answers as a read does after erasure (410 `client-erased`).

Referrals from before stored versions (migration 0017) keep a rebuilt past: version n is
the state after the n-th versioned history step (`submitted` for version 1, then `status`,
`update`, `first-contact`), with the reason's display text and no outputs.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from consent import clients as consent_clients
from consent.errors import ClientErased
from gateway.workflow import fhir, history
from gateway.workflow.errors import ReferralNotFound
from gateway.workflow.models import Referral, TaskVersion
from gateway.workflow.states import REASON_SYSTEM, REASONS, business_status_concept

__all__ = ["VERSIONED_ACTIONS", "store", "task_version"]

VERSIONED_ACTIONS = frozenset({"submitted", "status", "update", "first-contact"})


def _context(referral: Referral, version: int) -> str:
    return f"task:{referral.id}:{version}"  # binds the row to its referral and version


def store(session: Session, referral: Referral) -> None:
    """Keep the Task as it is now as version `referral.version` (call after the change).

    An erased client's Task is not stored (nothing may be sealed for it any more).
    """
    try:
        task = fhir.task_resource(session, referral)
        data = json.dumps(task, separators=(",", ":"), ensure_ascii=False).encode()
        sealed = consent_clients.seal_for_client(
            session, referral.client_id, data, _context(referral, referral.version)
        )
    except ClientErased:
        return
    session.add(TaskVersion(referral_id=referral.id, version=referral.version, sealed=sealed))


def task_version(session: Session, referral: Referral, version: int) -> dict[str, Any]:
    """The Task as it was at `version`.

    Raises:
        ReferralNotFound: no such version (FHIR answers 404 for an unknown version).
        ClientErased: the client's data was erased (410, as a read answers then).
    """
    if not 1 <= version <= referral.version:
        raise ReferralNotFound(f"The Task has no version {version}.")
    kept = session.scalars(
        select(TaskVersion).where(
            TaskVersion.referral_id == referral.id, TaskVersion.version == version
        )
    ).first()
    if kept is not None:
        try:
            plain = consent_clients.open_for_client(
                session, referral.client_id, kept.sealed, _context(referral, version)
            )
        except ClientErased:
            if version == referral.version:
                return fhir.task_resource(session, referral)  # what a read answers now
            raise
        value = json.loads(plain)
        assert isinstance(value, dict)
        return value
    if version == referral.version:
        return fhir.task_resource(session, referral)
    return _rebuilt(session, referral, version)


def _rebuilt(session: Session, referral: Referral, version: int) -> dict[str, Any]:
    """A past version from the history steps (referrals from before stored versions)."""
    steps = [e for e in history.events_of(session, referral) if e.action in VERSIONED_ACTIONS]
    if len(steps) != referral.version:
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
