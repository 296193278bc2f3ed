"""Goals of a service plan (FHIR Goal): the family's words and the worker's, the life
domain (which decides the consent category partners see the goal under), the target date,
the measure of progress, the needs and barriers of the assessment it addresses, and its
FHIR lifecycle and achievement status. Its progress is its tasks done of those not dropped.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy.orm import Session

from gateway.workflow.casework import access, assessments, plan_tasks, planning
from gateway.workflow.casework.errors import PlanItemNotFound
from gateway.workflow.casework.models import Goal, Plan
from gateway.workflow.casework.schemas import (
    Achievement,
    GoalIn,
    GoalOut,
    GoalUpdate,
    Lifecycle,
    Progress,
)
from gateway.workflow.models import Case
from kernel.caller import Caller
from kernel.db import new_id, utcnow

__all__ = ["add_goal", "goal_out", "update_goal"]


def _check_goal(
    session: Session, caller: Caller, case: Case, plan: Plan, body: GoalIn | GoalUpdate
) -> None:
    settings = planning.settings_of(session, case.owner_org_id)
    if isinstance(body, GoalIn):
        if settings.goal_domain_required and body.domain is None:
            raise planning.invalid(
                session,
                caller,
                "goal.write",
                case,
                "Your organisation asks every goal to name its life domain.",
                "body.domain",
            )
        if settings.goal_target_required and body.target_on is None:
            raise planning.invalid(
                session,
                caller,
                "goal.write",
                case,
                "Your organisation asks every goal to have a target date.",
                "body.target_on",
            )
        if not body.family_words and not body.worker_words:
            raise planning.invalid(
                session,
                caller,
                "goal.write",
                case,
                "Write the goal in the family's words, the worker's, or both.",
                "body.family_words",
            )
        latest = assessments.latest(session, case.id)
        domains = latest.domains if latest else {}
        allowed = assessments.item_ids(domains, "needs") | assessments.item_ids(domains, "barriers")
        for index, item in enumerate(body.addresses):
            if item not in allowed:
                raise planning.invalid(
                    session,
                    caller,
                    "goal.write",
                    case,
                    "A goal addresses needs or barriers of the latest assessment.",
                    f"body.addresses.{index}",
                )
    first_day = (plan.created_at - dt.timedelta(hours=14)).date()
    if body.target_on is not None and body.target_on < first_day:
        raise planning.invalid(
            session,
            caller,
            "goal.write",
            case,
            "The target date cannot be before the plan was made.",
            "body.target_on",
        )


def add_goal(session: Session, caller: Caller, case_id: uuid.UUID, body: GoalIn) -> GoalOut:
    """Add a goal to the case's plan.

    Raises:
        Forbidden, CaseNotFound, CaseClosed, PlanItemNotFound (no plan yet),
        CaseworkInvalid (domain or target date missing where required, no words, an item
        that is not a need or barrier of the latest assessment, a target before the plan).
    """
    case, plan = planning.plan_for_write(session, caller, case_id, "goal.write")
    _check_goal(session, caller, case, plan, body)
    goal = Goal(
        id=new_id(),
        plan_id=plan.id,
        case_id=case.id,
        client_id=case.client_id,
        domain=body.domain.value if body.domain else None,
        category=access.category_of(body.domain).value,
        target_on=body.target_on,
        lifecycle_status=Lifecycle.ACTIVE.value,
    )
    goal.sealed = _seal_goal(session, goal, body.model_dump(mode="json"))
    session.add(goal)
    plan.updated_at = utcnow()
    session.flush()
    planning.audit_case(session, caller, "goal.write", case, goal=goal.id, domain=goal.domain)
    return goal_out(session, goal, plan_tasks.tasks_of(session, [goal.id]))


def _seal_goal(session: Session, goal: Goal, data: dict[str, Any]) -> bytes:
    words = {k: data.get(k) or "" for k in ("family_words", "worker_words", "measure")}
    words["addresses"] = [str(a) for a in data.get("addresses") or []]
    return access.seal(session, goal.client_id, "goal", goal.id, words)


def _goal_words(session: Session, goal: Goal) -> dict[str, Any]:
    return dict(access.open_sealed(session, goal.client_id, "goal", goal.id, goal.sealed))


def update_goal(
    session: Session, caller: Caller, case_id: uuid.UUID, goal_id: uuid.UUID, body: GoalUpdate
) -> GoalOut:
    """Change a goal's status, target date or words (the organisation holding the case).

    Raises:
        Forbidden, CaseNotFound, CaseClosed, PlanItemNotFound, CaseworkInvalid.
    """
    case, plan = planning.plan_for_write(session, caller, case_id, "goal.write")
    goal = session.get(Goal, goal_id)
    if goal is None or goal.plan_id != plan.id:
        access.refused(session, caller, "goal.write", f"Goal/{goal_id}", "not-found")
        raise PlanItemNotFound("No such goal in this case's plan.")
    _check_goal(session, caller, case, plan, body)
    if body.lifecycle_status is not None:
        goal.lifecycle_status = body.lifecycle_status.value
    if body.achievement_status is not None:
        goal.achievement_status = body.achievement_status.value
    if body.target_on is not None:
        goal.target_on = body.target_on
    words = _goal_words(session, goal)
    for key in ("family_words", "worker_words", "measure"):
        value = getattr(body, key)
        if value is not None:
            words[key] = value
    goal.sealed = _seal_goal(session, goal, words)
    goal.updated_at = plan.updated_at = utcnow()
    session.flush()
    planning.audit_case(
        session, caller, "goal.write", case, goal=goal.id, lifecycle=goal.lifecycle_status
    )
    return goal_out(session, goal, plan_tasks.tasks_of(session, [goal.id]))


def goal_out(
    session: Session,
    goal: Goal,
    tasks: list[plan_tasks.TaskOut],
    *,
    progress_of: list[plan_tasks.TaskOut] | None = None,
) -> GoalOut:
    """The goal opened, with `tasks` listed and its progress over `progress_of` (default:
    the same tasks; a partner is shown only its own tasks but the goal's whole progress)."""
    words = _goal_words(session, goal)
    counted = tasks if progress_of is None else progress_of
    return GoalOut(
        id=goal.id,
        plan_id=goal.plan_id,
        domain=goal.domain,
        category=goal.category,
        target_on=goal.target_on,
        lifecycle_status=Lifecycle(goal.lifecycle_status),
        achievement_status=Achievement(goal.achievement_status)
        if goal.achievement_status
        else None,
        family_words=words.get("family_words", ""),
        worker_words=words.get("worker_words", ""),
        measure=words.get("measure", ""),
        addresses=[uuid.UUID(a) for a in words.get("addresses", [])],
        progress=Progress(
            done=sum(1 for t in counted if t.status == "completed"),
            total=sum(1 for t in counted if t.status not in ("cancelled", "rejected")),
        ),
        tasks=tasks,
    )
