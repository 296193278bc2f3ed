"""The supervisor's case-work report for one organisation: goals achieved and open by life
domain, plans overdue for review, review requests waiting, and the quality findings of the
latest automatic file review of each open case, counted per checklist item. Figures and
ids only, no client content; supervisors only; audited."""

from __future__ import annotations

import uuid
from collections import Counter

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from gateway.workflow.casework import supervision
from gateway.workflow.casework.file_review import AUTOMATIC
from gateway.workflow.casework.file_sample import SAMPLE
from gateway.workflow.casework.models import FileReview, Goal, Plan
from gateway.workflow.casework.qa_schemas import (
    CHECK_CODES,
    CaseworkReport,
    DomainGoals,
    ItemFailures,
    OverduePlan,
)
from gateway.workflow.casework.schemas import OPEN_LIFECYCLES, Achievement
from gateway.workflow.models import Case, CaseStatus
from kernel import audit
from kernel.caller import Caller
from kernel.db import utcnow

__all__ = ["casework_report"]

OVERDUE_LIMIT = 200


def _goals(session: Session, org: uuid.UUID) -> list[DomainGoals]:
    rows = session.execute(
        select(Goal.domain, Goal.lifecycle_status, Goal.achievement_status, func.count())
        .join(Plan, Plan.id == Goal.plan_id)
        .where(Plan.owner_org_id == org)
        .group_by(Goal.domain, Goal.lifecycle_status, Goal.achievement_status)
    )
    achieved: Counter[str] = Counter()
    still_open: Counter[str] = Counter()
    for domain, lifecycle, achievement, count in rows:
        key = domain or "none"
        achieved[key] += count if achievement == Achievement.ACHIEVED.value else 0
        still_open[key] += count if lifecycle in {g.value for g in OPEN_LIFECYCLES} else 0
    return [
        DomainGoals(domain=key, achieved=achieved[key], open=still_open[key])
        for key in sorted(set(achieved) | set(still_open))
    ]


def _overdue(session: Session, org: uuid.UUID) -> list[OverduePlan]:
    today = utcnow().date()
    rows = session.scalars(
        select(Plan)
        .join(Case, Case.id == Plan.case_id)
        .where(
            Plan.owner_org_id == org,
            Case.owner_org_id == org,
            Case.status == CaseStatus.OPEN.value,
            Plan.status == "active",
            Plan.next_review_on < today,
        )
        .order_by(Plan.next_review_on, Plan.id)
        .limit(OVERDUE_LIMIT)
    )
    return [
        OverduePlan(
            case_id=p.case_id,
            plan_id=p.id,
            client_id=p.client_id,
            next_review_on=p.next_review_on,
            days_overdue=(today - p.next_review_on).days,
        )
        for p in rows
        if p.next_review_on is not None
    ]


def _findings(session: Session, org: uuid.UUID) -> tuple[int, int, list[ItemFailures]]:
    latest = (
        select(FileReview.case_id, func.max(FileReview.run_at).label("at"))
        .where(FileReview.organisation_id == org, FileReview.kind == AUTOMATIC)
        .group_by(FileReview.case_id)
        .subquery()
    )
    rows = list(
        session.scalars(
            select(FileReview)
            .join(
                latest,
                and_(FileReview.case_id == latest.c.case_id, FileReview.run_at == latest.c.at),
            )
            .join(Case, Case.id == FileReview.case_id)
            .where(
                FileReview.kind == AUTOMATIC,
                Case.owner_org_id == org,
                Case.status == CaseStatus.OPEN.value,
            )
        )
    )
    seen: set[uuid.UUID] = set()
    failing: Counter[str] = Counter()
    files_failing = 0
    for row in rows:
        if row.case_id in seen:  # two runs in the same instant: count the case once
            continue
        seen.add(row.case_id)
        files_failing += 0 if row.passed else 1
        for item in row.checklist:
            if item.get("result") == "fail":
                failing[str(item.get("item"))] += 1
    items = [ItemFailures(item=code, failing=failing[code]) for code in CHECK_CODES]
    return len(seen), files_failing, items


def casework_report(session: Session, caller: Caller) -> CaseworkReport:
    """The report for the caller's organisation (supervisors only; audited).

    Raises:
        SupervisorsOnly.
    """
    action = "casework-report.read"
    supervision.require_supervisor(session, caller, action, "CarePlan")
    org = caller.organisation_id
    reviewed, files_failing, items = _findings(session, org)
    period = session.scalar(
        select(func.max(FileReview.period)).where(
            FileReview.organisation_id == org, FileReview.kind == SAMPLE
        )
    )
    samples: dict[str, int] = {"open": 0, "done": 0}
    if period is not None:
        for status, count in session.execute(
            select(FileReview.status, func.count())
            .where(
                FileReview.organisation_id == org,
                FileReview.kind == SAMPLE,
                FileReview.period == period,
            )
            .group_by(FileReview.status)
        ):
            samples[status] = count
    report = CaseworkReport(
        generated_at=utcnow(),
        goals_by_domain=_goals(session, org),
        plans_overdue=_overdue(session, org),
        reviews_pending=supervision.pending_count(session, org),
        files_reviewed=reviewed,
        files_failing=files_failing,
        failing_by_item=items,
        samples=samples,
        sample_period=period,
    )
    audit.record(
        session,
        actor=caller.actor,
        action=action,
        organisation=str(org),
        subject="CarePlan",
        detail={"overdue": len(report.plans_overdue), "files_failing": files_failing},
    )
    return report
