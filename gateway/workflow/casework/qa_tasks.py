"""The scheduled quality run of case files (beat, or the embedded relay): once a day, the
automatic file review of every open case, and the monthly sample of the month before for
each organisation that held cases then. Idempotent: a case reviewed automatically the same
UTC day is not reviewed again, and a month is sampled once."""

from __future__ import annotations

import datetime as dt

import structlog
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from gateway.workflow.casework import file_review, file_sample
from gateway.workflow.models import Case, CaseStatus
from kernel.db import utcnow
from kernel.outbox import task

__all__ = ["FILE_REVIEW_EVERY_SECONDS", "file_review_sweep", "previous_month"]

FILE_REVIEW_EVERY_SECONDS = 86_400.0
log = structlog.get_logger("refhub.casework.qa")


def previous_month(moment: dt.datetime) -> str:
    """`YYYY-MM` of the month before `moment`'s."""
    first = moment.date().replace(day=1)
    return (first - dt.timedelta(days=1)).strftime("%Y-%m")


def sweep(session: Session, *, now: dt.datetime | None = None) -> tuple[int, int]:
    """Run the day's automatic reviews and last month's samples; (reviewed, sampled)."""
    moment = now or utcnow()
    reviewed = 0
    for org in session.scalars(
        select(Case.owner_org_id).where(Case.status == CaseStatus.OPEN.value).distinct()
    ):
        reviewed += file_review.run_for_organisation(session, org, now=moment)
    period = previous_month(moment)
    start, after = file_sample.month_bounds(period)
    sampled = 0
    for org in session.scalars(
        select(Case.owner_org_id)
        .where(Case.opened_at < after, or_(Case.closed_at.is_(None), Case.closed_at >= start))
        .distinct()
    ):
        rows, drawn = file_sample.sample_for_organisation(
            session, file_review.hub_caller(org), org, period
        )
        sampled += len(rows) if drawn else 0
    if reviewed or sampled:
        log.info("casework.file_review", reviewed=reviewed, sampled=sampled, period=period)
    return reviewed, sampled


@task("casework.file_review", every_seconds=FILE_REVIEW_EVERY_SECONDS)
def file_review_sweep(session: Session, now: str | None = None) -> None:
    """The periodic run; `now` (ISO 8601) for replays."""
    sweep(session, now=dt.datetime.fromisoformat(now) if now else None)
