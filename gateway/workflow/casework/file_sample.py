"""The monthly sample of case files for manual review, and the supervisor's findings.

- For an organisation and a month (`YYYY-MM`, not after the current month), a random
  tenth of the cases it held during that month (at least 1, at most 10) is drawn with the
  system's random source, each offered as a file review of kind `sample` for the period,
  starting from the automatic checklist. Drawing again for the same month answers the
  sample already drawn (idempotent; the organisation row is locked while drawing).
- A supervisor records the findings and corrective actions (sealed under the client's key,
  context `file-review:<id>`) and marks the review done; a done review no longer changes.
- Supervisors only; another organisation's review is a 404; everything is audited.
"""

from __future__ import annotations

import datetime as dt
import math
import random
import uuid

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from gateway.auth.models import Organisation
from gateway.workflow.casework import access, file_review, supervision
from gateway.workflow.casework.errors import CaseworkInvalid
from gateway.workflow.casework.models import FileReview
from gateway.workflow.casework.qa_errors import FileReviewDone, FileReviewNotFound
from gateway.workflow.casework.qa_schemas import FileReviewOut, FindingsIn
from gateway.workflow.models import Case
from kernel import audit
from kernel.caller import Caller
from kernel.db import utcnow

__all__ = [
    "SAMPLE",
    "draw_sample",
    "list_file_reviews",
    "month_bounds",
    "read_file_review",
    "record_findings",
    "sample_for_organisation",
    "sample_size",
]

SAMPLE = "sample"
LIST_LIMIT = 200
_RANDOM = random.SystemRandom()


def sample_size(cases: int) -> int:
    """A tenth of `cases`, rounded up, at least 1 and at most 10 (0 without cases)."""
    return min(10, max(1, math.ceil(cases / 10))) if cases else 0


def month_bounds(period: str) -> tuple[dt.datetime, dt.datetime]:
    """The first instant of the month `YYYY-MM` and of the month after (UTC)."""
    year, month = (int(part) for part in period.split("-"))
    start = dt.datetime(year, month, 1, tzinfo=dt.UTC)
    after = dt.datetime(year + month // 12, month % 12 + 1, 1, tzinfo=dt.UTC)
    return start, after


def sample_for_organisation(
    session: Session, caller: Caller, organisation_id: uuid.UUID, period: str
) -> tuple[list[FileReview], bool]:
    """The organisation's sample for `period`, drawn now if it was not yet; (rows, drawn)."""
    session.scalars(
        select(Organisation.id).where(Organisation.id == organisation_id).with_for_update()
    ).first()
    existing = list(
        session.scalars(
            select(FileReview)
            .where(
                FileReview.organisation_id == organisation_id,
                FileReview.kind == SAMPLE,
                FileReview.period == period,
            )
            .order_by(FileReview.run_at, FileReview.id)
        )
    )
    if existing:
        return existing, False
    start, after = month_bounds(period)
    held = list(
        session.scalars(
            select(Case)
            .where(
                Case.owner_org_id == organisation_id,
                Case.opened_at < after,
                or_(Case.closed_at.is_(None), Case.closed_at >= start),
            )
            .order_by(Case.id)
        )
    )
    chosen = _RANDOM.sample(held, sample_size(len(held)))
    rows = [
        file_review.review_case(session, caller, case, kind=SAMPLE, period=period)
        for case in chosen
    ]
    audit.record(
        session,
        actor=caller.actor,
        action="file-review.sample.draw",
        organisation=str(organisation_id),
        subject="FileReview",
        detail={"period": period, "cases": len(held), "sampled": len(rows)},
    )
    return rows, True


def draw_sample(session: Session, caller: Caller, period: str) -> tuple[list[FileReviewOut], bool]:
    """The caller's organisation's sample for `period` (drawn now if not yet); supervisors.

    Raises:
        SupervisorsOnly, CaseworkInvalid (a month after the current one).
    """
    action = "file-review.sample.draw"
    supervision.require_supervisor(session, caller, action, "FileReview")
    if period > utcnow().strftime("%Y-%m"):
        access.refused(session, caller, action, "FileReview", "body.period")
        raise CaseworkInvalid("A month still to come cannot be sampled.", location="body.period")
    rows, drawn = sample_for_organisation(session, caller, caller.organisation_id, period)
    return [file_review.file_review_out(session, r) for r in rows], drawn


def list_file_reviews(
    session: Session,
    caller: Caller,
    *,
    kind: str | None = None,
    period: str | None = None,
    status: str | None = None,
) -> list[FileReviewOut]:
    """The organisation's file reviews, newest first, without findings (at most 200).

    Raises:
        SupervisorsOnly.
    """
    action = "file-review.list"
    supervision.require_supervisor(session, caller, action, "FileReview")
    query = select(FileReview).where(FileReview.organisation_id == caller.organisation_id)
    if kind is not None:
        query = query.where(FileReview.kind == kind)
    if period is not None:
        query = query.where(FileReview.period == period)
    if status is not None:
        query = query.where(FileReview.status == status)
    rows = list(
        session.scalars(query.order_by(FileReview.run_at.desc(), FileReview.id).limit(LIST_LIMIT))
    )
    audit.record(
        session,
        actor=caller.actor,
        action=action,
        organisation=str(caller.organisation_id),
        subject="FileReview",
        detail={"reviews": len(rows), "kind": kind or "", "period": period or ""},
    )
    return [file_review.file_review_out(session, r) for r in rows]


def _own(
    session: Session, caller: Caller, file_review_id: uuid.UUID, action: str, *, lock: bool
) -> FileReview:
    subject = f"FileReview/{file_review_id}"
    supervision.require_supervisor(session, caller, action, subject)
    query = select(FileReview).where(
        FileReview.id == file_review_id, FileReview.organisation_id == caller.organisation_id
    )
    row = session.scalars(query.with_for_update() if lock else query).first()
    if row is None:
        access.refused(session, caller, action, subject, "not-found")
        raise FileReviewNotFound("No such file review.")
    return row


def _audit(session: Session, caller: Caller, action: str, row: FileReview) -> None:
    audit.record(
        session,
        actor=caller.actor,
        action=action,
        organisation=str(caller.organisation_id),
        subject=f"Patient/{row.client_id}",
        detail={"case": str(row.case_id), "file_review": str(row.id), "status": row.status},
    )


def read_file_review(session: Session, caller: Caller, file_review_id: uuid.UUID) -> FileReviewOut:
    """One file review with its findings (supervisors of the organisation; audited).

    Raises:
        SupervisorsOnly, FileReviewNotFound, ClientErased.
    """
    row = _own(session, caller, file_review_id, "file-review.read", lock=False)
    _audit(session, caller, "file-review.read", row)
    return file_review.file_review_out(session, row, with_findings=True)


def record_findings(
    session: Session, caller: Caller, file_review_id: uuid.UUID, body: FindingsIn
) -> FileReviewOut:
    """Record a sampled review's findings and corrective actions (sealed), and mark it done
    unless `done` is false. Audited.

    Raises:
        SupervisorsOnly, FileReviewNotFound, FileReviewDone (done already, or an automatic
        review, which is never reviewed by hand).
    """
    action = "file-review.findings"
    row = _own(session, caller, file_review_id, action, lock=True)
    if row.status == "done":
        access.refused(session, caller, action, f"FileReview/{row.id}", "done")
        raise FileReviewDone("This file review is done: its findings are kept as recorded.")
    row.sealed = access.seal(
        session,
        row.client_id,
        file_review.SEAL_KIND,
        row.id,
        {"findings": body.findings, "corrective_actions": body.corrective_actions or None},
    )
    person = supervision.person_name(session, caller)
    row.reviewer_id = caller.id
    row.reviewer_name = person
    row.reviewed_at = utcnow()
    if body.done:
        row.status = "done"
    session.flush()
    _audit(session, caller, action, row)
    return file_review.file_review_out(session, row, with_findings=True)
