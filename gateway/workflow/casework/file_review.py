"""Automatic file review of a case: a checklist of what a complete case file holds, run on
demand for one case or for every open case of an organisation (the scheduler's daily run,
`qa_tasks`). Sampled manual reviews (`file_sample`) start from the same checklist.

The checklist stores item codes and results only (`pass`, `fail`, `not-applicable`), never
client data; `passed` means no item failed. Items (`qa_schemas.CHECK_CODES`):

- `intake`: the case's client is known to the organisation and their identity is on record
  (not erased).
- `consent`: a consent of the client is in force (active, its period covering now).
- `assessment`: at least one assessment is recorded.
- `plan`: the plan exists and every barrier of the latest assessment has a strategy.
- `notes-against-plan`: fails when the case has notes but none links to a goal or task of
  the plan, or when the plan has goals but no note links to any; not applicable with
  neither notes nor goals.
- `reviews-on-time`: the open plan's next review date is not in the past (not applicable
  without a plan, for a closed case, or without a review date).
- `closure-continuation`: a closed case has a continuation plan in its closure record (not
  applicable while the case is open).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from consent import clients as consent_clients
from consent import service as consent_service
from consent.errors import ClientErased, ConsentNotFound, KeyUnavailable
from consent.models import ConsentStatus
from gateway.workflow import cases
from gateway.workflow.casework import access, planning, plans
from gateway.workflow.casework.models import Assessment, CaseNoteLink, FileReview, Goal, Plan
from gateway.workflow.casework.qa_schemas import CheckItem, CheckResult, FileReviewOut, Person
from gateway.workflow.models import Case, CaseNote, CaseStatus
from kernel import audit
from kernel.caller import Caller, CallerKind
from kernel.db import new_id, utcnow

__all__ = [
    "AUTOMATIC",
    "SYSTEM_ACTOR",
    "checklist",
    "file_review_out",
    "hub_caller",
    "review_case",
    "run_file_review",
    "run_for_organisation",
]

AUTOMATIC = "automatic"
SEAL_KIND = "file-review"
#: The hub's own id when it reviews files on schedule (audited as `system:<id>`).
HUB_QA = uuid.UUID("00000000-0000-0000-0000-00000000f11e")
SYSTEM_ACTOR = f"system:{HUB_QA}"

PASS, FAIL, NA = CheckResult.PASS, CheckResult.FAIL, CheckResult.NOT_APPLICABLE


def hub_caller(organisation_id: uuid.UUID) -> Caller:
    """The hub reviewing an organisation's files on schedule."""
    return Caller(kind=CallerKind.SYSTEM, id=HUB_QA, organisation_id=organisation_id)


def _intake(session: Session, caller: Caller, case: Case, plan: Plan | None) -> CheckResult:
    try:
        client = consent_clients.get_client(session, caller, client_id=case.client_id)
    except ConsentNotFound:
        return FAIL
    known = client.identity_ciphertext is not None and client.wrapped_key is not None
    return PASS if known else FAIL


def _consent(session: Session, caller: Caller, case: Case, plan: Plan | None) -> CheckResult:
    now = utcnow()
    for record in consent_service.latest_versions(session, caller, client_id=case.client_id):
        if (
            record.status == ConsentStatus.ACTIVE.value
            and record.period_start <= now
            and (record.period_end is None or record.period_end > now)
        ):
            return PASS
    return FAIL


def _assessment(session: Session, caller: Caller, case: Case, plan: Plan | None) -> CheckResult:
    count = session.scalar(
        select(func.count()).select_from(Assessment).where(Assessment.case_id == case.id)
    )
    return PASS if count else FAIL


def _plan(session: Session, caller: Caller, case: Case, plan: Plan | None) -> CheckResult:
    if plan is None:
        return FAIL
    try:
        opened = plans.plan_out(session, plan)
    except (ClientErased, KeyUnavailable):
        return FAIL
    return FAIL if opened.barriers_without_strategy else PASS


def _notes(session: Session, caller: Caller, case: Case, plan: Plan | None) -> CheckResult:
    notes = session.scalar(
        select(func.count()).select_from(CaseNote).where(CaseNote.case_id == case.id)
    )
    goals = 0
    if plan is not None:
        goals = (
            session.scalar(select(func.count()).select_from(Goal).where(Goal.plan_id == plan.id))
            or 0
        )
    if not notes and not goals:
        return NA
    linked = 0
    if notes and plan is not None:
        linked = (
            session.scalar(
                select(func.count())
                .select_from(CaseNoteLink)
                .join(CaseNote, CaseNote.id == CaseNoteLink.note_id)
                .join(Goal, Goal.id == CaseNoteLink.goal_id)
                .where(CaseNote.case_id == case.id, Goal.plan_id == plan.id)
            )
            or 0
        )
    return PASS if linked else FAIL


def _reviews(session: Session, caller: Caller, case: Case, plan: Plan | None) -> CheckResult:
    if plan is None or case.status != CaseStatus.OPEN or plan.next_review_on is None:
        return NA
    return FAIL if plan.next_review_on < utcnow().date() else PASS


def _closure(session: Session, caller: Caller, case: Case, plan: Plan | None) -> CheckResult:
    if case.status != CaseStatus.CLOSED:
        return NA
    try:
        record = cases.open_closure(session, case)
    except (ClientErased, KeyUnavailable):
        return FAIL
    return PASS if record and str(record.get("continuation_plan") or "").strip() else FAIL


_CHECKS: dict[str, Callable[[Session, Caller, Case, Plan | None], CheckResult]] = {
    "intake": _intake,
    "consent": _consent,
    "assessment": _assessment,
    "plan": _plan,
    "notes-against-plan": _notes,
    "reviews-on-time": _reviews,
    "closure-continuation": _closure,
}


def checklist(session: Session, caller: Caller, case: Case) -> list[dict[str, object]]:
    """The case's checklist: each item's code and result (no client data)."""
    plan = planning.plan_of_case(session, case.id)
    return [
        {"item": code, "result": check(session, caller, case, plan).value}
        for code, check in _CHECKS.items()
    ]


def review_case(
    session: Session,
    caller: Caller,
    case: Case,
    *,
    kind: str = AUTOMATIC,
    period: str | None = None,
) -> FileReview:
    """Run the checklist on `case` (access already checked) and store it as a file review."""
    items = checklist(session, caller, case)
    row = FileReview(
        id=new_id(),
        organisation_id=case.owner_org_id,
        case_id=case.id,
        client_id=case.client_id,
        kind=kind,
        period=period,
        run_at=utcnow(),
        checklist=items,
        passed=all(i["result"] != FAIL.value for i in items),
        status="done" if kind == AUTOMATIC else "open",
    )
    session.add(row)
    session.flush()
    failing = [str(i["item"]) for i in items if i["result"] == FAIL.value]
    audit.record(
        session,
        actor=caller.actor,
        action=f"file-review.{'run' if kind == AUTOMATIC else 'sample'}",
        organisation=str(case.owner_org_id),
        subject=f"Patient/{case.client_id}",
        detail={"case": str(case.id), "file_review": str(row.id), "failing": " ".join(failing)},
    )
    return row


def file_review_out(
    session: Session, row: FileReview, *, with_findings: bool = False
) -> FileReviewOut:
    opened: dict[str, str | None] = {}
    if with_findings and row.sealed is not None:
        opened = access.open_sealed(session, row.client_id, SEAL_KIND, row.id, row.sealed)
    reviewer = None
    if row.reviewer_id is not None:
        reviewer = Person(id=row.reviewer_id, name=row.reviewer_name or "")
    return FileReviewOut(
        id=row.id,
        case_id=row.case_id,
        client_id=row.client_id,
        kind=row.kind,
        period=row.period,
        run_at=row.run_at,
        checklist=[CheckItem.model_validate(i) for i in row.checklist],
        passed=row.passed,
        status=row.status,
        reviewer=reviewer,
        reviewed_at=row.reviewed_at,
        findings=opened.get("findings"),
        corrective_actions=opened.get("corrective_actions"),
    )


def run_file_review(session: Session, caller: Caller, case_id: uuid.UUID) -> FileReviewOut:
    """Run the automatic file review of one case now (case workers and supervisors of the
    organisation holding it); stored and audited.

    Raises:
        Forbidden, CaseNotFound.
    """
    case = access.owned_case(session, caller, case_id, action="file-review.run")
    return file_review_out(session, review_case(session, caller, case))


def run_for_organisation(
    session: Session, organisation_id: uuid.UUID, *, now: dt.datetime | None = None
) -> int:
    """Review every open case of the organisation not reviewed automatically since the start
    of `now`'s UTC day (so a repeated daily run adds nothing); how many were reviewed."""
    moment = now or utcnow()
    day_start = dt.datetime.combine(moment.date(), dt.time(), tzinfo=dt.UTC)
    reviewed_today = select(FileReview.case_id).where(
        FileReview.organisation_id == organisation_id,
        FileReview.kind == AUTOMATIC,
        FileReview.run_at >= day_start,
    )
    open_cases = list(
        session.scalars(
            select(Case)
            .where(
                Case.owner_org_id == organisation_id,
                Case.status == CaseStatus.OPEN.value,
                Case.id.not_in(reviewed_today),
            )
            .order_by(Case.opened_at)
        )
    )
    caller = hub_caller(organisation_id)
    for case in open_cases:
        review_case(session, caller, case)
    return len(open_cases)
