"""The shapes of the supervisor figures (`gateway.workflow.stats` computes them): the
report's side and narrowing, and what it answers, as the reports API and the team console
show it."""

from __future__ import annotations

import datetime as dt
import enum
import uuid
from dataclasses import dataclass, field

from gateway.workflow.errors import WorkflowError

__all__ = [
    "Attention",
    "Durations",
    "Figures",
    "HandoverFigures",
    "InvalidWindow",
    "Narrowing",
    "OrgFigures",
    "ReasonCount",
    "Side",
]


class InvalidWindow(WorkflowError):
    """The report's window is empty (`since` not before `until`)."""

    status = 422
    code = "invalid-window"
    title = "Invalid report window"


class Side(enum.StrEnum):
    SENT = "sent"
    RECEIVED = "received"


@dataclass(frozen=True)
class Narrowing:
    """Only the referrals with this counterpart organisation (the receiver of what was
    sent, the sender of what was received), assigned on the caller's side to this staff
    member (or to nobody: `unassigned`), of this kind. Ignored for the network scope."""

    counterpart: uuid.UUID | None = None
    assignee: uuid.UUID | None = None
    unassigned: bool = False
    kind: str | None = None


@dataclass
class OrgFigures:
    """Counts for one other organisation (receiver or sender, see `Figures.grouped_by`)."""

    organisation_id: uuid.UUID
    name: str | None
    total: int
    open: int
    by_status: dict[str, int]


@dataclass
class ReasonCount:
    status: str
    reason: str  # a REASONS code, or "unspecified" (free text only)
    count: int
    organisation_id: uuid.UUID | None = None  # the receiver, in `reasons_by_receiver`
    name: str | None = None


@dataclass
class Durations:
    """Hours from submission to a step: how many did it, median and 90th percentile
    (nearest rank) over the newest `sample` of them."""

    count: int
    sample: int
    median_hours: float | None
    p90_hours: float | None


@dataclass
class HandoverFigures:
    total: int
    transferred: int
    first_contact_made: int
    first_contact_overdue: int


@dataclass
class Attention:
    """An open referral needing attention: ids and workflow facts only."""

    id: uuid.UUID
    kind: str
    status: str
    why: str  # escalated | reminded | first-contact-overdue
    age_hours: float
    reminded_at: dt.datetime | None
    escalated_at: dt.datetime | None
    counterpart_id: uuid.UUID
    counterpart: str | None


@dataclass
class Figures:
    scope: str  # organisation | network
    organisation_id: uuid.UUID | None
    side: str
    grouped_by: str  # receiver | sender: what `by_organisation` is keyed by
    since: dt.datetime | None
    until: dt.datetime | None
    generated_at: dt.datetime
    total: int
    by_status: dict[str, int]
    by_kind: dict[str, int]
    by_organisation: list[OrgFigures]
    open_age: dict[str, int]
    reasons: list[ReasonCount]
    reasons_by_receiver: list[ReasonCount]
    time_to_response: Durations
    time_to_acceptance: Durations
    handovers: HandoverFigures
    attention_count: int
    attention: list[Attention] = field(default_factory=list)
