"""Expiry sweep and the revocation event's handler, through the real outbox."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from adapters import DataCategory
from consent import decision, service, tasks
from consent.models import Purpose
from gateway.runtime import Runtime
from kernel import outbox
from kernel.audit import AuditRecord
from kernel.db import utcnow
from kernel.outbox import OutboxEvent
from tests.consent.factories import draft, make_client, permit, staff


def test_the_sweep_ends_expired_consents_once_and_emits_the_event(db: Session) -> None:
    caller = staff(uuid.uuid4())
    client = make_client(db, caller)
    start = utcnow() - dt.timedelta(days=3)
    record = service.create_consent(
        db,
        caller,
        client_id=client.id,
        draft=draft(
            permit(org=uuid.uuid4()),
            days=None,
            period_start=start,
            period_end=start + dt.timedelta(days=1),
        ),
    )
    assert tasks.expire_consents(db) >= 1
    assert tasks.expire_consents(db) == 0
    latest = service.current_version(db, caller, series_id=record.series_id)
    assert (latest.version, latest.status, latest.revoked_via) == (2, "inactive", "expiry")
    events = db.scalars(select(OutboxEvent).where(OutboxEvent.task == "consent.revoked")).all()
    assert str(record.series_id) in [e.payload["consent_id"] for e in events]


def test_the_revocation_event_runs_its_handler(committed: Runtime) -> None:
    runtime = committed
    with runtime.sessions.begin() as session:
        caller = staff(uuid.uuid4())
        client = make_client(session, caller)
        harbour = uuid.uuid4()
        record = service.create_consent(
            session, caller, client_id=client.id, draft=draft(permit(org=harbour))
        )
        service.revoke(session, caller, series_id=record.series_id, reason="client-instruction")
        assert not decision.decide(
            session,
            caller,
            client_id=client.id,
            recipient_org_id=harbour,
            recipient_org_type=None,
            purpose=Purpose.REFERRAL,
            categories=[DataCategory.IDENTITY],
        ).permit
    with runtime.sessions.begin() as session:
        event = session.scalars(
            select(OutboxEvent).where(OutboxEvent.task == "consent.revoked")
        ).one()
    assert outbox.execute(runtime.sessions, event.id) == outbox.Outcome.DONE
    with runtime.sessions.begin() as session:
        follow_up = session.scalars(
            select(AuditRecord).where(
                AuditRecord.action == "consent.revocation.follow-up",
                AuditRecord.subject == f"Patient/{client.id}",
            )
        ).one()
        assert follow_up.detail["consent"] == str(record.series_id)
