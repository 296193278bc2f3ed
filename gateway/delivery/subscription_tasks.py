"""Subscription handshakes and heartbeats (R4 Subscriptions Backport), as outbox tasks.

- `delivery.subscription_handshake` runs once when a subscription is created: it POSTs a
  `handshake` notification to the endpoint; a 2xx answer makes the subscription `active`,
  anything else `error` (with the error code in `Subscription.error`).
- `delivery.subscription_heartbeat` runs periodically (beat, or the embedded relay, every
  `HEARTBEAT_SWEEP_SECONDS`): an active subscription with a heartbeat period that has
  sent nothing for that period gets a `heartbeat` notification.

Both are phased: the notice is built and signed in the claiming transaction, pushed with
no transaction open, and the answer recorded (audited) in a second transaction.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from dataclasses import dataclass
from urllib.parse import urlsplit

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from gateway.delivery.channels import (
    FHIR_JSON,
    KIND_HEADER,
    MESSAGE_ID_HEADER,
    SIGNATURE_HEADER,
    Channel,
    Push,
    PushOutcome,
    PushResult,
    detached_signature,
    push,
)
from gateway.delivery.models import DeliveryAttempt, Subscription, SubscriptionState
from gateway.delivery.signing import signing_key
from gateway.delivery.subscription_status import NoticeType, notice_bundle
from kernel import audit, outbox
from kernel.audit import Outcome
from kernel.db import utcnow
from kernel.settings import get_settings

__all__ = [
    "HANDSHAKE_TASK",
    "HEARTBEAT_SWEEP_SECONDS",
    "HEARTBEAT_TASK",
    "NoticePlan",
    "last_notice_at",
]

HANDSHAKE_TASK = "delivery.subscription_handshake"
HEARTBEAT_TASK = "delivery.subscription_heartbeat"
HEARTBEAT_SWEEP_SECONDS = 30.0
ACTOR = "system:delivery"
_NOTICE_ACTIONS = ("delivery.subscription.handshake", "delivery.subscription.heartbeat")


@dataclass(frozen=True)
class NoticePlan:
    pushes: tuple[Push, ...]
    timeout: float
    connect_timeout: float


def _notice(subscription: Subscription, kind: NoticeType, status: str | None = None) -> Push:
    settings = get_settings()
    bundle = notice_bundle(subscription, f"{settings.public_base_url}/fhir", kind, status=status)
    body = json.dumps(bundle, separators=(",", ":")).encode()
    notice_id = str(bundle["id"])
    headers = {
        "Content-Type": FHIR_JSON,
        MESSAGE_ID_HEADER: notice_id,
        KIND_HEADER: kind.value,
        SIGNATURE_HEADER: detached_signature(
            body,
            message_id=notice_id,
            content_type=FHIR_JSON,
            signing_key=signing_key(settings.message_key_path),
        ),
    }
    target = f"Subscription/{subscription.id}"
    return Push(Channel.SUBSCRIPTION, target, "POST", subscription.endpoint, headers, body)


def _plan(pushes: list[Push]) -> NoticePlan | None:
    if not pushes:
        return None
    settings = get_settings()
    return NoticePlan(
        tuple(pushes),
        settings.delivery_timeout_seconds,
        settings.delivery_connect_timeout_seconds,
    )


def perform(plan: NoticePlan) -> list[PushResult]:
    """Push every notice (no database, no lock held)."""
    return [
        push(item, timeout=plan.timeout, connect_timeout=plan.connect_timeout)
        for item in plan.pushes
    ]


def _error(result: PushResult) -> str:
    return result.error or f"http-{result.status_code}"


def _record(
    session: Session, subscription: Subscription, kind: NoticeType, result: PushResult
) -> None:
    delivered = result.outcome is PushOutcome.DELIVERED
    subscription.last_error = None if delivered else _error(result)
    audit.record(
        session,
        actor=ACTOR,
        action=f"delivery.subscription.{kind.value}",
        outcome=Outcome.SUCCESS if delivered else Outcome.FAILURE,
        organisation=str(subscription.organisation_id),
        subject=f"Subscription/{subscription.id}",
        detail={"status": subscription.status, "answer": result.status_code or 0},
    )


def _allowed(url: str) -> bool:
    scheme = urlsplit(url).scheme
    return scheme == "https" or (get_settings().delivery_allow_http and scheme == "http")


def prepare_handshake(session: Session, subscription_id: str) -> NoticePlan | None:
    """The handshake of a subscription still `requested` (None: nothing to do)."""
    subscription = session.get(Subscription, uuid.UUID(subscription_id), with_for_update=True)
    if subscription is None or subscription.status != SubscriptionState.REQUESTED:
        return None
    if not _allowed(subscription.endpoint):
        subscription.status, subscription.last_error = SubscriptionState.ERROR, "insecure-address"
        return None
    return _plan([_notice(subscription, NoticeType.HANDSHAKE)])


def finish_handshake(session: Session, results: list[PushResult], subscription_id: str) -> None:
    """2xx: the subscription is `active`; anything else: `error` (audited either way)."""
    subscription = session.get(Subscription, uuid.UUID(subscription_id), with_for_update=True)
    if subscription is None or subscription.status != SubscriptionState.REQUESTED:
        return
    (result,) = results
    delivered = result.outcome is PushOutcome.DELIVERED
    subscription.status = SubscriptionState.ACTIVE if delivered else SubscriptionState.ERROR
    _record(session, subscription, NoticeType.HANDSHAKE, result)


def last_notice_at(session: Session, subscription: Subscription) -> dt.datetime:
    """When the subscription was last sent anything (notification, handshake, heartbeat),
    or created."""
    target = f"Subscription/{subscription.id}"
    pushed = session.scalar(
        select(func.max(DeliveryAttempt.started_at)).where(DeliveryAttempt.target == target)
    )
    noticed = session.scalar(
        select(func.max(audit.AuditRecord.recorded_at)).where(
            audit.AuditRecord.subject == target, audit.AuditRecord.action.in_(_NOTICE_ACTIONS)
        )
    )
    moments = [m for m in (pushed, noticed, subscription.created_at) if m is not None]
    return max(m if m.tzinfo else m.replace(tzinfo=dt.UTC) for m in moments)


def prepare_heartbeats(session: Session, now: dt.datetime | None = None) -> NoticePlan | None:
    """A heartbeat for each active subscription silent for its heartbeat period (as of
    `now`, default the current time)."""
    now = now or utcnow()
    due: list[Push] = []
    for subscription in session.scalars(
        select(Subscription)
        .where(
            Subscription.status == SubscriptionState.ACTIVE,
            Subscription.heartbeat_seconds.is_not(None),
        )
        .order_by(Subscription.id)
    ):
        period = subscription.heartbeat_seconds
        if period is None or not _allowed(subscription.endpoint):
            continue
        if now - last_notice_at(session, subscription) >= dt.timedelta(seconds=period):
            due.append(_notice(subscription, NoticeType.HEARTBEAT))
    return _plan(due)


def finish_heartbeats(session: Session, results: list[PushResult]) -> None:
    for result in results:
        _, _, value = result.push.target.partition("/")
        subscription = session.get(Subscription, uuid.UUID(value))
        if subscription is not None:
            _record(session, subscription, NoticeType.HEARTBEAT, result)


outbox.task(HANDSHAKE_TASK, max_attempts=1, perform=perform, finish=finish_handshake)(
    prepare_handshake
)
outbox.task(
    HEARTBEAT_TASK,
    max_attempts=1,
    every_seconds=HEARTBEAT_SWEEP_SECONDS,
    perform=perform,
    finish=finish_heartbeats,
)(prepare_heartbeats)
