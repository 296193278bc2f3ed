"""Searching, verifying and exporting the audit trail, for hub admins.

A search narrows by actor (an actor id, or part of a staff member's name or email), subject,
action (a prefix: `organisation.` finds every organisation action), organisation and
period, newest first. Verifying and exporting are themselves audited (`audit.verify`,
`audit.export`), so the trail shows who looked at it in bulk and what the check found.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import ColumnElement, Select, func, or_, select
from sqlalchemy.orm import Session

from gateway.audit import service as audit_service
from gateway.audit.errors import AuditError
from gateway.audit.witness import WitnessReading
from gateway.auth.models import User
from kernel import audit
from kernel.audit import AuditRecord
from kernel.caller import Caller

__all__ = [
    "EXPORT_LIMIT",
    "AuditorOnly",
    "Filters",
    "export_csv",
    "last_verification",
    "search",
    "verify",
]

#: The most records one export holds (narrow the period for more).
EXPORT_LIMIT = 50_000
_ACTOR_PREFIXES = ("user:", "client:", "system:", "anonymous")
CSV_COLUMNS = (
    "seq",
    "recorded_at",
    "actor",
    "organisation",
    "action",
    "subject",
    "purpose",
    "outcome",
    "detail",
    "hash",
)


class AuditorOnly(AuditError):
    status = 403
    code = "auditor-only"
    title = "Only hub admins read the audit trail"


@dataclass(frozen=True)
class Filters:
    """What to look for; empty strings and None match everything."""

    actor: str = ""
    subject: str = ""
    action: str = ""
    organisation: str = ""
    since: dt.datetime | None = None
    until: dt.datetime | None = None  # exclusive


def _auditor(caller: Caller) -> None:
    if not caller.is_hub_admin:
        raise AuditorOnly("Only hub admins may search, verify or export the audit trail.")


def _actor_rule(session: Session, text: str) -> ColumnElement[bool]:
    if text.startswith(_ACTOR_PREFIXES):
        return AuditRecord.actor == text
    needle = text.lower()
    ids = session.scalars(
        select(User.id)
        .where(
            or_(
                func.lower(User.display_name).contains(needle, autoescape=True),
                func.lower(User.email).contains(needle, autoescape=True),
            )
        )
        .limit(200)
    ).all()
    return AuditRecord.actor.in_([f"user:{user_id}" for user_id in ids])


def _query(session: Session, filters: Filters) -> Select[AuditRecord]:
    query = select(AuditRecord)
    if filters.actor.strip():
        query = query.where(_actor_rule(session, filters.actor.strip()))
    if filters.subject.strip():
        query = query.where(AuditRecord.subject == filters.subject.strip())
    if filters.action.strip():
        query = query.where(AuditRecord.action.startswith(filters.action.strip(), autoescape=True))
    if filters.organisation.strip():
        query = query.where(AuditRecord.organisation == filters.organisation.strip())
    if filters.since is not None:
        query = query.where(AuditRecord.recorded_at >= filters.since)
    if filters.until is not None:
        query = query.where(AuditRecord.recorded_at < filters.until)
    return query


def search(
    session: Session, caller: Caller, filters: Filters, *, limit: int = 50, offset: int = 0
) -> tuple[Sequence[AuditRecord], int]:
    """One page of matching records, newest first, and how many match in all."""
    _auditor(caller)
    query = _query(session, filters)
    total = int(session.scalar(select(func.count()).select_from(query.subquery())) or 0)
    rows = session.scalars(query.order_by(AuditRecord.seq.desc()).limit(limit).offset(offset))
    return rows.all(), total


def _rows(session: Session, filters: Filters) -> Iterator[AuditRecord]:
    query = _query(session, filters).order_by(AuditRecord.seq).limit(EXPORT_LIMIT)
    yield from session.scalars(query).yield_per(1000)


def export_csv(session: Session, caller: Caller, filters: Filters) -> tuple[str, int]:
    """The matching records (oldest first, at most EXPORT_LIMIT) as CSV text, and their
    number. The export is audited with its filters."""
    _auditor(caller)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    count = 0
    for row in _rows(session, filters):
        writer.writerow(
            [
                row.seq,
                row.recorded_at.astimezone(dt.UTC).isoformat(),
                row.actor,
                row.organisation or "",
                row.action,
                row.subject or "",
                row.purpose or "",
                row.outcome,
                json.dumps(row.detail, sort_keys=True),
                row.hash,
            ]
        )
        count += 1
    audit.record(
        session,
        actor=caller.actor,
        action="audit.export",
        organisation=str(caller.organisation_id),
        subject="AuditTrail/export",
        detail={
            "format": "csv",
            "records": count,
            "actor": filters.actor[:200] or None,
            "action": filters.action[:100] or None,
            "subject": filters.subject[:200] or None,
            "organisation": filters.organisation[:200] or None,
            "since": filters.since.isoformat() if filters.since else None,
            "until": filters.until.isoformat() if filters.until else None,
        },
    )
    return out.getvalue(), count


def verify(
    session: Session,
    caller: Caller,
    public_key: Ed25519PublicKey,
    *,
    witness: WitnessReading | None,
) -> audit_service.VerifyReport:
    """Check the whole chain, its signed checkpoints and the witness (as `refhub audit
    verify` does); the check and its result are audited."""
    _auditor(caller)
    report = audit_service.verify_chain(session, public_key, witness=witness)
    audit.record(
        session,
        actor=caller.actor,
        action="audit.verify",
        outcome=audit.Outcome.SUCCESS if report.ok else audit.Outcome.FAILURE,
        organisation=str(caller.organisation_id),
        subject="AuditTrail/verify",
        detail={
            "ok": report.ok,
            "records": report.records,
            "checkpoints": report.checkpoints,
            "witnessed_checkpoints": report.witnessed_checkpoints,
            "problems": len(report.problems),
        },
    )
    return report


def last_verification(session: Session, caller: Caller) -> AuditRecord | None:
    """The latest verification run from the console (None: never)."""
    _auditor(caller)
    return session.scalars(
        select(AuditRecord)
        .where(AuditRecord.action == "audit.verify")
        .order_by(AuditRecord.seq.desc())
        .limit(1)
    ).first()
