"""`/delivery`: the pull inbox with acknowledgement, and delivery receipts for senders.

System clients need a `Task` scope (read for both: acknowledging is receipt of what was
read); staff need a case-work role. Everything is narrowed to the caller's organisation.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict

from gateway.auth.dependencies import CurrentCaller
from gateway.delivery import inbox
from gateway.delivery.dependencies import require_access
from gateway.dependencies import DbSession, RuntimeDep
from gateway.errors import error_responses

__all__ = ["router"]

router = APIRouter(prefix="/delivery", tags=["delivery"])


class InboxItemOut(BaseModel):
    message_id: uuid.UUID
    kind: str
    created_at: dt.datetime
    format: str
    envelope: str


class InboxPage(BaseModel):
    items: list[InboxItemOut]


class ReceiptOut(BaseModel):
    """A delivery receipt: facts about the delivery, never its content."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    kind: str
    referral_id: uuid.UUID | None
    sender_org_id: uuid.UUID | None
    recipient_org_id: uuid.UUID
    state: str
    channel_list: list[str]
    attempts: int
    created_at: dt.datetime
    first_attempt_at: dt.datetime | None
    last_attempt_at: dt.datetime | None
    delivered_at: dt.datetime | None
    acknowledged_at: dt.datetime | None
    last_status_code: int | None
    last_error: str | None
    cancel_reason: str | None


class ReceiptPage(BaseModel):
    items: list[ReceiptOut]


@router.get("/inbox", response_model=InboxPage, responses=error_responses(401, 403))
def get_inbox(
    caller: CurrentCaller,
    session: DbSession,
    runtime: RuntimeDep,
    limit: int = Query(default=20, ge=1, le=100),
) -> InboxPage:
    """Messages to your organisation not yet acknowledged, oldest first: each sealed to
    your directory key (`format: jwe`), or signed only (`jws`) if you registered none.
    De-duplicate on `message_id`, then acknowledge.

    The messages carry referral packets, so a system client needs what reading a packet
    needs: `Task` and `ServiceRequest` read scopes."""
    require_access(caller, "Task", "r")
    require_access(caller, "ServiceRequest", "r")
    items = inbox.fetch_inbox(
        session, caller, signing_key_path=runtime.settings.message_key_path, limit=limit
    )
    return InboxPage(items=[InboxItemOut(**vars(item)) for item in items])


@router.post(
    "/inbox/{message_id}/ack",
    response_model=ReceiptOut,
    responses=error_responses(401, 403, 404, 409),
)
def acknowledge(message_id: uuid.UUID, caller: CurrentCaller, session: DbSession) -> Any:
    """Acknowledge a message: it leaves the inbox (idempotent). Needs `Task` write scope."""
    require_access(caller, "Task", "u")
    return ReceiptOut.model_validate(inbox.acknowledge(session, caller, message_id=message_id))


@router.get("/messages", response_model=ReceiptPage, responses=error_responses(401, 403, 422))
def receipts(caller: CurrentCaller, session: DbSession, referral_id: uuid.UUID) -> ReceiptPage:
    """Delivery receipts of a referral's messages your organisation sent or receives."""
    require_access(caller, "Task", "r")
    messages = inbox.visible_receipts(session, caller, referral_id=referral_id)
    return ReceiptPage(items=[ReceiptOut.model_validate(m) for m in messages])
