"""`delivery.send`: build, consent-check, seal and push one outgoing message.

A phased outbox task (see `kernel.outbox`): `prepare` runs in the claiming transaction
(loads the message, calls its kind's builder, which re-checks consent, seals the payload
per receiver key and lists the targets not yet delivered); that transaction commits before
any network call, so no row lock is held while a receiver is slow. `perform` pushes with
explicit timeouts and no database. `finish` records the attempts and decides: delivered,
retry (backoff with jitter, or the receiver's `Retry-After`), or failed (a refusal, or the
attempts ran out), which dead-letters the event for an operator.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass

import structlog
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from gateway.delivery import outgoing, targets
from gateway.delivery.channels import Channel, Push, PushOutcome, PushResult, push
from gateway.delivery.models import DeliveryAttempt, MessageState, OutgoingMessage, Subscription
from gateway.delivery.signing import signing_key
from kernel import audit, outbox
from kernel.audit import Outcome
from kernel.db import transaction_memo, utcnow
from kernel.errors import Recoverable, RefhubError
from kernel.settings import Settings, get_settings

__all__ = ["DeliveryFailed", "DeliveryRetry", "Plan", "finish", "perform", "prepare"]

log = structlog.get_logger(__name__)
ACTOR = "system:delivery"
#: The kernel's own ceiling; delivery stops earlier, at REFHUB_DELIVERY_MAX_ATTEMPTS.
_KERNEL_MAX_ATTEMPTS = 1000


class DeliveryRetry(Recoverable):
    """No receiver refused, some did not answer well: try again later (attempts kept)."""

    code = "delivery-retry"
    keeps_writes = True


class DeliveryFailed(RefhubError):
    """A receiver refused the message, or retries ran out: dead letter (attempts kept)."""

    status = 502
    code = "delivery-failed"
    title = "Delivery failed"
    keeps_writes = True


@dataclass(frozen=True)
class Plan:
    message_id: uuid.UUID
    #: Messages about the same referral are pushed in the order they were queued.
    lane: str
    pushes: tuple[Push, ...]
    timeout: float
    connect_timeout: float


def _audit(
    session: Session,
    message: OutgoingMessage,
    action: str,
    outcome: Outcome = Outcome.SUCCESS,
    **detail: str | int,
) -> None:
    audit.record(
        session,
        actor=ACTOR,
        action=action,
        outcome=outcome,
        organisation=str(message.sender_org_id) if message.sender_org_id else None,
        subject=f"Message/{message.id}",
        detail={"kind": message.kind, "recipient": str(message.recipient_org_id), **detail},
    )


def _delivered_targets(session: Session, message_id: uuid.UUID) -> set[str]:
    return set(
        session.scalars(
            select(DeliveryAttempt.target).where(
                DeliveryAttempt.message_id == message_id,
                DeliveryAttempt.outcome == PushOutcome.DELIVERED,
            )
        )
    )


def _add_channel(message: OutgoingMessage, channel: str) -> None:
    if channel not in message.channel_list:
        message.channels = " ".join([*message.channel_list, channel])


_LOCKED = "delivery.locked-messages"


def preload(session: Session, payloads: list[dict[str, str]]) -> None:
    """Lock a batch's messages with one query (see `kernel.outbox.task`)."""
    ids = [uuid.UUID(payload["message_id"]) for payload in payloads]
    messages = session.scalars(
        select(OutgoingMessage)
        .where(OutgoingMessage.id.in_(ids))
        .order_by(OutgoingMessage.id)
        .with_for_update()
    )
    # held here for the transaction: the session's identity map keeps only weak references
    transaction_memo(session, _LOCKED).update((message.id, message) for message in messages)


def _locked_message(session: Session, message_id: str) -> OutgoingMessage | None:
    key = uuid.UUID(message_id)
    if key in transaction_memo(session, _LOCKED):
        return session.get(OutgoingMessage, key)  # locked by `preload` in this transaction
    return session.get(OutgoingMessage, key, with_for_update=True)


def prepare(session: Session, message_id: str) -> Plan | None:
    """Build and seal the message for every target not yet delivered; None when there is
    nothing to push (already settled, cancelled now, or inbox only)."""
    settings = get_settings()
    message = _locked_message(session, message_id)
    if message is None or message.state in (
        MessageState.DELIVERED,
        MessageState.ACKNOWLEDGED,
        MessageState.CANCELLED,
    ):
        return None
    if message.state == MessageState.FAILED:  # an operator re-runs a dead letter
        message.state = MessageState.PENDING
    try:
        payload = outgoing.build(session, message)
    except outgoing.Cancelled as cancelled:
        outgoing.cancel(session, message, cancelled.reason)
        return None
    except outgoing.NoBuilder as exc:
        message.state, message.last_error = MessageState.FAILED, "no-builder"
        _audit(session, message, "delivery.failed", Outcome.FAILURE, error="no-builder")
        raise DeliveryFailed(str(exc)) from None
    key = signing_key(settings.message_key_path)
    done = _delivered_targets(session, message.id) if message.attempts else set()
    pushes, skipped = targets.content_pushes(
        session,
        message,
        payload,
        signing_key=key,
        allow_http=settings.delivery_allow_http,
        done=done,
    )
    notices, skipped_notices = targets.notification_pushes(
        session,
        message,
        payload,
        signing_key=key,
        allow_http=settings.delivery_allow_http,
        fhir_base=f"{settings.public_base_url}/fhir",
        done=done,
    )
    for skip in [*skipped, *skipped_notices]:
        _audit(
            session,
            message,
            "delivery.skip",
            Outcome.FAILURE,
            target=skip.target,
            reason=skip.reason,
        )
    all_pushes = (*pushes, *notices)
    if not all_pushes:
        if not done:  # nobody to push to: the receiver pulls it from its inbox
            _add_channel(message, Channel.INBOX)
            _audit(session, message, "delivery.inbox")
        elif message.state == MessageState.PENDING:
            _settle_delivered(session, message)
        return None
    return Plan(
        message.id,
        str(message.referral_id or message.id),
        all_pushes,
        settings.delivery_timeout_seconds,
        settings.delivery_connect_timeout_seconds,
    )


def perform(plan: Plan) -> list[PushResult]:
    """Push to every target (no database, no lock held)."""
    return [
        push(item, timeout=plan.timeout, connect_timeout=plan.connect_timeout)
        for item in plan.pushes
    ]


def _settle_delivered(session: Session, message: OutgoingMessage) -> None:
    message.state = MessageState.DELIVERED
    message.delivered_at = utcnow()
    _audit(session, message, "delivery.delivered", channels=message.channels)


def _backoff(settings: Settings, attempt: int) -> float:
    ceiling = min(
        settings.delivery_backoff_cap_seconds,
        settings.delivery_backoff_base_seconds * 2 ** max(attempt - 1, 0),
    )
    return random.uniform(ceiling / 2, ceiling)  # noqa: S311 - jitter, not a secret


def _relaxed_commit(session: Session) -> None:
    """On PostgreSQL, commit the settling transaction without waiting for its WAL flush.

    Only `finish` does this: what it writes is bookkeeping of a push that already happened
    (the attempt, the `delivered` mark and its audit record). If the server crashed before
    the flush, the event is still pending and the message is pushed again (receivers
    de-duplicate on its id) and audited then. `prepare`, which may write the audit record
    of a disclosure before the push, and `queue()` commit durably.
    """
    done = transaction_memo(session, "delivery.relaxed-commit")
    if not done and session.get_bind().dialect.name == "postgresql":
        session.execute(text("SET LOCAL synchronous_commit TO OFF"))
        done[True] = True


def finish(session: Session, results: list[PushResult], message_id: str) -> None:
    """Record the attempt; raise DeliveryRetry or DeliveryFailed unless all delivered."""
    settings = get_settings()
    _relaxed_commit(session)
    message = _locked_message(session, message_id)
    if message is None:
        return
    now = utcnow()
    message.attempts += 1
    message.first_attempt_at = message.first_attempt_at or results[0].started_at
    message.last_attempt_at = now
    for result in results:
        session.add(
            DeliveryAttempt(
                message_id=message.id,
                channel=result.push.channel.value,
                target=result.push.target,
                started_at=result.started_at,
                elapsed_ms=result.elapsed_ms,
                status_code=result.status_code,
                error=result.error,
                outcome=result.outcome.value,
            )
        )
        sub_id = targets.subscription_id(result.push.target)
        if sub_id is not None:
            subscription = session.get(Subscription, sub_id)
            if subscription is not None:
                subscription.last_error = result.error
        if result.outcome is PushOutcome.DELIVERED:
            _add_channel(message, result.push.channel.value)
    failures = [r for r in results if r.outcome is not PushOutcome.DELIVERED]
    last = failures[-1] if failures else results[-1]
    message.last_status_code = last.status_code
    message.last_error = last.error
    if message.state != MessageState.PENDING:
        return  # cancelled or acknowledged meanwhile: what was pushed is recorded, no more
    if not failures:
        _settle_delivered(session, message)
        return
    refused = [r for r in failures if r.outcome is PushOutcome.REFUSED]
    attempt = outbox.current_attempt(session)
    if refused or attempt >= settings.delivery_max_attempts:
        message.state = MessageState.FAILED
        reason = "refused" if refused else "attempts-exhausted"
        _audit(
            session,
            message,
            "delivery.failed",
            Outcome.FAILURE,
            reason=reason,
            error=last.error or "",
            attempts=message.attempts,
        )
        raise DeliveryFailed(f"{reason}: {last.push.target} answered {last.error}")
    delay = _backoff(settings, attempt)
    asked = max((r.retry_after or 0.0 for r in failures), default=0.0)
    delay = min(max(delay, asked), settings.delivery_backoff_cap_seconds)
    _audit(
        session, message, "delivery.retry", Outcome.FAILURE, error=last.error or "", attempt=attempt
    )
    raise DeliveryRetry(f"{last.push.target}: {last.error}", retry_after=delay)


outbox.task(
    outgoing.SEND_TASK,
    max_attempts=_KERNEL_MAX_ATTEMPTS,
    perform=perform,
    finish=finish,
    lane=lambda plan: plan.lane,
    preload=preload,
    batchable=True,
)(prepare)
