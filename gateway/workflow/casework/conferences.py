"""Case conferences and family team meetings: when, who took part (agencies, family members,
their roles), what was decided, the actions agreed — each becomes a task of the plan with its
owner and due date — and the next meeting.

Recorded by the organisation holding the case. Every action is checked before anything is
written, so a refused conference leaves neither the meeting nor any of its tasks behind.
Participants and decisions are sealed under the client's key (context `conference:<id>`).
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints
from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.auth import people
from gateway.auth.models import Organisation, OrgStatus
from gateway.workflow.casework import access, assessments, plan_tasks, planning
from gateway.workflow.casework.models import CaseConference, Goal, Plan, PlanTask
from gateway.workflow.casework.schemas import TaskIn, TaskOut
from gateway.workflow.models import Case
from kernel.caller import Caller
from kernel.db import new_id, utcnow

__all__ = [
    "ActionIn",
    "ConferenceIn",
    "ConferenceOut",
    "Participant",
    "list_conferences",
    "record_conference",
]

Short = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=5000)]


class Participant(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Short = Field(description="A person's name, or 'Mother', 'Interpreter'…")
    role: Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)] = ""
    organisation_id: uuid.UUID | None = Field(
        None, description="The agency they came for (an active organisation of the network)."
    )
    family_member: bool = False


class ActionIn(TaskIn):
    """An agreed action: a task under one of the plan's goals."""

    goal_id: uuid.UUID


class ConferenceIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    held_on: dt.date = Field(description="Not in the future.")
    participants: list[Participant] = Field(min_length=1, max_length=40)
    decisions: Text
    actions: list[ActionIn] = Field(default_factory=list, max_length=40)
    next_meeting_on: dt.date | None = Field(None, description="After held_on.")


class ConferenceOut(BaseModel):
    id: uuid.UUID
    case_id: uuid.UUID
    held_on: dt.date
    next_meeting_on: dt.date | None
    participants: list[Participant]
    decisions: str
    actions: list[TaskOut]
    author_name: str
    written_at: dt.datetime


def _check(
    session: Session, caller: Caller, case_id: uuid.UUID, body: ConferenceIn
) -> tuple[Case, Plan]:
    """The case (locked) and its plan, once everything about the meeting and its actions
    is checked, before anything is written."""
    case, plan = planning.plan_for_write(session, caller, case_id, "conference.write")

    def refuse(detail: str, location: str) -> Exception:
        return planning.invalid(session, caller, "conference.write", case, detail, location)

    if body.held_on > assessments.today_anywhere():
        raise refuse("The meeting cannot be in the future.", "body.held_on")
    if body.next_meeting_on is not None and body.next_meeting_on <= body.held_on:
        raise refuse("The next meeting must be after this one.", "body.next_meeting_on")
    wanted = {p.organisation_id for p in body.participants if p.organisation_id}
    active = set(
        session.scalars(
            select(Organisation.id).where(
                Organisation.id.in_(wanted), Organisation.status == OrgStatus.ACTIVE
            )
        )
    )
    for index, person in enumerate(body.participants):
        if person.organisation_id is not None and person.organisation_id not in active:
            raise refuse(
                "This organisation is not an active member of the network.",
                f"body.participants.{index}.organisation_id",
            )
    goals = set(session.scalars(select(Goal.id).where(Goal.plan_id == plan.id)))
    for index, action in enumerate(body.actions):
        if action.goal_id not in goals:
            raise refuse("This is not a goal of this case's plan.", f"body.actions.{index}.goal_id")
        plan_tasks.check_task(session, caller, case, action, at=f"body.actions.{index}")
    return case, plan


def record_conference(
    session: Session, caller: Caller, case_id: uuid.UUID, body: ConferenceIn
) -> ConferenceOut:
    """Record a case conference and create its actions as plan tasks.

    Raises:
        Forbidden, CaseNotFound, CaseClosed, PlanItemNotFound (no plan yet),
        CaseworkInvalid (a meeting in the future, a next meeting not after it, an
        organisation or goal that is not right, an action `check_task` refuses).
    """
    case, _plan = _check(session, caller, case_id, body)
    author = people.names_of(session, [caller.actor]).get(caller.actor)
    conference = CaseConference(
        id=new_id(),
        case_id=case.id,
        client_id=case.client_id,
        organisation_id=case.owner_org_id,
        held_on=body.held_on,
        next_meeting_on=body.next_meeting_on,
        author_id=caller.id,
        author_name=author.name if author else caller.actor,
        written_at=utcnow(),
    )
    conference.sealed = access.seal(
        session,
        case.client_id,
        "conference",
        conference.id,
        {
            "participants": [p.model_dump(mode="json") for p in body.participants],
            "decisions": body.decisions,
        },
    )
    session.add(conference)
    session.flush()
    for action in body.actions:
        goal = session.get(Goal, action.goal_id)
        assert goal is not None  # checked above, under the case's lock
        task = TaskIn.model_validate(action.model_dump(exclude={"goal_id"}))
        plan_tasks.create_task(session, caller, case, goal, task, conference_id=conference.id)
    planning.audit_case(
        session,
        caller,
        "conference.write",
        case,
        conference=conference.id,
        actions=len(body.actions),
    )
    return _out(session, conference)


def _out(session: Session, conference: CaseConference) -> ConferenceOut:
    data = access.open_sealed(
        session, conference.client_id, "conference", conference.id, conference.sealed
    )
    rows = list(
        session.scalars(
            select(PlanTask)
            .where(PlanTask.conference_id == conference.id)
            .order_by(PlanTask.created_at)
        )
    )
    goal_ids = list(dict.fromkeys(t.goal_id for t in rows))
    actions = [t for t in plan_tasks.tasks_of(session, goal_ids) if t.id in {r.id for r in rows}]
    return ConferenceOut(
        id=conference.id,
        case_id=conference.case_id,
        held_on=conference.held_on,
        next_meeting_on=conference.next_meeting_on,
        participants=[Participant.model_validate(p) for p in data["participants"]],
        decisions=data["decisions"],
        actions=actions,
        author_name=conference.author_name,
        written_at=conference.written_at,
    )


def list_conferences(session: Session, caller: Caller, case_id: uuid.UUID) -> list[ConferenceOut]:
    """The case's conferences, latest meeting first (audited).

    Raises:
        Forbidden, CaseNotFound, ClientErased.
    """
    case = access.owned_case(session, caller, case_id, action="conference.read")
    rows = list(
        session.scalars(
            select(CaseConference)
            .where(CaseConference.case_id == case.id)
            .order_by(CaseConference.held_on.desc(), CaseConference.written_at.desc())
        )
    )
    planning.audit_case(session, caller, "conference.read", case, conferences=len(rows))
    return [_out(session, c) for c in rows]
