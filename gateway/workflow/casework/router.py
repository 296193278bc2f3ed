"""Case work over HTTP: opening a case, the assessment, the service plan (goals, tasks,
reviews, the referral fulfilling a task) and the plans partner agencies serve.

Case workers and supervisors only. The organisation holding the case reads and writes it;
another organisation gets the case's 404. A partner updates only its own tasks and only
within the client's consent (403 `consent-not-permitting` otherwise). Refused input is a
422 naming the field; nothing is changed and the attempt is audited.
"""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Response
from pydantic import BaseModel, ConfigDict

from gateway.auth.dependencies import CurrentCaller
from gateway.dependencies import DbSession
from gateway.errors import error_responses
from gateway.workflow import cases
from gateway.workflow.casework import (
    assessments,
    conferences,
    goals,
    opening,
    plan_settings,
    plan_tasks,
    plans,
    reviews,
    shared,
)
from gateway.workflow.casework.assessments import AssessmentIn, AssessmentOut
from gateway.workflow.casework.conferences import ConferenceIn, ConferenceOut
from gateway.workflow.casework.errors import PlanItemNotFound
from gateway.workflow.casework.plan_settings import PlanSettingsIn, PlanSettingsOut
from gateway.workflow.casework.schemas import (
    GoalIn,
    GoalOut,
    GoalUpdate,
    PlanIn,
    PlanOut,
    ReviewIn,
    SharedGoal,
    TaskIn,
    TaskOut,
    TaskUpdate,
)
from gateway.workflow.schemas import CaseOut

__all__ = ["casework_router"]

casework_router = APIRouter(tags=["case work"])
_WRITE = error_responses(401, 403, 404, 409, 410, 422)


class CaseOpenIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    client_id: uuid.UUID


class ReferralLinkIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    referral_id: uuid.UUID


class AssessmentList(BaseModel):
    items: list[AssessmentOut]


class SharedList(BaseModel):
    items: list[SharedGoal]


class ConferenceList(BaseModel):
    items: list[ConferenceOut]


@casework_router.post(
    "/cases", response_model=CaseOut, status_code=201, responses=error_responses(401, 403, 404)
)
def open_case(
    body: CaseOpenIn, caller: CurrentCaller, session: DbSession, response: Response
) -> CaseOut:
    """Open your organisation's case for a client (engagement); 200 with the case already
    open, if there is one."""
    case, created = opening.open_case(session, caller, body.client_id)
    if not created:
        response.status_code = 200
    return cases.case_out(session, case)


@casework_router.get(
    "/cases/{case_id}/assessments",
    response_model=AssessmentList,
    responses=error_responses(401, 403, 404, 410),
)
def list_assessments(
    case_id: uuid.UUID, caller: CurrentCaller, session: DbSession
) -> AssessmentList:
    """The case's assessments, newest version first."""
    return AssessmentList(items=assessments.list_assessments(session, caller, case_id))


@casework_router.post(
    "/cases/{case_id}/assessments", response_model=AssessmentOut, status_code=201, responses=_WRITE
)
def record_assessment(
    case_id: uuid.UUID, body: AssessmentIn, caller: CurrentCaller, session: DbSession
) -> AssessmentOut:
    """Record the assessment, or a reassessment (the next version). Keep an item's `id` to
    say it is the same strength, need or barrier as in the previous version."""
    return assessments.record_assessment(session, caller, case_id, body)


@casework_router.get(
    "/cases/{case_id}/plan", response_model=PlanOut, responses=error_responses(401, 403, 404, 410)
)
def read_plan(case_id: uuid.UUID, caller: CurrentCaller, session: DbSession) -> PlanOut:
    """The case's service plan: strategies, strengths' uses, disengagement plan, goals with
    their tasks and progress, reviews. 404 `plan-item-not-found` before it is written."""
    plan = plans.read_plan(session, caller, case_id)
    if plan is None:
        raise PlanItemNotFound("The case has no plan yet.")
    return plan


@casework_router.put("/cases/{case_id}/plan", response_model=PlanOut, responses=_WRITE)
def put_plan(
    case_id: uuid.UUID, body: PlanIn, caller: CurrentCaller, session: DbSession
) -> PlanOut:
    """Write the plan's own parts (created the first time); goals and tasks stay."""
    return plans.put_plan(session, caller, case_id, body)


@casework_router.post(
    "/cases/{case_id}/plan/goals", response_model=GoalOut, status_code=201, responses=_WRITE
)
def add_goal(
    case_id: uuid.UUID, body: GoalIn, caller: CurrentCaller, session: DbSession
) -> GoalOut:
    """Add a goal. Its domain decides the consent category partners see it under."""
    return goals.add_goal(session, caller, case_id, body)


@casework_router.patch(
    "/cases/{case_id}/plan/goals/{goal_id}", response_model=GoalOut, responses=_WRITE
)
def update_goal(
    case_id: uuid.UUID,
    goal_id: uuid.UUID,
    body: GoalUpdate,
    caller: CurrentCaller,
    session: DbSession,
) -> GoalOut:
    """Change a goal's lifecycle or achievement status, target date or words."""
    return goals.update_goal(session, caller, case_id, goal_id, body)


@casework_router.post(
    "/cases/{case_id}/plan/goals/{goal_id}/tasks",
    response_model=TaskOut,
    status_code=201,
    responses=_WRITE,
)
def add_task(
    case_id: uuid.UUID, goal_id: uuid.UUID, body: TaskIn, caller: CurrentCaller, session: DbSession
) -> TaskOut:
    """Add a task under a goal: your organisation's, a partner agency's, or the family's."""
    return plan_tasks.add_task(session, caller, case_id, goal_id, body)


@casework_router.put(
    "/cases/{case_id}/plan/tasks/{task_id}/referral", response_model=TaskOut, responses=_WRITE
)
def link_referral(
    case_id: uuid.UUID,
    task_id: uuid.UUID,
    body: ReferralLinkIn,
    caller: CurrentCaller,
    session: DbSession,
) -> TaskOut:
    """Name the referral (sent by your organisation for this client) that fulfils the task:
    the receiver becomes its partner and the task follows the referral's status."""
    return plan_tasks.link_referral(session, caller, case_id, task_id, body.referral_id)


@casework_router.post(
    "/cases/{case_id}/plan/reviews", response_model=PlanOut, status_code=201, responses=_WRITE
)
def add_review(
    case_id: uuid.UUID, body: ReviewIn, caller: CurrentCaller, session: DbSession
) -> PlanOut:
    """Record a review of the plan (what changed and why) and the next review date."""
    return plans.plan_out(session, reviews.add_review(session, caller, case_id, body))


@casework_router.patch("/plan-tasks/{task_id}", response_model=TaskOut, responses=_WRITE)
def update_task(
    task_id: uuid.UUID, body: TaskUpdate, caller: CurrentCaller, session: DbSession
) -> TaskOut:
    """Update a task's status and note: the organisation holding the case, or the partner
    agency serving the task while the client's consent permits the goal's category."""
    return plan_tasks.update_task(session, caller, task_id, body)


@casework_router.get(
    "/shared-plans", response_model=SharedList, responses=error_responses(401, 403)
)
def shared_plans(
    caller: CurrentCaller, session: DbSession, client_id: uuid.UUID | None = None
) -> SharedList:
    """The goals your organisation serves in other organisations' plans, with your own
    tasks and the goal's progress, as each client's consent permits now."""
    return SharedList(items=shared.shared_goals(session, caller, client_id=client_id))


@casework_router.get(
    "/cases/{case_id}/conferences",
    response_model=ConferenceList,
    responses=error_responses(401, 403, 404, 410),
)
def list_conferences(
    case_id: uuid.UUID, caller: CurrentCaller, session: DbSession
) -> ConferenceList:
    """The case's conferences and family team meetings, latest first."""
    return ConferenceList(items=conferences.list_conferences(session, caller, case_id))


@casework_router.post(
    "/cases/{case_id}/conferences",
    response_model=ConferenceOut,
    status_code=201,
    responses=_WRITE,
)
def record_conference(
    case_id: uuid.UUID, body: ConferenceIn, caller: CurrentCaller, session: DbSession
) -> ConferenceOut:
    """Record a case conference: participants, decisions, the next meeting, and the agreed
    actions, each created as a task of the plan (all checked first: nothing is written if
    one is refused)."""
    return conferences.record_conference(session, caller, case_id, body)


@casework_router.get(
    "/workflow/plan-settings", response_model=PlanSettingsOut, responses=error_responses(401)
)
def read_plan_settings(caller: CurrentCaller, session: DbSession) -> PlanSettingsOut:
    """Your organisation's planning rules: review period, what every goal must state."""
    return plan_settings.read_settings(session, caller)


@casework_router.put(
    "/workflow/plan-settings",
    response_model=PlanSettingsOut,
    responses=error_responses(401, 403, 422),
)
def update_plan_settings(
    body: PlanSettingsIn, caller: CurrentCaller, session: DbSession
) -> PlanSettingsOut:
    """Set your organisation's planning rules (org admins). They apply to plans and goals
    written from then on."""
    return plan_settings.update_settings(session, caller, body)
