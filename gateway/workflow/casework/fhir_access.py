"""Who reads what of a service plan over FHIR: the rule of `access`, for people and systems.

- Staff: case workers and supervisors, exactly as the JSON API (`access.does_case_work`).
- System clients act for their whole organisation and need the SMART scope of the type
  (`system/Goal.rs`, ...: `r` to read, `s` to search); missing it is a 403.
- The organisation holding the case (`Case.owner_org_id`) reads everything of its plan,
  open or closed. A partner reads, of open cases only, the goals it serves
  (`access.goals_shared_with`: consent decided now, for service coordination) with only its
  own tasks, and the needs and barriers those goals address whose own category the consent
  permits too. The disengagement plan and the barriers' strategies are the owner's.
- Everyone else gets the 404 an unknown id gets (the same error, audited as refused).
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.orm import Session

from adapters import DataCategory
from consent.decision import decide
from consent.models import Purpose
from gateway.auth.clients.scopes import scope_allows
from gateway.auth.models import Organisation
from gateway.workflow.casework import access, assessments, goals
from gateway.workflow.casework.models import Domain, Goal, Plan, PlanTask
from gateway.workflow.casework.schemas import GoalOut
from gateway.workflow.errors import ReferralNotFound, WorkflowError
from gateway.workflow.models import Case, CaseStatus, Referral
from kernel.caller import Caller, CallerKind

__all__ = [
    "Concern",
    "PlanReadForbidden",
    "View",
    "admit",
    "candidate_plans",
    "conditions_of",
    "not_found",
    "plan_id",
    "served_task_ids",
    "view_of",
]

#: At most this many plans are looked at by one search (narrow it with `patient=`).
PLAN_LIMIT = 200


class PlanReadForbidden(WorkflowError):
    """The caller may not read service plans over FHIR (no scope, or not a case worker)."""

    status = 403
    code = "forbidden"
    title = "Forbidden"
    keeps_writes = True  # the refusal is audited


def plan_id(value: str) -> uuid.UUID | None:
    """The case-work id in `value` if it is a canonical UUID (packet ids are 64 hex)."""
    try:
        parsed = uuid.UUID(value)
    except ValueError:
        return None
    return parsed if str(parsed) == value.lower() else None


def not_found(kind: str) -> ReferralNotFound:
    """The same 404 an unknown id of `kind` gets on the packet's routes."""
    return ReferralNotFound("No such referral." if kind == "Task" else f"No such {kind}.")


def admit(session: Session, caller: Caller, kind: str, letter: str, subject: str) -> None:
    """Let the caller read (`r`) or search (`s`) plan resources of `kind`, or refuse.

    Raises:
        PlanReadForbidden: a system client without the scope, or staff not doing case
            work (a search); ReferralNotFound: staff not doing case work (a read).
    """
    if caller.kind is CallerKind.CLIENT:
        if not scope_allows(caller.scopes, kind, letter):
            access.refused(session, caller, "plan.read", subject, "scope")
            raise PlanReadForbidden(f"Your access token has no {kind} scope for this.")
        return
    if not access.does_case_work(caller):
        access.refused(session, caller, "plan.read", subject, "role")
        if letter == "s":
            raise PlanReadForbidden("Only case workers and supervisors read service plans.")
        raise not_found(kind)


@dataclass
class View:
    """What the caller reads of one plan: all of it (owner) or the goals it serves."""

    plan: Plan
    case: Case
    owner: bool
    goals: list[Goal]
    permitted: set[DataCategory] = field(default_factory=set)  # partner: consent now
    _opened: dict[uuid.UUID, GoalOut] = field(default_factory=dict)

    def goal_out(self, session: Session, goal: Goal) -> GoalOut:
        if goal.id not in self._opened:
            self._opened[goal.id] = goals.goal_out(session, goal, [])
        return self._opened[goal.id]


def view_of(session: Session, caller: Caller, plan: Plan | None) -> View | None:
    """The caller's view of `plan`, or None if it may see nothing of it now."""
    if plan is None:
        return None
    case = session.get(Case, plan.case_id)
    if case is None:
        return None
    rows = list(
        session.scalars(select(Goal).where(Goal.plan_id == plan.id).order_by(Goal.created_at))
    )
    if case.owner_org_id == caller.organisation_id:
        return View(plan, case, True, rows)
    if case.status != CaseStatus.OPEN.value:
        return None
    permitted = access.goals_shared_with(session, caller, rows)
    visible = [g for g in rows if g.id in permitted]
    if not visible:
        return None
    return View(plan, case, False, visible, set(permitted.values()))


def _served(org: uuid.UUID | None) -> ColumnElement[bool]:
    return or_(PlanTask.responsible_org_id == org, Referral.owner_org_id == org)


def served_task_ids(session: Session, view: View, org: uuid.UUID | None) -> list[uuid.UUID]:
    """The ids of the plan tasks of the view's goals the caller reads, oldest first."""
    query = select(PlanTask.id).where(PlanTask.goal_id.in_([g.id for g in view.goals]))
    if not view.owner:
        query = query.outerjoin(Referral, Referral.id == PlanTask.referral_id).where(_served(org))
    return list(session.scalars(query.order_by(PlanTask.created_at)))


def candidate_plans(session: Session, caller: Caller, patients: list[uuid.UUID]) -> list[Plan]:
    """Plans a search looks at: the caller's organisation's, then those it serves a goal
    of (open cases), newest first, at most `PLAN_LIMIT` (views still decide what shows)."""
    org = caller.organisation_id
    owned = select(Plan).join(Case, Case.id == Plan.case_id).where(Case.owner_org_id == org)
    served = (
        select(Goal.plan_id)
        .join(PlanTask, PlanTask.goal_id == Goal.id)
        .outerjoin(Referral, Referral.id == PlanTask.referral_id)
        .join(Case, Case.id == Goal.case_id)
        .where(_served(org), Case.owner_org_id != org, Case.status == CaseStatus.OPEN.value)
    )
    shared = select(Plan).where(Plan.id.in_(served))
    if patients:
        owned = owned.where(Plan.client_id.in_(patients))
        shared = shared.where(Plan.client_id.in_(patients))
    out = list(session.scalars(owned.order_by(Plan.updated_at.desc()).limit(PLAN_LIMIT)))
    if len(out) < PLAN_LIMIT:
        more = shared.order_by(Plan.updated_at.desc()).limit(PLAN_LIMIT - len(out))
        out += list(session.scalars(more))
    return out


def _consented(
    session: Session, caller: Caller, client_id: uuid.UUID, wanted: set[DataCategory]
) -> set[DataCategory]:
    """Of `wanted`, the categories the client's consent permits to the caller now."""
    if not wanted:
        return set()
    organisation = session.get(Organisation, caller.organisation_id)
    decision = decide(
        session,
        caller,
        client_id=client_id,
        recipient_org_id=caller.organisation_id,
        recipient_org_type=organisation.org_type if organisation else None,
        purpose=Purpose.SERVICE_COORDINATION,
        categories=wanted,
    )
    return set(decision.permitted_categories)


@dataclass(frozen=True)
class Concern:
    """A need or barrier of the plan's latest assessment (a FHIR Condition)."""

    item: assessments.Item
    kind: str  # needs | barriers
    domain: Domain
    assessed_on: dt.date

    @property
    def id(self) -> uuid.UUID:
        assert self.item.id is not None
        return self.item.id


def conditions_of(session: Session, caller: Caller, view: View) -> list[Concern]:
    """The needs and barriers of the plan's latest assessment the caller reads: all of them
    for the owner; for a partner those its goals address whose category consent permits."""
    latest = assessments.latest(session, view.case.id)
    if latest is None:
        return []
    items = [
        Concern(item, kind, domain, latest.assessed_on)
        for domain, content in latest.domains.items()
        for kind in ("needs", "barriers")
        for item in getattr(content, kind)
        if item.id is not None
    ]
    if view.owner:
        return items
    addressed = {a for g in view.goals for a in view.goal_out(session, g).addresses}
    items = [c for c in items if c.id in addressed]
    wanted = {access.category_of(c.domain.value) for c in items} - view.permitted
    allowed = view.permitted | _consented(session, caller, view.plan.client_id, wanted)
    return [c for c in items if access.category_of(c.domain.value) in allowed]
