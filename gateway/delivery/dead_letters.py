"""Dead letters: outbox work that failed for good, for operators to inspect and re-run.

Only hub admins (over the API) and operators with shell access (the CLI, actor
`system:cli`) see them; payloads hold ids only. Every re-run is audited.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kernel import audit, outbox
from kernel.caller import Caller
from kernel.db import utcnow
from kernel.errors import Conflict, NotFound, RefhubError

__all__ = ["OperatorOnly", "count", "get", "list_dead_letters", "retry"]

Actor = Caller | str  # a hub-admin caller, or "system:cli"


class OperatorOnly(RefhubError):
    status = 403
    code = "operator-only"
    title = "Forbidden"


def _check(actor: Actor) -> str:
    if isinstance(actor, str):
        return actor
    if not actor.is_hub_admin:
        raise OperatorOnly("Only hub admins may see or re-run dead letters.")
    return actor.actor


def list_dead_letters(
    session: Session, actor: Actor, *, task: str | None = None, limit: int = 50, offset: int = 0
) -> Sequence[outbox.OutboxEvent]:
    """Failed outbox events, newest first."""
    _check(actor)
    query = select(outbox.OutboxEvent).where(outbox.OutboxEvent.state == outbox.EventState.FAILED)
    if task is not None:
        query = query.where(outbox.OutboxEvent.task == task)
    query = query.order_by(outbox.OutboxEvent.created_at.desc()).limit(limit).offset(offset)
    return session.scalars(query).all()


def count(session: Session, actor: Actor, *, task: str | None = None) -> int:
    _check(actor)
    query = select(func.count()).where(outbox.OutboxEvent.state == outbox.EventState.FAILED)
    if task is not None:
        query = query.where(outbox.OutboxEvent.task == task)
    return int(session.scalar(query) or 0)


def get(session: Session, actor: Actor, event_id: uuid.UUID) -> outbox.OutboxEvent:
    _check(actor)
    event = session.get(outbox.OutboxEvent, event_id)
    if event is None:
        raise NotFound("No such outbox event.")
    return event


def retry(session: Session, actor: Actor, event_id: uuid.UUID) -> outbox.OutboxEvent:
    """Put a dead letter back in the queue with a fresh attempt budget (audited).

    Raises:
        NotFound: no such event.
        Conflict: the event is not a dead letter (it is pending, running or done).
    """
    who = _check(actor)
    event = session.get(outbox.OutboxEvent, event_id, with_for_update=True)
    if event is None:
        raise NotFound("No such outbox event.")
    if event.state != outbox.EventState.FAILED:
        raise Conflict(f"Only failed events are re-run; this one is {event.state}.")
    previous_attempts = event.attempts
    event.state, event.attempts, event.available_at = outbox.EventState.PENDING, 0, utcnow()
    audit.record(
        session,
        actor=who,
        action="outbox.retry",
        organisation=None if isinstance(actor, str) else str(actor.organisation_id),
        subject=f"OutboxEvent/{event.id}",
        detail={"task": event.task, "previous_attempts": previous_attempts},
    )
    return event
