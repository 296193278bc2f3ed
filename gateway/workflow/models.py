"""Referral and handover tables: the Task (one row per referral), its history, thread
messages, handover and case records, and per-organisation monitoring thresholds.

Client content (the minimised packet, thread text, outputs, handover notes) is stored only
sealed under the client's data key (`consent.clients.seal_for_client`); the columns here
that are in clear are the workflow facts the hub routes and monitors on: who, to whom,
which status, when.
"""

from __future__ import annotations

import datetime as dt
import enum
import uuid

import sqlalchemy as sa
from sqlalchemy import (
    JSON,
    Boolean,
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
    "Case",
    "CaseNote",
    "CaseStatus",
    "DraftStatus",
    "Handover",
    "Kind",
    "OrgThresholds",
    "Referral",
    "ReferralDraft",
    "ReferralEvent",
    "Status",
    "TaskVersion",
    "ThreadMessage",
]


class Kind(enum.StrEnum):
    REFERRAL = "referral"
    HANDOVER = "handover"


class Status(enum.StrEnum):
    """FHIR Task.status as the Gravity SDOH Clinical Care IG uses it."""

    DRAFT = "draft"
    REQUESTED = "requested"
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    IN_PROGRESS = "in-progress"
    ON_HOLD = "on-hold"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"
    ENTERED_IN_ERROR = "entered-in-error"


class CaseStatus(enum.StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class Referral(Base):
    """One referral or handover: the hub's Task, `focus` its ServiceRequest.

    `id` is the Task id; `service_request_id` and `packet_id` are the ids inside the stored
    packet. `version` is the Task's version (ETag `W/"<version>"`).
    """

    __tablename__ = "workflow_referral"
    __table_args__ = (
        UniqueConstraint("requester_org_id", "idempotency_key"),
        Index("ix_workflow_referral_owner_status", "owner_org_id", "status"),
        Index("ix_workflow_referral_requester_status", "requester_org_id", "status"),
        Index("ix_workflow_referral_status_authored", "status", "authored_on"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    kind: Mapped[str] = mapped_column(String(10), default=Kind.REFERRAL)
    packet_id: Mapped[uuid.UUID]
    service_request_id: Mapped[uuid.UUID]
    client_id: Mapped[uuid.UUID] = mapped_column(index=True)
    consent_id: Mapped[uuid.UUID] = mapped_column(index=True)
    decided_by_consent_version: Mapped[uuid.UUID | None]
    requester_org_id: Mapped[uuid.UUID]
    requester_actor: Mapped[str] = mapped_column(String(200))
    requester_assignee: Mapped[uuid.UUID | None]
    requester_team: Mapped[str | None] = mapped_column(String(100))
    owner_org_id: Mapped[uuid.UUID]
    owner_assignee: Mapped[uuid.UUID | None]
    owner_team: Mapped[str | None] = mapped_column(String(100))
    service_id: Mapped[uuid.UUID | None] = mapped_column(index=True)
    status: Mapped[str] = mapped_column(String(20), default=Status.REQUESTED)
    status_reason: Mapped[str | None] = mapped_column(String(40))
    status_reason_text: Mapped[str | None] = mapped_column(String(1000))
    business_status: Mapped[str | None] = mapped_column(String(10))
    priority: Mapped[str] = mapped_column(String(10), default="routine")
    do_not_contact: Mapped[bool] = mapped_column(Boolean, default=False)
    categories: Mapped[str] = mapped_column(String(300), default="")
    withheld: Mapped[str] = mapped_column(String(300), default="")
    service_codes: Mapped[list[str]] = mapped_column(JSON, default=list)
    packet: Mapped[bytes] = mapped_column(LargeBinary)
    outputs: Mapped[bytes | None] = mapped_column(LargeBinary)
    output_count: Mapped[int] = mapped_column(Integer, default=0)
    idempotency_key: Mapped[str | None] = mapped_column(String(200))
    request_digest: Mapped[str | None] = mapped_column(String(64))
    resent_from_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("workflow_referral.id"))
    version: Mapped[int] = mapped_column(Integer, default=1)
    authored_on: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)
    responded_at: Mapped[dt.datetime | None]
    accepted_at: Mapped[dt.datetime | None]
    started_at: Mapped[dt.datetime | None]
    closed_at: Mapped[dt.datetime | None]
    reminded_at: Mapped[dt.datetime | None]
    escalated_at: Mapped[dt.datetime | None]


class ReferralEvent(Base):
    """One step in a referral's life, in order: the closed loop's record of who did what."""

    __tablename__ = "workflow_referral_event"
    __table_args__ = (UniqueConstraint("referral_id", "seq"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    referral_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("workflow_referral.id"))
    seq: Mapped[int] = mapped_column(Integer)
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    actor: Mapped[str] = mapped_column(String(200))
    organisation_id: Mapped[uuid.UUID | None]
    action: Mapped[str] = mapped_column(String(40))
    from_status: Mapped[str | None] = mapped_column(String(20))
    to_status: Mapped[str | None] = mapped_column(String(20))
    business_status: Mapped[str | None] = mapped_column(String(10))
    reason: Mapped[str | None] = mapped_column(String(40))
    elapsed_seconds: Mapped[int | None] = mapped_column(Integer)


class TaskVersion(Base):
    """The referral's Task as FHIR JSON at one version (vread), sealed under the client's key.

    Written with every change that raises `Referral.version`; erasure makes it unreadable.
    """

    __tablename__ = "workflow_task_version"
    __table_args__ = (UniqueConstraint("referral_id", "version"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    referral_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("workflow_referral.id"))
    version: Mapped[int] = mapped_column(Integer)
    sealed: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class ThreadMessage(Base):
    """A message in a referral's conversation (FHIR Communication); text sealed."""

    __tablename__ = "workflow_message"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    referral_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("workflow_referral.id"), index=True)
    sender_org_id: Mapped[uuid.UUID]
    sender_actor: Mapped[str] = mapped_column(String(200))
    recipient_org_id: Mapped[uuid.UUID]
    in_response_to: Mapped[uuid.UUID | None]
    sealed: Mapped[bytes] = mapped_column(LargeBinary)
    document_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    sent_at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)


class Handover(Base):
    """What a handover transferred, by whom, when; first contact and closure."""

    __tablename__ = "workflow_handover"

    referral_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("workflow_referral.id"), primary_key=True
    )
    from_org_id: Mapped[uuid.UUID]
    to_org_id: Mapped[uuid.UUID]
    case_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("workflow_case.id"))
    first_contact_days: Mapped[int | None] = mapped_column(Integer)
    notes: Mapped[bytes | None] = mapped_column(LargeBinary)
    transferred_at: Mapped[dt.datetime | None]
    transferred_by: Mapped[str | None] = mapped_column(String(200))
    first_contact_due_at: Mapped[dt.datetime | None]
    first_contact_at: Mapped[dt.datetime | None]
    first_contact_flagged_at: Mapped[dt.datetime | None]
    closed_at: Mapped[dt.datetime | None]


class Case(Base):
    """An organisation's responsibility for a client, from engagement to closure."""

    __tablename__ = "workflow_case"
    __table_args__ = (Index("ix_workflow_case_owner_status", "owner_org_id", "status"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    client_id: Mapped[uuid.UUID] = mapped_column(index=True)
    owner_org_id: Mapped[uuid.UUID]
    opened_by_org_id: Mapped[uuid.UUID]
    status: Mapped[str] = mapped_column(String(10), default=CaseStatus.OPEN)
    stage: Mapped[str] = mapped_column(String(20), default="linking")
    opened_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    transferred_at: Mapped[dt.datetime | None]
    closed_at: Mapped[dt.datetime | None]
    closure_reason: Mapped[str | None] = mapped_column(String(40))
    closure: Mapped[bytes | None] = mapped_column(LargeBinary)


class CaseNote(Base):
    """A dated contact with the client, written by staff of the organisation holding the
    case (`gateway.workflow.notes`). Append-only: a correction is a new note naming the
    note it corrects. The text, who took part and the interpreter's language are sealed
    under the client's data key (`sealed`, context `case-note:<id>`); the rest is in clear.
    """

    __tablename__ = "workflow_case_note"
    __table_args__ = (Index("ix_workflow_case_note_client_org", "client_id", "organisation_id"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("workflow_case.id"), index=True)
    client_id: Mapped[uuid.UUID]
    organisation_id: Mapped[uuid.UUID]
    author_id: Mapped[uuid.UUID]
    author_name: Mapped[str] = mapped_column(String(200))
    contacted_at: Mapped[dt.datetime]
    kind: Mapped[str] = mapped_column(String(20))
    interpreter: Mapped[bool] = mapped_column(Boolean, default=False)
    duration_minutes: Mapped[int | None] = mapped_column(Integer)
    corrects_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("workflow_case_note.id"))
    sealed: Mapped[bytes] = mapped_column(LargeBinary)
    written_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    # The writer marked the note for partners serving a goal it links to (travels only
    # as the client's consent to "case-notes" permits, checked at every read).
    share_with_partners: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=sa.false()
    )


class OrgThresholds(Base):
    """An organisation's monitoring periods (hours; first contact in days); NULL = default."""

    __tablename__ = "workflow_org_thresholds"

    organisation_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    response_hours: Mapped[int | None] = mapped_column(Integer)
    start_hours: Mapped[int | None] = mapped_column(Integer)
    escalation_hours: Mapped[int | None] = mapped_column(Integer)
    first_contact_days: Mapped[int | None] = mapped_column(Integer)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class DraftStatus(enum.StrEnum):
    OPEN = "open"
    SENT = "sent"


class ReferralDraft(Base):
    """A referral or handover being composed in the web pages, not yet sent.

    The sender's working copy (`gateway.workflow.drafts`): kind, client, service and
    consent chosen so far in clear (routing facts, like a referral's), the case summary
    being written sealed under the client's data key, unminimised (it is the sender's own
    data). It becomes a referral only through `submit()`; then `referral_id` names it and
    the content is dropped, so the referral stays the one record of what was sent.
    """

    __tablename__ = "workflow_referral_draft"
    __table_args__ = (Index("ix_workflow_referral_draft_org_status", "organisation_id", "status"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    organisation_id: Mapped[uuid.UUID]
    author_id: Mapped[uuid.UUID | None]
    author_actor: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(10), default=Kind.REFERRAL)
    client_id: Mapped[uuid.UUID | None] = mapped_column(index=True)
    service_id: Mapped[uuid.UUID | None]
    consent_id: Mapped[uuid.UUID | None]
    content: Mapped[bytes | None] = mapped_column(LargeBinary)
    status: Mapped[str] = mapped_column(String(10), default=DraftStatus.OPEN)
    referral_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("workflow_referral.id"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
