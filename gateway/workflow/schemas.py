"""JSON shapes of the referral API (the web UI and agencies without FHIR use these)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "AssignIn",
    "CaseCloseIn",
    "CaseOut",
    "EventOut",
    "HandoverOut",
    "MessageIn",
    "MessageOut",
    "OrgRef",
    "OutputIn",
    "ReferralList",
    "ReferralOut",
    "ResendIn",
    "StatusIn",
    "ThresholdsIn",
    "ThresholdsOut",
]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class OrgRef(BaseModel):
    id: uuid.UUID
    name: str | None = None


class HandoverOut(BaseModel):
    from_organisation: OrgRef
    to_organisation: OrgRef
    case_id: uuid.UUID | None
    transferred_at: dt.datetime | None
    transferred_by: str | None
    first_contact_days: int | None
    first_contact_due_at: dt.datetime | None
    first_contact_at: dt.datetime | None
    closed_at: dt.datetime | None
    open_goals: list[str] | None = Field(
        None, description="Open service-plan goals transferred (readable under consent)."
    )
    next_steps: str | None = None


class ReferralOut(BaseModel):
    id: uuid.UUID = Field(description="The Task id (also `/fhir/Task/{id}`).")
    kind: Literal["referral", "handover"]
    status: str
    status_reason: str | None
    status_reason_text: str | None
    business_status: str | None
    business_status_display: str | None
    priority: str
    do_not_contact: bool = Field(description="Do not contact the client directly.")
    client_id: uuid.UUID
    consent_id: uuid.UUID
    requester: OrgRef
    owner: OrgRef
    service: OrgRef | None
    your_side: Literal["requester", "owner"]
    allowed_moves: list[str]
    disclosed_categories: list[str]
    withheld_categories: list[str]
    service_codes: list[str]
    output_count: int
    version: int
    authored_on: dt.datetime
    updated_at: dt.datetime
    responded_at: dt.datetime | None
    accepted_at: dt.datetime | None
    closed_at: dt.datetime | None
    resent_from: uuid.UUID | None
    requester_assignee: uuid.UUID | None
    owner_assignee: uuid.UUID | None
    owner_team: str | None
    handover: HandoverOut | None = None


class ReferralList(BaseModel):
    items: list[ReferralOut]
    total: int
    page: int
    per_page: int


class OutputIn(_In):
    description: str = Field(min_length=1, max_length=500)
    code: dict[str, str] | None = Field(None, description="A Coding, e.g. SNOMED CT.")
    performed: str | None = Field(None, pattern=r"^\d{4}-\d{2}-\d{2}(T.*)?$")
    outcome: str | None = Field(None, max_length=500)


class StatusIn(_In):
    status: str | None = Field(None, description="The new Task.status (omit to keep).")
    reason: str | None = Field(None, description="A reason code (see docs/workflow.md).")
    reason_text: str | None = Field(None, max_length=1000)
    business_status: str | None = Field(None, description="A BSeR code, e.g. 5.1.1.")
    outputs: list[OutputIn] | None = Field(
        None, description="What was done (receiver); required to complete (Gravity refer-9)."
    )


class AssignIn(_In):
    assignee: uuid.UUID | None = None
    team: str | None = Field(None, max_length=100)


class ResendIn(_In):
    service_id: uuid.UUID
    idempotency_key: str | None = Field(None, max_length=200)


class EventOut(BaseModel):
    seq: int
    at: dt.datetime
    actor: str
    organisation_id: uuid.UUID | None
    action: str
    from_status: str | None
    to_status: str | None
    business_status: str | None
    reason: str | None
    elapsed_seconds: int | None


class MessageIn(_In):
    text: str = Field(min_length=1, max_length=10000)
    in_response_to: uuid.UUID | None = None
    document_ids: list[uuid.UUID] = Field(default_factory=list, max_length=10)


class MessageOut(BaseModel):
    id: uuid.UUID
    referral_id: uuid.UUID
    sender: OrgRef
    recipient: OrgRef
    sent_at: dt.datetime
    text: str
    in_response_to: uuid.UUID | None
    document_ids: list[uuid.UUID]


class CaseCloseIn(_In):
    reason: Literal[
        "goals-met",
        "client-disengaged",
        "client-moved",
        "transferred",
        "client-declined",
        "deceased",
        "other",
    ]
    outcome: str = Field(min_length=1, max_length=4000)
    continuation_plan: str = Field(min_length=1, max_length=4000)


class CaseOut(BaseModel):
    id: uuid.UUID
    client_id: uuid.UUID
    owner: OrgRef
    opened_by: OrgRef
    status: str
    stage: str
    opened_at: dt.datetime
    transferred_at: dt.datetime | None
    closed_at: dt.datetime | None
    closure_reason: str | None
    closure: dict[str, Any] | None = None


class ThresholdsIn(_In):
    response_hours: int | None = Field(None, ge=1, le=24 * 60)
    start_hours: int | None = Field(None, ge=1, le=24 * 60)
    escalation_hours: int | None = Field(None, ge=1, le=24 * 60)
    first_contact_days: int | None = Field(None, ge=1, le=90)


class ThresholdsOut(BaseModel):
    organisation_id: uuid.UUID
    response_hours: int
    start_hours: int
    escalation_hours: int
    first_contact_days: int
    defaults: dict[str, int]
