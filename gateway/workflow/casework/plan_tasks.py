"""Tasks under a plan's goals: who carries them out (the organisation, a named partner agency,
the family), by when, their status, and the referral that fulfils one.

- The organisation holding the case adds and changes tasks. A partner agency (the task's
  responsible organisation, or the receiver of the referral that fulfils it) reads and
  updates the status of its own tasks only while the client's consent permits the goal's
  category to it (decided now, at every call: a revocation ends it at once); it never sees
  the other agencies' tasks.
- A task fulfilled by a referral follows it: the referral's status becomes the task's
  (`follow_referral`, called by `change.apply_move` on every status change), so the goal's
  progress shows on both sides. A handover moves the plan to the receiver (`move_plan`).
- A partner must be an active organisation of the network, not the owner itself.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.auth.models import Organisation, OrgStatus
from gateway.workflow.casework import access
from gateway.workflow.casework.errors import (
    CaseClosed,
    CaseworkInvalid,
    ConsentNotPermitting,
    PlanItemNotFound,
)
from gateway.workflow.casework.models import Goal, Plan, PlanTask, Responsible, TaskStatus
from gateway.workflow.casework.schemas import Achievement, TaskIn, TaskOut, TaskUpdate
from gateway.workflow.models import Case, CaseStatus, Referral
from kernel import audit
from kernel.caller import Caller
from kernel.db import new_id, utcnow

__all__ = [
    "TaskOut",
    "add_task",
    "check_task",
    "create_task",
    "follow_referral",
    "goal_of_case",
    "link_referral",
    "move_plan",
    "task_out",
    "tasks_of",
    "update_task",
]

_DONE = frozenset({TaskStatus.COMPLETED, TaskStatus.CANCELLED, TaskStatus.REJECTED})


def task_out(session: Session, task: PlanTask, names: dict[uuid.UUID, str]) -> TaskOut:
    data = access.open_sealed(session, task.client_id, "plan-task", task.id, task.sealed)
    referral = session.get(Referral, task.referral_id) if task.referral_id else None
    today = utcnow().date()
    return TaskOut(
        id=task.id,
        goal_id=task.goal_id,
        description=data["description"],
        responsible=Responsible(task.responsible),
        responsible_org_id=task.responsible_org_id,
        responsible_org_name=names.get(task.responsible_org_id)
        if task.responsible_org_id
        else None,
        due_on=task.due_on,
        overdue=task.due_on is not None and task.due_on < today and task.status not in _DONE,
        status=TaskStatus(task.status),
        status_note=data.get("status_note", ""),
        referral_id=task.referral_id,
        referral_status=referral.status if referral else None,
        updated_at=task.updated_at,
    )


def _names(session: Session, ids: Iterable[uuid.UUID | None]) -> dict[uuid.UUID, str]:
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    rows = session.execute(
        select(Organisation.id, Organisation.name).where(Organisation.id.in_(wanted))
    )
    return {row.id: row.name for row in rows}


def tasks_of(
    session: Session, goal_ids: list[uuid.UUID], *, of_org: uuid.UUID | None = None
) -> list[TaskOut]:
    """The tasks of the goals, oldest first (with `of_org`: only that partner's own)."""
    if not goal_ids:
        return []
    query = select(PlanTask).where(PlanTask.goal_id.in_(goal_ids))
    rows = list(session.scalars(query.order_by(PlanTask.created_at)))
    if of_org is not None:
        rows = [t for t in rows if _serves(session, t, of_org)]
    names = _names(session, [t.responsible_org_id for t in rows])
    return [task_out(session, t, names) for t in rows]


def _serves(session: Session, task: PlanTask, org: uuid.UUID) -> bool:
    if task.responsible_org_id == org:
        return True
    if task.referral_id is None:
        return False
    referral = session.get(Referral, task.referral_id)
    return referral is not None and referral.owner_org_id == org


def _invalid(
    session: Session, caller: Caller, case: Case, detail: str, location: str
) -> CaseworkInvalid:
    access.refused(session, caller, "plan-task.write", f"EpisodeOfCare/{case.id}", location)
    return CaseworkInvalid(detail, location=location)


def goal_of_case(
    session: Session, caller: Caller, case_id: uuid.UUID, goal_id: uuid.UUID
) -> tuple[Case, Goal]:
    case = access.owned_case(session, caller, case_id, action="plan-task.write", for_update=True)
    if case.status != CaseStatus.OPEN:
        access.refused(session, caller, "plan-task.write", f"EpisodeOfCare/{case.id}", "closed")
        raise CaseClosed("The case is closed: its plan is kept as it was at closure.")
    goal = session.get(Goal, goal_id)
    if goal is None or goal.case_id != case.id:
        access.refused(session, caller, "plan-task.write", f"Goal/{goal_id}", "not-found")
        raise PlanItemNotFound("No such goal in this case's plan.")
    return case, goal


def check_task(
    session: Session, caller: Caller, case: Case, body: TaskIn, *, at: str = "body"
) -> None:
    """Refuse (audited) a task whose responsible party is not right; `at` prefixes the field.

    Raises:
        CaseworkInvalid: a partner task without an organisation, an organisation that is
            not an active member of the network or is the owner itself, an organisation on
            a task that is not a partner's.
    """
    partner = body.responsible is Responsible.PARTNER
    where = f"{at}.responsible_org_id"
    if partner and body.responsible_org_id is None:
        raise _invalid(session, caller, case, "Name the partner agency.", where)
    if not partner and body.responsible_org_id is not None:
        raise _invalid(session, caller, case, "Only a partner's task names an organisation.", where)
    if partner:
        org = session.get(Organisation, body.responsible_org_id)
        if org is None or org.status != OrgStatus.ACTIVE or org.id == case.owner_org_id:
            raise _invalid(
                session,
                caller,
                case,
                "This organisation is not an active partner in the network.",
                where,
            )


def create_task(
    session: Session,
    caller: Caller,
    case: Case,
    goal: Goal,
    body: TaskIn,
    *,
    conference_id: uuid.UUID | None = None,
) -> PlanTask:
    """Write a checked task (`check_task`) under `goal` of `case` (audited)."""
    now = utcnow()
    task = PlanTask(
        id=new_id(),
        plan_id=goal.plan_id,
        goal_id=goal.id,
        case_id=case.id,
        client_id=case.client_id,
        responsible=body.responsible.value,
        responsible_org_id=body.responsible_org_id,
        due_on=body.due_on,
        status=TaskStatus.REQUESTED.value,
        conference_id=conference_id,
        created_at=now,
        updated_at=now,
        updated_by_org_id=caller.organisation_id,
    )
    task.sealed = access.seal(
        session,
        case.client_id,
        "plan-task",
        task.id,
        {"description": body.description, "status_note": ""},
    )
    session.add(task)
    session.flush()
    _audit(session, caller, "plan-task.write", case.client_id, task, created=True)
    return task


def add_task(
    session: Session, caller: Caller, case_id: uuid.UUID, goal_id: uuid.UUID, body: TaskIn
) -> TaskOut:
    """Add a task under a goal of the case's plan.

    Raises:
        Forbidden, CaseNotFound, CaseClosed, PlanItemNotFound, CaseworkInvalid
        (`check_task`).
    """
    case, goal = goal_of_case(session, caller, case_id, goal_id)
    check_task(session, caller, case, body)
    task = create_task(session, caller, case, goal, body)
    return task_out(session, task, _names(session, [task.responsible_org_id]))


def _audit(
    session: Session,
    caller: Caller,
    action: str,
    client_id: uuid.UUID,
    task: PlanTask,
    **kw: object,
) -> None:
    audit.record(
        session,
        actor=caller.actor,
        action=action,
        organisation=str(caller.organisation_id),
        subject=f"Patient/{client_id}",
        detail={
            "case": str(task.case_id),
            "task": str(task.id),
            "status": task.status,
            **{k: str(v) for k, v in kw.items()},
        },
    )


def _set_status(session: Session, task: PlanTask, status: TaskStatus, note: str | None) -> None:
    task.status = status.value
    task.updated_at = utcnow()
    if note is not None:
        data = access.open_sealed(session, task.client_id, "plan-task", task.id, task.sealed)
        data["status_note"] = note
        task.sealed = access.seal(session, task.client_id, "plan-task", task.id, data)
    if status in (TaskStatus.ACCEPTED, TaskStatus.IN_PROGRESS, TaskStatus.COMPLETED):
        case = session.get(Case, task.case_id)
        if case is not None and case.stage in ("planning", "linking"):
            case.stage = "monitoring"  # services started: coordination and monitoring
    goal = session.get(Goal, task.goal_id)
    if goal is not None:
        goal.updated_at = task.updated_at
        if goal.achievement_status is None and status is not TaskStatus.REQUESTED:
            goal.achievement_status = Achievement.IN_PROGRESS.value


def update_task(session: Session, caller: Caller, task_id: uuid.UUID, body: TaskUpdate) -> TaskOut:
    """Update a task's status and note: the owner of the case, or the partner serving it
    while the client's consent permits the goal's category to it.

    Raises:
        Forbidden (not a case worker or supervisor), PlanItemNotFound (no such task, or
        one the caller's organisation neither holds nor serves; audited), CaseClosed,
        ConsentNotPermitting (a partner outside the client's consent; audited).
    """
    subject = f"PlanTask/{task_id}"
    if not access.does_case_work(caller):
        access.refused(session, caller, "plan-task.write", subject, "role")
        raise PlanItemNotFound("No such task.")
    task = session.scalars(select(PlanTask).where(PlanTask.id == task_id).with_for_update()).first()
    case = session.get(Case, task.case_id) if task else None
    org = caller.organisation_id
    owner = case is not None and case.owner_org_id == org
    if task is None or case is None or not (owner or (org and _serves(session, task, org))):
        access.refused(session, caller, "plan-task.write", subject, "not-found")
        raise PlanItemNotFound("No such task.")
    if case.status != CaseStatus.OPEN:
        access.refused(session, caller, "plan-task.write", subject, "closed")
        raise CaseClosed("The case is closed: its plan is kept as it was at closure.")
    if not owner:
        goal = session.get(Goal, task.goal_id)
        if goal is None or goal.id not in access.goals_shared_with(session, caller, [goal]):
            access.refused(session, caller, "plan-task.write", subject, "consent")
            raise ConsentNotPermitting(
                "The client's consent does not let your organisation update this task now."
            )
    _set_status(session, task, body.status, body.status_note)
    task.updated_by_org_id = org
    session.flush()
    _audit(session, caller, "plan-task.write", task.client_id, task, partner=not owner)
    return task_out(session, task, _names(session, [task.responsible_org_id]))


def link_referral(
    session: Session, caller: Caller, case_id: uuid.UUID, task_id: uuid.UUID, referral_id: uuid.UUID
) -> TaskOut:
    """Name the referral that fulfils a task: the task becomes the receiver's (a partner)
    and follows the referral's status from now on.

    Raises:
        Forbidden, CaseNotFound, CaseClosed, PlanItemNotFound (no such task in the case),
        CaseworkInvalid (not a referral the organisation sent for this client).
    """
    task = session.get(PlanTask, task_id)
    if task is None:
        access.refused(session, caller, "plan-task.write", f"PlanTask/{task_id}", "not-found")
        raise PlanItemNotFound("No such task.")
    case, _goal = goal_of_case(session, caller, case_id, task.goal_id)
    referral = session.get(Referral, referral_id)
    if (
        referral is None
        or referral.requester_org_id != case.owner_org_id
        or referral.client_id != case.client_id
    ):
        raise _invalid(
            session,
            caller,
            case,
            "This is not a referral your organisation sent for this client.",
            "body.referral_id",
        )
    task.referral_id = referral.id
    task.responsible = Responsible.PARTNER.value
    task.responsible_org_id = referral.owner_org_id
    _set_status(session, task, _from_referral(referral.status), None)
    task.updated_by_org_id = caller.organisation_id
    session.flush()
    _audit(session, caller, "plan-task.write", case.client_id, task, referral=referral.id)
    return task_out(session, task, _names(session, [task.responsible_org_id]))


def _from_referral(status: str) -> TaskStatus:
    if status in ("draft", "requested"):
        return TaskStatus.REQUESTED
    if status == "entered-in-error":
        return TaskStatus.CANCELLED
    return TaskStatus(status)


def follow_referral(session: Session, referral: Referral) -> None:
    """Give the referral's status to the plan tasks it fulfils (in the same transaction)."""
    tasks = session.scalars(
        select(PlanTask).where(PlanTask.referral_id == referral.id).with_for_update()
    )
    for task in tasks:
        status = _from_referral(referral.status)
        if task.status != status.value:
            _set_status(session, task, status, None)
            task.updated_by_org_id = referral.owner_org_id


def move_plan(session: Session, case: Case, receiver_org_id: uuid.UUID, now: dt.datetime) -> None:
    """A handover moved the case: its plan is the receiver's from now on."""
    plan = session.scalars(select(Plan).where(Plan.case_id == case.id)).first()
    if plan is not None:
        plan.owner_org_id = receiver_org_id
        plan.updated_at = now


def task_to_refer(
    session: Session, caller: Caller, task_id: uuid.UUID
) -> tuple[PlanTask, dict[str, object]] | None:
    """A task of the caller's organisation's open case that a referral could fulfil (none
    linked yet), with what the referral carries of the goal it serves: its words, target
    date and status in the case summary's `goals` form. None otherwise (not audited: the
    referral form simply starts without it)."""
    if not access.does_case_work(caller):
        return None
    task = session.get(PlanTask, task_id)
    case = session.get(Case, task.case_id) if task else None
    if (
        task is None
        or case is None
        or case.owner_org_id != caller.organisation_id
        or case.status != CaseStatus.OPEN
        or task.referral_id is not None
    ):
        return None
    goal = session.get(Goal, task.goal_id)
    if goal is None:
        return None
    words = access.open_sealed(session, goal.client_id, "goal", goal.id, goal.sealed)
    carried: dict[str, object] = {
        "description": words.get("worker_words") or words.get("family_words") or "",
        "status": goal.lifecycle_status,
    }
    if goal.target_on is not None:
        carried["target_date"] = goal.target_on.isoformat()
    return task, carried
