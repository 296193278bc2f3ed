"""Reviews of a service plan: dated on or after the plan's first day and not in the future,
with what changed and why (sealed), each setting the next review date."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy.orm import Session

from gateway.auth import people
from gateway.workflow.casework import access, assessments, planning
from gateway.workflow.casework.models import Plan, PlanReview
from gateway.workflow.casework.schemas import ReviewIn, ReviewOut
from kernel.caller import Caller
from kernel.db import new_id, utcnow

__all__ = ["add_review", "review_out"]


def add_review(session: Session, caller: Caller, case_id: uuid.UUID, body: ReviewIn) -> Plan:
    """Record a review of the plan: what changed and why; sets the next review date.

    Raises:
        Forbidden, CaseNotFound, CaseClosed, PlanItemNotFound (no plan), CaseworkInvalid
        (dated before the plan or in the future, next review not after it).
    """
    case, plan = planning.plan_for_write(session, caller, case_id, "plan-review.write")
    first_day = (plan.created_at - dt.timedelta(hours=14)).date()
    if body.reviewed_on < first_day:
        raise planning.invalid(
            session,
            caller,
            "plan-review.write",
            case,
            "A review cannot be dated before the plan was made.",
            "body.reviewed_on",
        )
    if body.reviewed_on > assessments.today_anywhere():
        raise planning.invalid(
            session,
            caller,
            "plan-review.write",
            case,
            "A review cannot be in the future.",
            "body.reviewed_on",
        )
    if body.next_review_on is not None and body.next_review_on <= body.reviewed_on:
        raise planning.invalid(
            session,
            caller,
            "plan-review.write",
            case,
            "The next review must be after this one.",
            "body.next_review_on",
        )
    following = body.next_review_on or body.reviewed_on + dt.timedelta(days=plan.review_every_days)
    author = people.names_of(session, [caller.actor]).get(caller.actor)
    review = PlanReview(
        id=new_id(),
        plan_id=plan.id,
        organisation_id=case.owner_org_id,
        reviewed_on=body.reviewed_on,
        next_review_on=following,
        author_id=caller.id,
        author_name=author.name if author else caller.actor,
        written_at=utcnow(),
    )
    review.sealed = access.seal(
        session,
        case.client_id,
        "plan-review",
        review.id,
        {"what_changed": body.what_changed, "why": body.why},
    )
    session.add(review)
    plan.next_review_on = following
    plan.updated_at = utcnow()
    session.flush()
    planning.audit_case(session, caller, "plan-review.write", case, plan=plan.id, review=review.id)
    return plan


def review_out(session: Session, plan: Plan, review: PlanReview) -> ReviewOut:
    data = access.open_sealed(session, plan.client_id, "plan-review", review.id, review.sealed)
    return ReviewOut(
        id=review.id,
        reviewed_on=review.reviewed_on,
        next_review_on=review.next_review_on,
        what_changed=data["what_changed"],
        why=data["why"],
        author_name=review.author_name,
        written_at=review.written_at,
    )
