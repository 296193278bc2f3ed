"""One organisation's delivery health, for its own administrators (and hub admins): when a
message to it last arrived, the pushes that failed lately and why, and how many messages to
it are still waiting. Read-only; `gateway.delivery.network_health` is the hub-wide view.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from gateway.delivery.errors import NotPermitted
from gateway.delivery.models import DeliveryAttempt, MessageState, OutgoingMessage
from kernel.caller import Caller, Role
from kernel.db import utcnow

__all__ = ["FAILURE_WINDOW", "FailedPush", "OrganisationDeliveryHealth", "endpoint_health"]

#: How far back failed pushes and given-up messages are counted.
FAILURE_WINDOW = dt.timedelta(days=7)
#: How many of the latest failed pushes are listed.
RECENT_FAILURES = 5
_READERS = (Role.ORG_ADMIN, Role.SUPERVISOR)


@dataclass(frozen=True)
class FailedPush:
    """One push to the organisation that did not deliver (an error code, never content)."""

    at: dt.datetime
    channel: str  # webhook, fhir-rest, subscription
    target: str  # `Endpoint/<id>` or `Subscription/<id>`
    status_code: int | None  # the receiver's HTTP answer, if it answered
    error: str | None  # `http-503`, `timeout`, `connect-error`...
    outcome: str  # retry (it will be tried again) or refused (given up)


@dataclass(frozen=True)
class OrganisationDeliveryHealth:
    """What the hub knows of deliveries to one organisation.

    - `last_delivered_at`: when a message to it was last delivered (a push answered 2xx, or
      its inbox fetch was acknowledged); None: never.
    - `failures`: pushes to it that did not deliver within `window`.
    - `recent`: the latest of those failed pushes (at most `RECENT_FAILURES`), newest first.
    - `given_up`: messages to it that failed for good (refused, or retries ran out) within
      `window`: they wait in its inbox only.
    - `backlog`: messages to it not yet delivered (queued, being retried, or waiting in its
      inbox); `oldest_waiting_at`: when the oldest of them was created.
    """

    organisation_id: uuid.UUID
    window: dt.timedelta
    last_delivered_at: dt.datetime | None
    failures: int
    given_up: int
    backlog: int
    oldest_waiting_at: dt.datetime | None
    recent: list[FailedPush] = field(default_factory=list)

    @property
    def failing(self) -> bool:
        """The latest push failed after the last delivery (or nothing was ever delivered)."""
        if not self.recent:
            return False
        return self.last_delivered_at is None or self.recent[0].at > self.last_delivered_at


def _may_read(caller: Caller, organisation_id: uuid.UUID) -> None:
    if caller.is_hub_admin:
        return
    if caller.organisation_id != organisation_id or not caller.has_role(*_READERS):
        raise NotPermitted("Only the organisation's administrators see its delivery health.")


def endpoint_health(
    session: Session,
    caller: Caller,
    organisation_id: uuid.UUID,
    *,
    now: dt.datetime | None = None,
) -> OrganisationDeliveryHealth:
    """The delivery figures of messages addressed to `organisation_id` (see
    `OrganisationDeliveryHealth`). Its org admins and supervisors, or hub admins.

    Raises:
        NotPermitted: the caller is neither.
    """
    _may_read(caller, organisation_id)
    since = (now or utcnow()) - FAILURE_WINDOW
    to_org = OutgoingMessage.recipient_org_id == organisation_id
    last = session.scalar(
        select(
            func.max(func.coalesce(OutgoingMessage.delivered_at, OutgoingMessage.acknowledged_at))
        ).where(to_org)
    )
    backlog, oldest = session.execute(
        select(func.count(), func.min(OutgoingMessage.created_at)).where(
            to_org, OutgoingMessage.state == MessageState.PENDING
        )
    ).one()
    given_up = session.scalar(
        select(func.count()).where(
            to_org,
            OutgoingMessage.state == MessageState.FAILED,
            OutgoingMessage.last_attempt_at >= since,
        )
    )
    failed = (
        select(DeliveryAttempt)
        .join(OutgoingMessage, OutgoingMessage.id == DeliveryAttempt.message_id)
        .where(to_org, DeliveryAttempt.outcome != "delivered", DeliveryAttempt.started_at >= since)
    )
    failures = session.scalar(select(func.count()).select_from(failed.subquery()))
    recent = [
        FailedPush(
            at=a.started_at,
            channel=a.channel,
            target=a.target,
            status_code=a.status_code,
            error=a.error,
            outcome=a.outcome,
        )
        for a in session.scalars(
            failed.order_by(DeliveryAttempt.started_at.desc()).limit(RECENT_FAILURES)
        )
    ]
    return OrganisationDeliveryHealth(
        organisation_id=organisation_id,
        window=FAILURE_WINDOW,
        last_delivered_at=last,
        failures=int(failures or 0),
        given_up=int(given_up or 0),
        backlog=int(backlog or 0),
        oldest_waiting_at=oldest,
        recent=recent,
    )
