"""Consent tasks: the expiry sweep, and the follow-up a revocation asks of the hub.

Decisions never depend on these: a consent past its period is already out of force for
`decide()`. The sweep makes the expiry explicit (an inactive version, an audit record and
the same `consent.revoked` event a revocation emits), so pending deliveries are cancelled
and recipients told.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable

from sqlalchemy import select
from sqlalchemy.orm import Session

from consent import service
from consent.clients import subject_of
from consent.models import ConsentRecord, ConsentStatus, RevokedVia
from consent.scope import is_latest
from kernel import audit
from kernel.db import utcnow
from kernel.outbox import task

__all__ = [
    "EXPIRY_EVERY_SECONDS",
    "RevocationListener",
    "add_revocation_listener",
    "expire_consents",
    "expiry_sweep",
    "on_consent_revoked",
]

#: Called with (session, consent series id, client id) when a consent ends; the gateway
#: registers what a revocation requires of the workflow (cancel, notify).
RevocationListener = Callable[[Session, uuid.UUID, uuid.UUID], None]
_LISTENERS: list[RevocationListener] = []


def add_revocation_listener(listener: RevocationListener) -> None:
    """Run `listener` in the transaction of every `consent.revoked` event (once each)."""
    if listener not in _LISTENERS:
        _LISTENERS.append(listener)


EXPIRY_EVERY_SECONDS = 300.0
_SWEEP_ACTOR = "system:consent.expiry_sweep"
_BATCH = 500


def expire_consents(session: Session, now: dt.datetime | None = None) -> int:
    """End every consent whose period is over; returns how many were ended (idempotent)."""
    moment = now or utcnow()
    due = list(
        session.scalars(
            select(ConsentRecord)
            .where(
                is_latest(),
                ConsentRecord.status == ConsentStatus.ACTIVE.value,
                ConsentRecord.period_end.is_not(None),
                ConsentRecord.period_end <= moment,
            )
            .order_by(ConsentRecord.period_end)
            .limit(_BATCH)
        )
    )
    for record in due:
        service.revoke_record(
            session,
            record,
            actor=_SWEEP_ACTOR,
            organisation=None,
            via=RevokedVia.EXPIRY,
            reason="period-ended",
        )
    return len(due)


@task("consent.expiry_sweep", every_seconds=EXPIRY_EVERY_SECONDS)
def expiry_sweep(session: Session) -> None:
    expire_consents(session)


@task(service.REVOKED_EVENT)
def on_consent_revoked(
    session: Session, *, consent_id: str, version: int, client_id: str, via: str
) -> None:
    """Do what a revocation requires of the hub: the registered listeners cancel pending
    referrals and deliveries of the client's data under this consent and notify recipients
    that already hold it; the duty and its discharge are audited."""
    for listener in _LISTENERS:
        listener(session, uuid.UUID(consent_id), uuid.UUID(client_id))
    audit.record(
        session,
        actor="system:consent.revoked",
        action="consent.revocation.follow-up",
        subject=subject_of(client_id),
        detail={
            "consent": consent_id,
            "version": version,
            "via": via,
            "required": "cancel-pending-deliveries notify-recipients",
            "listeners": len(_LISTENERS),
        },
    )
