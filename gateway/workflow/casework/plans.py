"""The service plan of a case: each barrier's strategy and each strength's use, the
disengagement plan, goals, their tasks (`plan_tasks`), the review schedule and reviews.

- One plan per case, written by the organisation holding the case (`access.owned_case`);
  a handover moves it with the case. It starts from the case's latest assessment.
- A goal states its domain and target date where the organisation requires them
  (`OrgPlanSettings`), the family's words or the worker's, and the needs or barriers of the
  assessment it addresses. Its domain decides the consent category it is shared under.
- A review is dated on or after the plan's first day and not in the future; it sets the
  next review date (default: the review period later).
- Refused input names its field, changes nothing and is audited. Content is sealed under
  the client's key (contexts `plan:`, `goal:`, `plan-review:` and the row id).
"""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.workflow.casework import access, assessments, goals, plan_tasks, planning, reviews
from gateway.workflow.casework.models import Goal, Plan, PlanReview
from gateway.workflow.casework.schemas import Disengagement, PlanIn, PlanOut, Strategy
from gateway.workflow.models import Case
from kernel.caller import Caller
from kernel.db import new_id, utcnow

__all__ = ["plan_out", "put_plan", "read_plan"]


def _check_items(
    session: Session,
    caller: Caller,
    case: Case,
    items: list[Strategy],
    allowed: set[uuid.UUID],
    location: str,
) -> None:
    seen: set[uuid.UUID] = set()
    for index, item in enumerate(items):
        if item.item_id not in allowed or item.item_id in seen:
            what = "strength" if location.endswith("strength_uses") else "barrier"
            raise planning.invalid(
                session,
                caller,
                "plan.write",
                case,
                f"This is not a {what} of the latest assessment, or it is given twice.",
                f"{location}.{index}.item_id",
            )
        seen.add(item.item_id)


def put_plan(session: Session, caller: Caller, case_id: uuid.UUID, body: PlanIn) -> PlanOut:
    """Write the case's plan (create it, or replace its own parts); goals stay.

    Raises:
        Forbidden, CaseNotFound, CaseClosed, CaseworkInvalid (a strategy for an item that
        is not a barrier of the latest assessment, a use for one that is not a strength).
    """
    case = planning.open_case(session, caller, case_id, "plan.write")
    latest = assessments.latest(session, case.id)
    domains = latest.domains if latest else {}
    _check_items(
        session,
        caller,
        case,
        body.strategies,
        assessments.item_ids(domains, "barriers"),
        "body.strategies",
    )
    _check_items(
        session,
        caller,
        case,
        body.strength_uses,
        assessments.item_ids(domains, "strengths"),
        "body.strength_uses",
    )
    settings = planning.settings_of(session, case.owner_org_id)
    plan = planning.plan_of_case(session, case.id)
    now = utcnow()
    created = plan is None
    if plan is None:
        every = body.review_every_days or settings.review_every_days
        plan = Plan(
            id=new_id(),
            case_id=case.id,
            client_id=case.client_id,
            owner_org_id=case.owner_org_id,
            review_every_days=every,
            next_review_on=now.date() + dt.timedelta(days=every),
            created_at=now,
            sealed=b"",
        )
        session.add(plan)
        if case.stage in ("engagement", "planning"):
            case.stage = "linking"  # the plan is written: linking to services comes next
    elif body.review_every_days:
        plan.review_every_days = body.review_every_days
    plan.assessment_id = latest.id if latest else None
    plan.updated_at = now
    plan.sealed = access.seal(
        session,
        case.client_id,
        "plan",
        plan.id,
        {
            "strategies": [s.model_dump(mode="json") for s in body.strategies],
            "strength_uses": [s.model_dump(mode="json") for s in body.strength_uses],
            "disengagement": body.disengagement.model_dump(),
        },
    )
    session.flush()
    planning.audit_case(session, caller, "plan.write", case, plan=plan.id, created=created)
    return plan_out(session, plan)


def read_plan(session: Session, caller: Caller, case_id: uuid.UUID) -> PlanOut | None:
    """The case's plan for the organisation holding the case (None: no plan yet); audited.

    Raises:
        Forbidden, CaseNotFound, ClientErased.
    """
    case = access.owned_case(session, caller, case_id, action="plan.read")
    plan = planning.plan_of_case(session, case.id)
    planning.audit_case(session, caller, "plan.read", case, plan=plan.id if plan else None)
    return plan_out(session, plan) if plan is not None else None


def plan_out(session: Session, plan: Plan) -> PlanOut:
    data = access.open_sealed(session, plan.client_id, "plan", plan.id, plan.sealed)
    goal_rows = list(
        session.scalars(select(Goal).where(Goal.plan_id == plan.id).order_by(Goal.created_at))
    )
    tasks = plan_tasks.tasks_of(session, [g.id for g in goal_rows])
    review_rows = list(
        session.scalars(
            select(PlanReview)
            .where(PlanReview.plan_id == plan.id)
            .order_by(PlanReview.reviewed_on.desc(), PlanReview.written_at.desc())
        )
    )
    strategies = [Strategy.model_validate(s) for s in data.get("strategies", [])]
    barriers: set[uuid.UUID] = set()
    if plan.assessment_id is not None:
        latest = assessments.latest(session, plan.case_id)
        barriers = assessments.item_ids(latest.domains, "barriers") if latest else set()
    covered = {s.item_id for s in strategies}
    return PlanOut(
        id=plan.id,
        case_id=plan.case_id,
        client_id=plan.client_id,
        owner_org_id=plan.owner_org_id,
        assessment_id=plan.assessment_id,
        status=plan.status,
        review_every_days=plan.review_every_days,
        next_review_on=plan.next_review_on,
        review_overdue=plan.next_review_on is not None and plan.next_review_on < utcnow().date(),
        review_state=plan.review_state,
        strategies=strategies,
        strength_uses=[Strategy.model_validate(s) for s in data.get("strength_uses", [])],
        disengagement=Disengagement.model_validate(data.get("disengagement", {})),
        barriers_without_strategy=sorted(barriers - covered),
        goals=[
            goals.goal_out(session, g, [t for t in tasks if t.goal_id == g.id]) for g in goal_rows
        ],
        reviews=[reviews.review_out(session, plan, r) for r in review_rows],
        created_at=plan.created_at,
    )
