"""What the service plan's API takes and answers: plan, goals, tasks and reviews."""

from __future__ import annotations

import datetime as dt
import enum
import uuid
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from gateway.workflow.casework.models import Domain, Responsible, TaskStatus

__all__ = [
    "Achievement",
    "Disengagement",
    "GoalIn",
    "GoalOut",
    "GoalUpdate",
    "Lifecycle",
    "PlanIn",
    "PlanOut",
    "Progress",
    "ReviewIn",
    "ReviewOut",
    "SharedGoal",
    "SharedNote",
    "Strategy",
    "TaskIn",
    "TaskOut",
    "TaskUpdate",
]

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]
Opt = Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000)]


class Lifecycle(enum.StrEnum):
    """FHIR R4 goal-status (lifecycleStatus)."""

    PROPOSED = "proposed"
    PLANNED = "planned"
    ACCEPTED = "accepted"
    ACTIVE = "active"
    ON_HOLD = "on-hold"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    ENTERED_IN_ERROR = "entered-in-error"
    REJECTED = "rejected"


#: Goals still being worked on: a case does not close while one is.
OPEN_LIFECYCLES = frozenset(
    {Lifecycle.PROPOSED, Lifecycle.PLANNED, Lifecycle.ACCEPTED, Lifecycle.ACTIVE, Lifecycle.ON_HOLD}
)


class Achievement(enum.StrEnum):
    """FHIR R4 goal-achievement (achievementStatus)."""

    IN_PROGRESS = "in-progress"
    IMPROVING = "improving"
    WORSENING = "worsening"
    NO_CHANGE = "no-change"
    ACHIEVED = "achieved"
    SUSTAINING = "sustaining"
    NOT_ACHIEVED = "not-achieved"
    NO_PROGRESS = "no-progress"
    NOT_ATTAINABLE = "not-attainable"


class Strategy(BaseModel):
    """A barrier's strategy, or a strength's use, by the assessment item's id."""

    model_config = ConfigDict(extra="forbid")

    item_id: uuid.UUID
    text: Text


class Disengagement(BaseModel):
    """When and how formal case management ends, and what the family needs to keep going."""

    model_config = ConfigDict(extra="forbid")

    ends_when: Opt = ""
    how: Opt = ""
    keep_going: Opt = ""


class PlanIn(BaseModel):
    """The plan's own parts (goals and tasks are added one by one)."""

    model_config = ConfigDict(extra="forbid")

    strategies: list[Strategy] = Field(
        default_factory=list, max_length=240, description="Each barrier with its strategy."
    )
    strength_uses: list[Strategy] = Field(
        default_factory=list, max_length=240, description="Each strength with how it is used."
    )
    disengagement: Disengagement = Field(default_factory=Disengagement)
    review_every_days: int | None = Field(
        None, ge=7, le=365, description="Default: the organisation's (90 days unless set)."
    )


class GoalIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    domain: Domain | None = Field(None, description="Required where the organisation says so.")
    target_on: dt.date | None = Field(None, description="Required where the organisation says so.")
    family_words: Opt = Field("", description="The goal in the family's own words.")
    worker_words: Opt = Field("", description="The goal as the worker words it.")
    measure: Opt = Field("", description="How progress is measured.")
    addresses: list[uuid.UUID] = Field(
        default_factory=list, max_length=50, description="Needs or barriers of the assessment."
    )


class GoalUpdate(BaseModel):
    """What changes on a goal (fields left out stay as they are)."""

    model_config = ConfigDict(extra="forbid")

    lifecycle_status: Lifecycle | None = None
    achievement_status: Achievement | None = None
    target_on: dt.date | None = None
    family_words: Opt | None = None
    worker_words: Opt | None = None
    measure: Opt | None = None


class TaskIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    description: Text
    responsible: Responsible = Responsible.ORGANISATION
    responsible_org_id: uuid.UUID | None = Field(
        None, description="The partner agency (only with responsible = partner)."
    )
    due_on: dt.date | None = None


class TaskUpdate(BaseModel):
    """A task's new status and a note on it; partners may send only these two."""

    model_config = ConfigDict(extra="forbid")

    status: TaskStatus
    status_note: Opt = ""


class ReviewIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reviewed_on: dt.date = Field(description="Not before the plan, not in the future.")
    what_changed: Text
    why: Text
    next_review_on: dt.date | None = Field(
        None, description="After reviewed_on. Default: reviewed_on plus the review period."
    )


class Progress(BaseModel):
    done: int
    total: int


class TaskOut(BaseModel):
    id: uuid.UUID
    goal_id: uuid.UUID
    description: str
    responsible: Responsible
    responsible_org_id: uuid.UUID | None
    responsible_org_name: str | None
    due_on: dt.date | None
    overdue: bool
    status: TaskStatus
    status_note: str
    referral_id: uuid.UUID | None
    referral_status: str | None
    updated_at: dt.datetime


class GoalOut(BaseModel):
    id: uuid.UUID
    plan_id: uuid.UUID
    domain: Domain | None
    category: str
    target_on: dt.date | None
    lifecycle_status: Lifecycle
    achievement_status: Achievement | None
    family_words: str
    worker_words: str
    measure: str
    addresses: list[uuid.UUID]
    progress: Progress
    tasks: list[TaskOut]


class ReviewOut(BaseModel):
    id: uuid.UUID
    reviewed_on: dt.date
    next_review_on: dt.date | None
    what_changed: str
    why: str
    author_name: str
    written_at: dt.datetime


class PlanOut(BaseModel):
    id: uuid.UUID
    case_id: uuid.UUID
    client_id: uuid.UUID
    owner_org_id: uuid.UUID
    assessment_id: uuid.UUID | None
    status: str
    review_every_days: int
    next_review_on: dt.date | None
    review_overdue: bool
    review_state: str
    strategies: list[Strategy]
    strength_uses: list[Strategy]
    disengagement: Disengagement
    barriers_without_strategy: list[uuid.UUID]
    goals: list[GoalOut]
    reviews: list[ReviewOut]
    created_at: dt.datetime


class SharedNote(BaseModel):
    """A case note the holding organisation shared through a goal the partner serves."""

    id: uuid.UUID
    contacted_at: dt.datetime
    kind: str
    text: str
    author_name: str


class SharedGoal(BaseModel):
    """A goal a partner serves, as its consent lets it see it, with its tasks and the
    notes shared through it (only while consent permits case notes too)."""

    goal: GoalOut
    client_id: uuid.UUID
    owner_org_id: uuid.UUID
    owner_org_name: str | None
    permitted_by: str = Field(description="The consent data category that permits the view.")
    notes: list[SharedNote] = Field(default_factory=list)
