"""What the supervision and file-review API takes and answers."""

from __future__ import annotations

import datetime as dt
import enum
import uuid
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

__all__ = [
    "CHECK_CODES",
    "CaseworkReport",
    "CheckItem",
    "CheckResult",
    "DecisionIn",
    "DecisionKind",
    "DomainGoals",
    "FileReviewOut",
    "FindingsIn",
    "ItemFailures",
    "OverduePlan",
    "Person",
    "ReviewOut",
    "ReviewRequestIn",
    "SampleIn",
    "Subject",
]

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=4000)]
Optional = Annotated[str, StringConstraints(strip_whitespace=True, max_length=4000)]

#: The automatic checklist's item codes, in the order they are run (stable: reports and
#: clients key on them).
CHECK_CODES = (
    "intake",
    "consent",
    "assessment",
    "plan",
    "notes-against-plan",
    "reviews-on-time",
    "closure-continuation",
)


class Subject(enum.StrEnum):
    """What a supervisor is asked to review."""

    ASSESSMENT = "assessment"  # the case's latest assessment
    PLAN = "plan"  # the case's service plan
    CLOSURE = "closure"  # the case, which the worker intends to close


class DecisionKind(enum.StrEnum):
    APPROVED = "approved"
    RETURNED = "returned"


class CheckResult(enum.StrEnum):
    PASS = "pass"  # noqa: S105 - a checklist result, not a secret
    FAIL = "fail"
    NOT_APPLICABLE = "not-applicable"


class ReviewRequestIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    subject: Subject


class DecisionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    decision: DecisionKind
    comments: Optional | None = Field(
        None, description="What to change and why; required when the work is returned."
    )


class Person(BaseModel):
    id: uuid.UUID
    name: str


class ReviewOut(BaseModel):
    id: uuid.UUID
    case_id: uuid.UUID
    client_id: uuid.UUID
    subject: Subject
    subject_id: uuid.UUID
    requested_by: Person
    requested_at: dt.datetime
    decision: str  # pending | approved | returned
    decided_by: Person | None = None
    decided_at: dt.datetime | None = None
    comments: str | None = Field(None, description="Only where the case's own staff read it.")


class CheckItem(BaseModel):
    item: str = Field(description="One of the stable checklist codes.")
    result: CheckResult


class FileReviewOut(BaseModel):
    id: uuid.UUID
    case_id: uuid.UUID
    client_id: uuid.UUID
    kind: str  # automatic | sample
    period: str | None
    run_at: dt.datetime
    checklist: list[CheckItem]
    passed: bool
    status: str  # open | done
    reviewer: Person | None = None
    reviewed_at: dt.datetime | None = None
    findings: str | None = None
    corrective_actions: str | None = None


class SampleIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    period: Annotated[str, StringConstraints(pattern=r"^[1-9]\d{3}-(0[1-9]|1[0-2])$")] = Field(
        description="The month sampled, YYYY-MM; not after the current month."
    )


class FindingsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    findings: Text
    corrective_actions: Optional | None = None
    done: bool = Field(True, description="Mark the review done (no later changes).")


class DomainGoals(BaseModel):
    domain: str  # a Domain value, or "none"
    achieved: int
    open: int


class OverduePlan(BaseModel):
    case_id: uuid.UUID
    plan_id: uuid.UUID
    client_id: uuid.UUID
    next_review_on: dt.date
    days_overdue: int


class ItemFailures(BaseModel):
    item: str
    failing: int


class CaseworkReport(BaseModel):
    generated_at: dt.datetime
    goals_by_domain: list[DomainGoals]
    plans_overdue: list[OverduePlan]
    reviews_pending: int
    files_reviewed: int = Field(description="Open cases with an automatic file review.")
    files_failing: int
    failing_by_item: list[ItemFailures]
    samples: dict[str, int] = Field(description="Sampled reviews of the latest period by status.")
    sample_period: str | None
