"""FHIR reads and searches of the shared service plan: CarePlan, Goal, Condition, Task.

Every answer is narrowed by `fhir_access` (owner: everything; partner: the goals it serves,
its own tasks, under consent decided now) and audited per plan disclosed (`plan.read` for
the owner, `plan.shared.read` for a partner, subject the Patient, detail the resource);
a refusal is audited (`plan.read`, denied) and answers the 404 of an unknown id.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from consent.errors import ClientErased
from gateway.workflow.addressing import org_reference
from gateway.workflow.casework import access, fhir, plan_tasks, planning
from gateway.workflow.casework.fhir_access import (
    View,
    admit,
    candidate_plans,
    conditions_of,
    not_found,
    served_task_ids,
    view_of,
)
from gateway.workflow.casework.models import Goal, Plan, PlanTask
from gateway.workflow.casework.schemas import Disengagement, Strategy
from gateway.workflow.models import CaseStatus
from kernel.caller import Caller

__all__ = ["KINDS", "read", "search"]

#: Resource types the plan serves; Task is read only (the Task search is the referrals').
KINDS = ("CarePlan", "Goal", "Condition", "Task")


def _audit(session: Session, caller: Caller, view: View, what: str, **detail: Any) -> None:
    action = "plan.read" if view.owner else "plan.shared.read"
    planning.audit_case(session, caller, action, view.case, fhir=what, **detail)


def _care_plan(session: Session, caller: Caller, view: View) -> dict[str, Any]:
    plan = view.plan
    strategies: list[Strategy] | None = None
    disengagement: Disengagement | None = None
    if view.owner:
        data = access.open_sealed(session, plan.client_id, "plan", plan.id, plan.sealed)
        strategies = [Strategy.model_validate(s) for s in data.get("strategies", [])]
        disengagement = Disengagement.model_validate(data.get("disengagement", {}))
    return fhir.care_plan(
        plan_id=plan.id,
        status="active"
        if plan.status == "active" and view.case.status == CaseStatus.OPEN.value
        else "closed",
        client_id=plan.client_id,
        created=plan.created_at,
        updated=plan.updated_at,
        author=org_reference(session, view.case.owner_org_id),
        goal_ids=[g.id for g in view.goals],
        task_ids=served_task_ids(session, view, caller.organisation_id),
        condition_ids=[c.id for c in conditions_of(session, caller, view)],
        strategies=strategies,
        disengagement=disengagement,
    )


def _goal(session: Session, view: View, goal: Goal) -> dict[str, Any]:
    return fhir.goal(view.goal_out(session, goal), goal.client_id, goal.created_at, goal.updated_at)


def _task(session: Session, caller: Caller, view: View, row: PlanTask) -> dict[str, Any]:
    of_org = None if view.owner else caller.organisation_id
    opened = next(
        t for t in plan_tasks.tasks_of(session, [row.goal_id], of_org=of_org) if t.id == row.id
    )
    partner = (
        org_reference(session, row.responsible_org_id)
        if row.responsible_org_id is not None
        else None
    )
    return fhir.task(
        opened,
        plan_id=row.plan_id,
        client_id=row.client_id,
        owner=org_reference(session, view.case.owner_org_id),
        partner=partner,
        authored=row.created_at,
    )


def _conditions(
    session: Session, caller: Caller, view: View, wanted: uuid.UUID | None = None
) -> list[dict[str, Any]]:
    return [
        fhir.condition(c.item, c.kind, c.domain, view.plan.client_id, c.assessed_on)
        for c in conditions_of(session, caller, view)
        if wanted is None or c.id == wanted
    ]


def _find(
    session: Session, caller: Caller, kind: str, rid: uuid.UUID
) -> tuple[View, dict[str, Any]] | None:
    if kind == "CarePlan":
        view = view_of(session, caller, session.get(Plan, rid))
        return (view, _care_plan(session, caller, view)) if view else None
    if kind == "Goal":
        goal = session.get(Goal, rid)
        view = view_of(session, caller, session.get(Plan, goal.plan_id) if goal else None)
        if view is None or goal is None or goal.id not in {g.id for g in view.goals}:
            return None
        return view, _goal(session, view, goal)
    if kind == "Task":
        row = session.get(PlanTask, rid)
        view = view_of(session, caller, session.get(Plan, row.plan_id) if row else None)
        if view is None or row is None:
            return None
        if row.id not in served_task_ids(session, view, caller.organisation_id):
            return None
        return view, _task(session, caller, view, row)
    for plan in candidate_plans(session, caller, []):  # Condition: the item's plan
        view = view_of(session, caller, plan)
        if view is not None and (found := _conditions(session, caller, view, rid)):
            return view, found[0]
    return None


def read(session: Session, caller: Caller, kind: str, rid: uuid.UUID) -> dict[str, Any]:
    """One plan resource by id, as the caller may read it now (audited).

    Raises:
        PlanReadForbidden: a system client without the type's scope.
        ReferralNotFound: no such resource, or none the caller may read (audited).
        ClientErased: the client's data key is gone.
    """
    subject = f"{kind}/{rid}"
    admit(session, caller, kind, "r", subject)
    found = _find(session, caller, kind, rid)
    if found is None:
        access.refused(session, caller, "plan.read", subject, "not-found")
        raise not_found(kind)
    view, resource = found
    _audit(session, caller, view, subject)
    return resource


def _of_view(
    session: Session, caller: Caller, kind: str, view: View, lifecycle: list[str]
) -> list[dict[str, Any]]:
    if kind == "CarePlan":
        return [_care_plan(session, caller, view)]
    if kind == "Goal":
        return [
            _goal(session, view, g)
            for g in view.goals
            if not lifecycle or g.lifecycle_status in lifecycle
        ]
    return _conditions(session, caller, view)


def search(
    session: Session,
    caller: Caller,
    kind: str,
    *,
    patients: list[uuid.UUID],
    lifecycle: list[str],
) -> list[dict[str, Any]]:
    """CarePlans, Goals or Conditions the caller may read now, newest plan first (at most
    `fhir_access.PLAN_LIMIT` plans looked at; erased clients' plans skipped); each plan
    disclosed is audited.

    Raises:
        PlanReadForbidden: no scope to search `kind`, or staff not doing case work.
    """
    admit(session, caller, kind, "s", kind)
    out: list[dict[str, Any]] = []
    for plan in candidate_plans(session, caller, patients):
        if kind == "Goal" and lifecycle:
            wanted = select(Goal.id).where(
                Goal.plan_id == plan.id, Goal.lifecycle_status.in_(lifecycle)
            )
            if session.scalars(wanted).first() is None:
                continue  # no decision asked for a plan with nothing to show
        view = view_of(session, caller, plan)
        if view is None:
            continue
        try:
            found = _of_view(session, caller, kind, view, lifecycle)
        except ClientErased:
            continue  # the client's data is gone: nothing of it to find
        if found:
            _audit(session, caller, view, f"{kind}?", results=len(found))
            out += found
    return out
