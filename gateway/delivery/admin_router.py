"""Operators' view of dead letters: `GET/POST /admin/outbox/dead-letters…` (hub admins)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict

from gateway.auth.dependencies import CurrentCaller
from gateway.delivery import dead_letters
from gateway.dependencies import DbSession
from gateway.errors import error_responses

__all__ = ["router"]

router = APIRouter(prefix="/admin/outbox", tags=["operations"])


class DeadLetterOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    task: str
    payload: dict[str, Any]
    state: str
    attempts: int
    last_error: str | None
    created_at: dt.datetime
    dispatched_at: dt.datetime | None


class DeadLetterPage(BaseModel):
    total: int
    items: list[DeadLetterOut]


@router.get("/dead-letters", response_model=DeadLetterPage, responses=error_responses(401, 403))
def list_dead_letters(
    caller: CurrentCaller,
    session: DbSession,
    task: str | None = None,
    limit: int = Query(default=50, ge=1, le=500),
    offset: int = Query(default=0, ge=0, le=10_000_000),
) -> DeadLetterPage:
    """Work that failed for good, newest first, with its last error."""
    items = dead_letters.list_dead_letters(session, caller, task=task, limit=limit, offset=offset)
    return DeadLetterPage(
        total=dead_letters.count(session, caller, task=task),
        items=[DeadLetterOut.model_validate(item) for item in items],
    )


@router.get(
    "/dead-letters/{event_id}",
    response_model=DeadLetterOut,
    responses=error_responses(401, 403, 404),
)
def get_dead_letter(event_id: uuid.UUID, caller: CurrentCaller, session: DbSession) -> Any:
    return DeadLetterOut.model_validate(dead_letters.get(session, caller, event_id))


@router.post(
    "/dead-letters/{event_id}/retry",
    response_model=DeadLetterOut,
    responses=error_responses(401, 403, 404, 409),
)
def retry_dead_letter(event_id: uuid.UUID, caller: CurrentCaller, session: DbSession) -> Any:
    """Queue the work again with a fresh attempt budget (audited)."""
    return DeadLetterOut.model_validate(dead_letters.retry(session, caller, event_id))
