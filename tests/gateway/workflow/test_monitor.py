"""The monitor with a fixed clock: one reminder and one escalation per wait, per-organisation
thresholds, handovers without first contact; run through the registered outbox task."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from gateway.delivery.models import OutgoingMessage
from gateway.runtime import Runtime
from gateway.workflow import monitor
from gateway.workflow.models import Handover, Referral, ReferralEvent
from kernel import outbox
from kernel.audit import AuditRecord
from kernel.caller import Role
from kernel.db import utcnow
from tests.gateway.staff import Account, MakeAccount, StaffClient
from tests.gateway.workflow.conftest import Network

SignedIn = Callable[[Account], StaffClient]
H = dt.timedelta(hours=1)


def _run(db: Session, now: dt.datetime) -> None:
    spec = outbox.registered_tasks()["workflow.monitor"]
    assert spec.every_seconds == 900
    spec.handler(db, now=now.isoformat())
    db.flush()


def _referral(db: Session, rid: str) -> Referral:
    referral = db.get(Referral, uuid.UUID(rid))
    assert referral is not None
    db.refresh(referral)
    return referral


def _notices(db: Session, rid: str, tag: str) -> list[uuid.UUID]:
    rows = db.scalars(
        select(OutgoingMessage).where(
            OutgoingMessage.referral_id == uuid.UUID(rid),
            OutgoingMessage.subject_ref.like(f"%#{tag}"),
        )
    ).all()
    return sorted((m.recipient_org_id for m in rows), key=str)


def _steps(network: Network, rid: str) -> list[str]:
    return [e["action"] for e in network.sender.get(f"/referrals/{rid}/events").json()]


def test_reminds_once_then_escalates_once_to_the_sender(
    network: Network, db: Session, make_account: MakeAccount, staff_client: SignedIn
) -> None:
    rid = network.submit().json()["id"]
    authored = _referral(db, rid).authored_on

    _run(db, authored + 71 * H)  # inside the default 72 h response time: nothing
    assert _referral(db, rid).reminded_at is None

    reminded_at = authored + 73 * H
    _run(db, reminded_at)
    _run(db, reminded_at + H)  # a second run in the same period does nothing more
    referral = _referral(db, rid)
    assert referral.reminded_at == reminded_at and referral.escalated_at is None
    assert _notices(db, rid, "reminder") == [network.receiver.id]  # the receiver only
    assert _steps(network, rid).count("reminder") == 1

    _run(db, reminded_at + 71 * H)  # the escalation period runs from the reminder
    assert _referral(db, rid).escalated_at is None
    escalated_at = reminded_at + 72 * H
    _run(db, escalated_at)
    _run(db, escalated_at + 10 * H)
    referral = _referral(db, rid)
    assert referral.escalated_at == escalated_at and referral.reminded_at == reminded_at
    assert _notices(db, rid, "escalation") == [network.sender.id]  # the sender only
    assert _notices(db, rid, "reminder") == [network.receiver.id]
    assert _steps(network, rid).count("escalation") == 1

    # the sender's supervisor sees it in the attention list
    supervisor = staff_client(make_account(org=network.sender.org, roles=(Role.SUPERVISOR,)))
    report = supervisor.get("/reports/referrals?side=sent").json()
    assert [(a["id"], a["why"], a["status"]) for a in report["attention"]] == [
        (rid, "escalated", "requested")
    ]

    db.commit()  # the audit chain is written at commit
    audited = db.scalars(select(AuditRecord).where(AuditRecord.subject == f"Task/{rid}")).all()
    escalations = [r for r in audited if r.action == "referral.escalation"]
    assert len(escalations) == 1
    assert escalations[0].organisation == str(network.sender.id)
    assert escalations[0].actor == "system:workflow.monitor"
    assert len([r for r in audited if r.action == "referral.reminder"]) == 1


def test_accepted_but_not_started_gets_its_own_reminder(network: Network, db: Session) -> None:
    rid = network.submit().json()["id"]
    referral = _referral(db, rid)
    referral.authored_on -= 300 * H  # sent long ago, so the clock stays monotonic below
    authored = referral.authored_on
    db.flush()
    _run(db, authored + 80 * H)  # reminded while requested, before it is accepted now
    assert network.receiver.post(f"/referrals/{rid}/status", json={"status": "accepted"}).is_success
    accepted = _referral(db, rid).accepted_at
    assert accepted is not None

    _run(db, accepted + 167 * H)
    assert _referral(db, rid).reminded_at == authored + 80 * H  # start time is 7 days
    _run(db, accepted + 169 * H)
    assert _referral(db, rid).reminded_at == accepted + 169 * H
    assert len(_notices(db, rid, "reminder")) == 2
    assert _referral(db, rid).escalated_at is None

    # once started, nothing more is due
    started = network.receiver.post(f"/referrals/{rid}/status", json={"status": "in-progress"})
    assert started.is_success, started.text
    _run(db, accepted + 1000 * H)
    assert _referral(db, rid).escalated_at is None
    assert _steps(network, rid).count("reminder") == 2


def test_each_receiver_is_held_to_its_own_thresholds(
    network: Network, db: Session, make_account: MakeAccount, staff_client: SignedIn
) -> None:
    admin = staff_client(make_account(org=network.second.org, roles=(Role.ORG_ADMIN,)))
    put = admin.http.put(
        "/workflow/thresholds",
        json={"response_hours": 4, "escalation_hours": 2},
        headers={"X-CSRF-Token": admin.csrf},
    )
    assert put.status_code == 200, put.text
    fast = network.submit(network.second).json()["id"]
    slow = network.submit(network.receiver).json()["id"]
    authored = _referral(db, fast).authored_on

    _run(db, authored + 5 * H)
    assert _referral(db, fast).reminded_at is not None
    assert _referral(db, slow).reminded_at is None  # the default 72 h still runs
    _run(db, authored + 7 * H)
    assert _referral(db, fast).escalated_at == authored + 7 * H
    assert _referral(db, slow).escalated_at is None
    # closed referrals are left alone
    declined = network.receiver.post(
        f"/referrals/{slow}/status", json={"status": "rejected", "reason": "no-capacity"}
    )
    assert declined.is_success, declined.text
    _run(db, authored + 500 * H)
    assert _referral(db, slow).reminded_at is None


def test_flags_a_handover_without_first_contact_once(network: Network, db: Session) -> None:
    late = network.submit(kind="handover").json()["id"]
    contacted = network.submit(kind="handover").json()["id"]
    for rid in (late, contacted):
        accepted = network.receiver.post(f"/referrals/{rid}/status", json={"status": "accepted"})
        assert accepted.is_success, accepted.text
    assert network.receiver.post(f"/referrals/{contacted}/first-contact", json={}).is_success
    handover = db.get(Handover, uuid.UUID(late))
    assert handover is not None and handover.first_contact_due_at is not None
    due = handover.first_contact_due_at

    _run(db, due - H)
    db.refresh(handover)
    assert handover.first_contact_flagged_at is None
    _run(db, due + H)
    _run(db, due + 2 * H)
    db.refresh(handover)
    assert handover.first_contact_flagged_at == due + H
    other = db.get(Handover, uuid.UUID(contacted))
    assert other is not None and other.first_contact_flagged_at is None
    both = sorted([network.sender.id, network.receiver.id], key=str)
    assert _notices(db, late, "first-contact-overdue") == both
    assert _notices(db, contacted, "first-contact-overdue") == []
    assert _steps(network, late).count("first-contact-overdue") == 1
    # inside the 7-day start time, so no reminder came with it
    assert _referral(db, late).reminded_at is None


def test_concurrent_runs_remind_once(committed: Runtime, backend: str) -> None:
    """Two runs at once: on PostgreSQL the second skips the row the first holds
    (SKIP LOCKED); on SQLite writers are serialised, so the second finds it done."""
    now = utcnow()
    rid = uuid.uuid4()
    with committed.sessions.begin() as session:
        session.add(
            Referral(
                id=rid,
                packet_id=uuid.uuid4(),
                service_request_id=uuid.uuid4(),
                client_id=uuid.uuid4(),
                consent_id=uuid.uuid4(),
                requester_org_id=uuid.uuid4(),
                requester_actor="client:test",
                owner_org_id=uuid.uuid4(),
                packet=b"",
                authored_on=now - 100 * H,
            )
        )
    try:
        first, second = committed.sessions(), committed.sessions()
        try:
            assert monitor.sweep(first, now=now).reminded >= 1
            if backend == "postgresql":
                assert rid not in _reminded_ids(second, now)  # locked by the first: skipped
                first.commit()
                second.commit()
            else:
                first.commit()
                assert rid not in _reminded_ids(second, now)
                second.commit()
        finally:
            first.close()
            second.close()
        with committed.sessions.begin() as session:
            assert len(_notices(session, str(rid), "reminder")) == 1
            steps = session.scalars(
                select(ReferralEvent.action).where(ReferralEvent.referral_id == rid)
            ).all()
            assert steps == ["reminder"]
    finally:
        with committed.sessions.begin() as session:
            session.execute(delete(OutgoingMessage).where(OutgoingMessage.referral_id == rid))
            session.execute(delete(ReferralEvent).where(ReferralEvent.referral_id == rid))
            session.execute(delete(Referral).where(Referral.id == rid))


def _reminded_ids(session: Session, now: dt.datetime) -> set[uuid.UUID]:
    before = set(session.scalars(select(Referral.id).where(Referral.reminded_at == now)))
    monitor.sweep(session, now=now)
    session.flush()
    after = set(session.scalars(select(Referral.id).where(Referral.reminded_at == now)))
    return after - before
