"""Case-work tables: assessments, service plans (goals, tasks, reviews), note links,
case conferences, supervision reviews, file reviews and per-organisation plan settings.

As for referrals, what the client said and what the worker wrote is stored only sealed
under the client's data key (`sealed`, context `<kind>:<row id>`); the columns in clear are
the facts the hub routes, shares, schedules and checks quality on: whose, which domain,
which status, when, who is responsible.
"""

from __future__ import annotations

import datetime as dt
import enum
import uuid

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from kernel.db import Base, new_id, utcnow

__all__ = [
    "Assessment",
    "CaseConference",
    "CaseNoteLink",
    "Domain",
    "FileReview",
    "Goal",
    "OrgPlanSettings",
    "Plan",
    "PlanReview",
    "PlanTask",
    "Responsible",
    "ReviewState",
    "RiskFlag",
    "SupervisionReview",
    "TaskStatus",
]


class Domain(enum.StrEnum):
    """Life domains of an assessment and of goals."""

    SAFETY = "safety"
    HOUSING = "housing"
    INCOME_EMPLOYMENT = "income-employment"
    HEALTH = "health"
    EDUCATION_LANGUAGE = "education-language"
    LEGAL_DOCUMENTATION = "legal-documentation"
    FAMILY_SOCIAL = "family-social"
    CHILD_DEVELOPMENT = "child-development"


class RiskFlag(enum.StrEnum):
    """Risk and crisis flags that raise a case's intensity."""

    DOMESTIC_VIOLENCE = "domestic-violence"
    HOMELESSNESS = "homelessness"
    CHILD_PROTECTION = "child-protection"


class ReviewState(enum.StrEnum):
    """Where an assessment, a plan or a closure stands with the supervisor."""

    DRAFT = "draft"
    SUBMITTED = "submitted"
    APPROVED = "approved"
    RETURNED = "returned"


class Responsible(enum.StrEnum):
    """Who carries out a plan task."""

    ORGANISATION = "organisation"  # the organisation holding the plan
    PARTNER = "partner"  # a named partner agency (responsible_org_id)
    FAMILY = "family"  # the client or family themselves


class TaskStatus(enum.StrEnum):
    """A plan task's status (a subset of FHIR R4 task-status)."""

    REQUESTED = "requested"
    ACCEPTED = "accepted"
    IN_PROGRESS = "in-progress"
    ON_HOLD = "on-hold"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    REJECTED = "rejected"
    FAILED = "failed"


class Assessment(Base):
    """One version of the assessment of a client (and the family taking part) on a case.

    Sealed: per domain the strengths, needs and barriers (each with an id the plan refers
    to), who took part and the family's own view. In clear: version, dates, intensity
    (from the risk flags) and the supervisor's review state.
    """

    __tablename__ = "workflow_assessment"
    __table_args__ = (UniqueConstraint("case_id", "version"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("workflow_case.id"), index=True)
    client_id: Mapped[uuid.UUID] = mapped_column(index=True)
    organisation_id: Mapped[uuid.UUID]
    version: Mapped[int] = mapped_column(Integer, default=1)
    supersedes_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("workflow_assessment.id"))
    assessed_on: Mapped[dt.date] = mapped_column(Date)
    reassess_on: Mapped[dt.date | None] = mapped_column(Date)
    intensity: Mapped[str] = mapped_column(String(10), default="standard")
    risk_flags: Mapped[int] = mapped_column(Integer, default=0)  # how many, not which
    review_state: Mapped[str] = mapped_column(String(10), default=ReviewState.DRAFT)
    author_id: Mapped[uuid.UUID]
    author_name: Mapped[str] = mapped_column(String(200))
    written_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    sealed: Mapped[bytes] = mapped_column(LargeBinary)


class Plan(Base):
    """The service plan of a case: one per case, owned by the organisation holding it.

    Sealed: each barrier's strategy, each strength's use, the disengagement plan. In
    clear: owner, the assessment it starts from, the review schedule and review state.
    """

    __tablename__ = "workflow_plan"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("workflow_case.id"), unique=True)
    client_id: Mapped[uuid.UUID] = mapped_column(index=True)
    owner_org_id: Mapped[uuid.UUID] = mapped_column(index=True)
    assessment_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("workflow_assessment.id"))
    status: Mapped[str] = mapped_column(String(10), default="active")  # active | closed
    review_every_days: Mapped[int] = mapped_column(Integer, default=90)
    next_review_on: Mapped[dt.date | None] = mapped_column(Date)
    review_state: Mapped[str] = mapped_column(String(10), default=ReviewState.DRAFT)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    sealed: Mapped[bytes] = mapped_column(LargeBinary)


class Goal(Base):
    """A goal of a plan (FHIR Goal). Sealed: the family's words, the worker's words, the
    measure of progress and what it addresses (assessment item ids). In clear: domain, the
    data category it is shared under, target date, FHIR lifecycle and achievement status.
    """

    __tablename__ = "workflow_goal"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    plan_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("workflow_plan.id"), index=True)
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("workflow_case.id"))
    client_id: Mapped[uuid.UUID] = mapped_column(index=True)
    domain: Mapped[str | None] = mapped_column(String(30))
    category: Mapped[str] = mapped_column(String(20))
    target_on: Mapped[dt.date | None] = mapped_column(Date)
    lifecycle_status: Mapped[str] = mapped_column(String(20), default="active")
    achievement_status: Mapped[str | None] = mapped_column(String(20))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    sealed: Mapped[bytes] = mapped_column(LargeBinary)


class PlanTask(Base):
    """A task under a goal (FHIR Task): who carries it out, by when, its status, and the
    referral that fulfils it, if any. Sealed: the description and the latest status note.
    """

    __tablename__ = "workflow_plan_task"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    plan_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("workflow_plan.id"), index=True)
    goal_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("workflow_goal.id"), index=True)
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("workflow_case.id"))
    client_id: Mapped[uuid.UUID]
    responsible: Mapped[str] = mapped_column(String(15), default=Responsible.ORGANISATION)
    responsible_org_id: Mapped[uuid.UUID | None] = mapped_column(index=True)
    due_on: Mapped[dt.date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(20), default=TaskStatus.REQUESTED)
    referral_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("workflow_referral.id"), index=True
    )
    conference_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("workflow_conference.id"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_by_org_id: Mapped[uuid.UUID | None]
    sealed: Mapped[bytes] = mapped_column(LargeBinary)


class PlanReview(Base):
    """A recorded review of a plan: when, by whom, what changed and why (sealed)."""

    __tablename__ = "workflow_plan_review"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    plan_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("workflow_plan.id"), index=True)
    organisation_id: Mapped[uuid.UUID]
    reviewed_on: Mapped[dt.date] = mapped_column(Date)
    next_review_on: Mapped[dt.date | None] = mapped_column(Date)
    author_id: Mapped[uuid.UUID]
    author_name: Mapped[str] = mapped_column(String(200))
    written_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    sealed: Mapped[bytes] = mapped_column(LargeBinary)


class CaseNoteLink(Base):
    """A case note's link to a goal or a task of the plan (the note shows progress on it)."""

    __tablename__ = "workflow_case_note_link"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    note_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("workflow_case_note.id"), index=True)
    goal_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("workflow_goal.id"), index=True)
    task_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("workflow_plan_task.id"))


class CaseConference(Base):
    """A case conference or family team meeting. Sealed: participants (agencies, family
    members, roles) and decisions; its actions are plan tasks (`PlanTask.conference_id`).
    """

    __tablename__ = "workflow_conference"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("workflow_case.id"), index=True)
    client_id: Mapped[uuid.UUID]
    organisation_id: Mapped[uuid.UUID]
    held_on: Mapped[dt.date] = mapped_column(Date)
    next_meeting_on: Mapped[dt.date | None] = mapped_column(Date)
    author_id: Mapped[uuid.UUID]
    author_name: Mapped[str] = mapped_column(String(200))
    written_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    sealed: Mapped[bytes] = mapped_column(LargeBinary)


class SupervisionReview(Base):
    """A supervisor's review of an assessment, a plan or a closure: asked for, then
    approved or returned. Sealed: the supervisor's comments (under the client's key)."""

    __tablename__ = "workflow_supervision"
    __table_args__ = (Index("ix_workflow_supervision_org_decision", "organisation_id", "decision"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    organisation_id: Mapped[uuid.UUID]
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("workflow_case.id"), index=True)
    client_id: Mapped[uuid.UUID]
    subject_kind: Mapped[str] = mapped_column(String(12))  # assessment | plan | closure
    subject_id: Mapped[uuid.UUID]
    requested_by_id: Mapped[uuid.UUID]
    requested_by_name: Mapped[str] = mapped_column(String(200))
    requested_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    decision: Mapped[str] = mapped_column(String(10), default="pending")
    decided_by_id: Mapped[uuid.UUID | None]
    decided_by_name: Mapped[str | None] = mapped_column(String(200))
    decided_at: Mapped[dt.datetime | None]
    sealed: Mapped[bytes | None] = mapped_column(LargeBinary)


class FileReview(Base):
    """A file review of a case: the automatic checklist run, or a monthly sample for manual
    review. `checklist` holds item codes and results only (no client data); the
    reviewer's findings and corrective actions are sealed."""

    __tablename__ = "workflow_file_review"
    __table_args__ = (
        Index("ix_workflow_file_review_org_kind", "organisation_id", "kind", "period"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    organisation_id: Mapped[uuid.UUID]
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("workflow_case.id"), index=True)
    client_id: Mapped[uuid.UUID]
    kind: Mapped[str] = mapped_column(String(10))  # automatic | sample
    period: Mapped[str | None] = mapped_column(String(7))  # YYYY-MM for a monthly sample
    run_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    checklist: Mapped[list[dict[str, object]]] = mapped_column(JSON, default=list)
    passed: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(10), default="open")  # open | done
    reviewer_id: Mapped[uuid.UUID | None]
    reviewer_name: Mapped[str | None] = mapped_column(String(200))
    reviewed_at: Mapped[dt.datetime | None]
    sealed: Mapped[bytes | None] = mapped_column(LargeBinary)


class OrgPlanSettings(Base):
    """An organisation's case-planning rules: review schedule, what a goal must state."""

    __tablename__ = "workflow_org_plan_settings"

    organisation_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    review_every_days: Mapped[int] = mapped_column(Integer, default=90)
    goal_domain_required: Mapped[bool] = mapped_column(Boolean, default=True)
    goal_target_required: Mapped[bool] = mapped_column(Boolean, default=True)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
