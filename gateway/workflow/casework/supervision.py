"""Supervision of case work: a case worker asks a supervisor of the organisation to review
the case's latest assessment, its service plan, or the closure they intend; the supervisor
approves it or returns it with comments.

- Asking: a case worker or supervisor of the organisation holding the case, while the case
  is open. One pending request per case and subject: asking again answers the pending
  request (re-pointed at the latest assessment, if a newer version was recorded since).
  The assessment's or plan's `review_state` becomes `submitted`.
- The queue: the organisation's pending requests, oldest first, for its supervisors.
- Deciding: a supervisor of the organisation, not the person who asked (refused and
  audited). Comments are required when the work is returned; they are sealed under the
  client's key (context `supervision:<id>`). The subject's `review_state` becomes
  `approved` or `returned`. A closure review does not change how a case is closed
  (`gateway.workflow.cases.close_case` keeps its own rules).
- Another organisation's request is a 404, as one that does not exist; every refusal is
  audited.
"""

from __future__ import annotations

import uuid

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from gateway.auth import people
from gateway.workflow.casework import access, planning
from gateway.workflow.casework.errors import CaseworkInvalid
from gateway.workflow.casework.models import Assessment, Plan, ReviewState, SupervisionReview
from gateway.workflow.casework.qa_errors import (
    OwnRequest,
    ReviewDecided,
    ReviewNotFound,
    SupervisorsOnly,
)
from gateway.workflow.casework.qa_schemas import (
    DecisionIn,
    DecisionKind,
    Person,
    ReviewOut,
    Subject,
)
from gateway.workflow.models import Case
from kernel import audit
from kernel.caller import Caller, CallerKind, Role
from kernel.db import utcnow

__all__ = [
    "PENDING",
    "case_reviews",
    "decide",
    "is_supervisor",
    "pending_count",
    "person_name",
    "queue",
    "request_review",
    "require_supervisor",
    "review_out",
]

PENDING = "pending"
QUEUE_LIMIT = 200
SEAL_KIND = "supervision"


def is_supervisor(caller: Caller) -> bool:
    """A person with the supervisor role (system clients never supervise)."""
    return caller.kind is CallerKind.USER and caller.has_role(Role.SUPERVISOR)


def require_supervisor(session: Session, caller: Caller, action: str, subject: str) -> None:
    """Refuse (audited) anyone but a supervisor.

    Raises:
        SupervisorsOnly.
    """
    if not is_supervisor(caller):
        access.refused(session, caller, action, subject, "role")
        raise SupervisorsOnly("Only supervisors of the organisation may do this.")


def person_name(session: Session, caller: Caller) -> str:
    person = people.names_of(session, [caller.actor]).get(caller.actor)
    return person.name if person else caller.actor


def _subject_row(
    session: Session, caller: Caller, case: Case, subject: Subject
) -> tuple[uuid.UUID, Assessment | Plan | None]:
    """The id of what is to be reviewed and its row (None for a closure)."""
    if subject is Subject.CLOSURE:
        return case.id, None
    row: Assessment | Plan | None
    if subject is Subject.ASSESSMENT:
        row = session.scalars(
            select(Assessment)
            .where(Assessment.case_id == case.id)
            .order_by(Assessment.version.desc())
        ).first()
    else:
        row = planning.plan_of_case(session, case.id)
    if row is None:
        raise planning.invalid(
            session,
            caller,
            "supervision.request",
            case,
            f"The case has no {subject.value} yet: write it before asking for a review.",
            "body.subject",
        )
    return row.id, row


def _set_state(session: Session, kind: str, subject_id: uuid.UUID, state: ReviewState) -> None:
    row: Assessment | Plan | None = None
    if kind == Subject.ASSESSMENT.value:
        row = session.get(Assessment, subject_id)
    elif kind == Subject.PLAN.value:
        row = session.get(Plan, subject_id)
    if row is not None:
        row.review_state = state.value


def review_out(session: Session, review: SupervisionReview, *, with_comments: bool) -> ReviewOut:
    comments = None
    if with_comments and review.sealed is not None:
        opened = access.open_sealed(session, review.client_id, SEAL_KIND, review.id, review.sealed)
        comments = opened.get("comments")
    decided = None
    if review.decided_by_id is not None:
        decided = Person(id=review.decided_by_id, name=review.decided_by_name or "")
    return ReviewOut(
        id=review.id,
        case_id=review.case_id,
        client_id=review.client_id,
        subject=Subject(review.subject_kind),
        subject_id=review.subject_id,
        requested_by=Person(id=review.requested_by_id, name=review.requested_by_name),
        requested_at=review.requested_at,
        decision=review.decision,
        decided_by=decided,
        decided_at=review.decided_at,
        comments=comments,
    )


def request_review(
    session: Session, caller: Caller, case_id: uuid.UUID, subject: Subject
) -> tuple[ReviewOut, bool]:
    """Ask a supervisor to review the case's latest assessment, its plan or its closure;
    (the request, whether it is new). Audited.

    Raises:
        Forbidden, CaseNotFound, CaseClosed, CaseworkInvalid (nothing to review yet).
    """
    action = "supervision.request"
    case = planning.open_case(session, caller, case_id, action)
    subject_id, row = _subject_row(session, caller, case, subject)
    pending = session.scalars(
        select(SupervisionReview).where(
            SupervisionReview.case_id == case.id,
            SupervisionReview.subject_kind == subject.value,
            SupervisionReview.decision == PENDING,
        )
    ).first()
    created = pending is None
    if pending is None:
        pending = SupervisionReview(
            organisation_id=case.owner_org_id,
            case_id=case.id,
            client_id=case.client_id,
            subject_kind=subject.value,
            subject_id=subject_id,
            requested_by_id=caller.id,
            requested_by_name=person_name(session, caller),
            requested_at=utcnow(),
            decision=PENDING,
        )
        session.add(pending)
    elif pending.subject_id != subject_id:
        _set_state(session, pending.subject_kind, pending.subject_id, ReviewState.DRAFT)
        pending.subject_id = subject_id
    if row is not None:
        row.review_state = ReviewState.SUBMITTED.value
    session.flush()
    planning.audit_case(
        session, caller, action, case, review=pending.id, subject=subject.value, created=created
    )
    return review_out(session, pending, with_comments=False), created


def queue(session: Session, caller: Caller) -> list[ReviewOut]:
    """The organisation's pending review requests, oldest first (at most 200; audited).

    Raises:
        SupervisorsOnly.
    """
    action = "supervision.queue.read"
    require_supervisor(session, caller, action, "SupervisionReview")
    org = caller.organisation_id
    rows = list(
        session.scalars(
            select(SupervisionReview)
            .join(Case, Case.id == SupervisionReview.case_id)
            .where(
                SupervisionReview.organisation_id == org,
                SupervisionReview.decision == PENDING,
                Case.owner_org_id == org,
            )
            .order_by(SupervisionReview.requested_at, SupervisionReview.id)
            .limit(QUEUE_LIMIT)
        )
    )
    audit.record(
        session,
        actor=caller.actor,
        action=action,
        organisation=str(org),
        subject="SupervisionReview",
        detail={"pending": len(rows)},
    )
    return [review_out(session, r, with_comments=False) for r in rows]


def pending_count(session: Session, organisation_id: uuid.UUID) -> int:
    """How many review requests of the organisation wait for a decision."""
    count = session.scalar(
        select(func.count())
        .select_from(SupervisionReview)
        .join(Case, Case.id == SupervisionReview.case_id)
        .where(
            SupervisionReview.organisation_id == organisation_id,
            SupervisionReview.decision == PENDING,
            Case.owner_org_id == organisation_id,
        )
    )
    return int(count or 0)


def decide(session: Session, caller: Caller, review_id: uuid.UUID, body: DecisionIn) -> ReviewOut:
    """Approve or return the work under review; the comments are sealed. Audited.

    Raises:
        SupervisorsOnly, ReviewNotFound (another organisation's too), ReviewDecided,
        OwnRequest (the supervisor asked for it), CaseworkInvalid (returned without
        comments).
    """
    action = "supervision.decide"
    subject = f"SupervisionReview/{review_id}"
    require_supervisor(session, caller, action, subject)
    org = caller.organisation_id
    review = session.scalars(
        select(SupervisionReview)
        .join(Case, Case.id == SupervisionReview.case_id)
        .where(
            SupervisionReview.id == review_id,
            SupervisionReview.organisation_id == org,
            Case.owner_org_id == org,
        )
        .with_for_update(of=SupervisionReview)
    ).first()
    if review is None:
        access.refused(session, caller, action, subject, "not-found")
        raise ReviewNotFound("No such review request.")
    if review.decision != PENDING:
        access.refused(session, caller, action, subject, "decided")
        raise ReviewDecided("This review was decided already: ask for a new review.")
    if review.requested_by_id == caller.id:
        access.refused(session, caller, action, subject, "own-request")
        raise OwnRequest("Another supervisor must decide on a review you asked for.")
    if body.decision is DecisionKind.RETURNED and not body.comments:
        access.refused(session, caller, action, subject, "body.comments")
        raise CaseworkInvalid(
            "Say what to change when you return the work.", location="body.comments"
        )
    case = session.get(Case, review.case_id)
    assert case is not None
    if body.comments:
        review.sealed = access.seal(
            session, review.client_id, SEAL_KIND, review.id, {"comments": body.comments}
        )
    review.decision = body.decision.value
    review.decided_by_id = caller.id
    review.decided_by_name = person_name(session, caller)
    review.decided_at = utcnow()
    _set_state(session, review.subject_kind, review.subject_id, ReviewState(body.decision.value))
    session.flush()
    planning.audit_case(
        session,
        caller,
        action,
        case,
        review=review.id,
        subject=review.subject_kind,
        decision=review.decision,
    )
    return review_out(session, review, with_comments=True)


def case_reviews(session: Session, caller: Caller, case_id: uuid.UUID) -> list[ReviewOut]:
    """The case's review requests and decisions with the comments, newest first (audited).

    Raises:
        Forbidden, CaseNotFound, ClientErased.
    """
    case = access.owned_case(session, caller, case_id, action="supervision.read")
    rows = list(
        session.scalars(
            select(SupervisionReview)
            .where(SupervisionReview.case_id == case.id)
            .order_by(SupervisionReview.requested_at.desc(), SupervisionReview.id)
        )
    )
    planning.audit_case(session, caller, "supervision.read", case, reviews=len(rows))
    return [review_out(session, r, with_comments=True) for r in rows]
