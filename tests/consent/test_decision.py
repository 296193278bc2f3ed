"""The decision point on the real database: permit, deny, expiry, revocation, subsets,
overlapping rules (most specific wins, deny beats permit on ties), audit of each answer."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from adapters import DataCategory as C
from consent import decision, service
from consent.errors import ConsentInvalid, ConsentNotPermitted
from consent.models import Client, Purpose
from kernel.audit import AuditRecord
from kernel.caller import Caller, Role
from kernel.db import utcnow
from kernel.outbox import OutboxEvent
from tests.consent.factories import deny, draft, grant, make_client, permit, staff

HARBOUR_TYPE = "child_protection"


def _decide(
    db: Session,
    caller: Caller,
    client: Client,
    org: uuid.UUID,
    *cats: C,
    org_type: str | None = None,
    purpose: Purpose = Purpose.REFERRAL,
) -> decision.Decision:
    return decision.decide(
        db,
        caller,
        client_id=client.id,
        recipient_org_id=org,
        recipient_org_type=org_type,
        purpose=purpose,
        categories=cats,
    )


@pytest.fixture
def sender() -> Caller:
    return staff(uuid.uuid4(), Role.CASE_WORKER)


def test_permit_names_the_categories_and_the_version(db: Session, sender: Caller) -> None:
    client = make_client(db, sender)
    harbour = uuid.uuid4()
    record = grant(db, sender, client, permit(org=harbour))
    answer = _decide(db, sender, client, harbour, C.IDENTITY, C.NEEDS)
    assert answer.permit
    assert answer.permitted_categories == {C.IDENTITY, C.NEEDS}
    assert answer.consent_version == record.id
    assert answer.reasons == ("identity:permitted", "needs:permitted")


def test_deny_by_default(db: Session, sender: Caller) -> None:
    client = make_client(db, sender)
    answer = _decide(db, sender, client, uuid.uuid4(), C.IDENTITY)
    assert not answer.permit
    assert answer.permitted_categories == frozenset()
    assert answer.consent_version is None
    assert answer.reasons == ("identity:no-consent",)


def test_other_recipient_or_purpose_is_denied(db: Session, sender: Caller) -> None:
    client = make_client(db, sender)
    harbour = uuid.uuid4()
    grant(db, sender, client, permit(org=harbour))
    assert not _decide(db, sender, client, uuid.uuid4(), C.IDENTITY).permit
    assert not _decide(db, sender, client, harbour, C.IDENTITY, purpose=Purpose.HANDOVER).permit


def test_only_the_permitted_subset_of_categories(db: Session, sender: Caller) -> None:
    client = make_client(db, sender)
    harbour = uuid.uuid4()
    grant(db, sender, client, permit(org=harbour, categories=[C.IDENTITY]))
    answer = _decide(db, sender, client, harbour, C.IDENTITY, C.HEALTH, C.CASE_NOTES)
    assert answer.permit
    assert answer.permitted_categories == {C.IDENTITY}
    assert "health:no-consent" in answer.reasons


def test_expired_consent_no_longer_permits(db: Session, sender: Caller) -> None:
    client = make_client(db, sender)
    harbour = uuid.uuid4()
    start = utcnow() - dt.timedelta(days=10)
    service.create_consent(
        db,
        sender,
        client_id=client.id,
        draft=draft(
            permit(org=harbour),
            days=None,
            period_start=start,
            period_end=start + dt.timedelta(days=9),
        ),
    )
    assert not _decide(db, sender, client, harbour, C.IDENTITY).permit


def test_not_yet_started_provision_does_not_permit(db: Session, sender: Caller) -> None:
    client = make_client(db, sender)
    harbour = uuid.uuid4()
    later = utcnow() + dt.timedelta(days=2)
    grant(db, sender, client, permit(org=harbour, period_start=later))
    assert not _decide(db, sender, client, harbour, C.IDENTITY).permit


def test_revocation_counts_for_the_very_next_decision_and_emits_the_event(
    db: Session,
    sender: Caller,
) -> None:
    client = make_client(db, sender)
    harbour = uuid.uuid4()
    record = grant(db, sender, client, permit(org=harbour))
    assert _decide(db, sender, client, harbour, C.IDENTITY).permit
    revoked = service.revoke(db, sender, series_id=record.series_id, reason="client-instruction")
    assert (revoked.version, revoked.status, revoked.revoked_via) == (2, "inactive", "staff")
    assert not _decide(db, sender, client, harbour, C.IDENTITY).permit
    events = db.scalars(select(OutboxEvent).where(OutboxEvent.task == "consent.revoked")).all()
    assert [e.payload["consent_id"] for e in events] == [str(record.series_id)]
    with pytest.raises(ConsentInvalid):
        service.revoke(db, sender, series_id=record.series_id, reason="client-instruction")


def test_a_new_version_replaces_the_old_and_history_is_kept(db: Session, sender: Caller) -> None:
    client = make_client(db, sender)
    harbour = uuid.uuid4()
    first = grant(db, sender, client, permit(org=harbour, categories=[C.IDENTITY]))
    second = service.create_consent(
        db,
        sender,
        client_id=client.id,
        draft=draft(permit(org=harbour, categories=[C.NEEDS])),
        series_id=first.series_id,
    )
    answer = _decide(db, sender, client, harbour, C.IDENTITY, C.NEEDS)
    assert answer.permitted_categories == {C.NEEDS}
    assert answer.consent_version == second.id
    history = service.versions(db, sender, series_id=first.series_id)
    assert [(r.version, r.id) for r in history] == [(1, first.id), (2, second.id)]


def test_the_organisation_beats_its_type(db: Session, sender: Caller) -> None:
    client = make_client(db, sender)
    harbour = uuid.uuid4()
    grant(
        db,
        sender,
        client,
        permit(org_type=HARBOUR_TYPE, categories=[C.HEALTH, C.IDENTITY]),
        deny(org=harbour, categories=[C.HEALTH]),
    )
    answer = _decide(db, sender, client, harbour, C.HEALTH, C.IDENTITY, org_type=HARBOUR_TYPE)
    assert answer.permitted_categories == {C.IDENTITY}
    assert "health:denied" in answer.reasons
    other = _decide(db, sender, client, uuid.uuid4(), C.HEALTH, org_type=HARBOUR_TYPE)
    assert other.permitted_categories == {C.HEALTH}


def test_a_specific_permit_beats_a_general_deny(db: Session, sender: Caller) -> None:
    client = make_client(db, sender)
    harbour = uuid.uuid4()
    grant(db, sender, client, deny(categories=[C.PROTECTION]))  # nobody, any purpose
    grant(db, sender, client, permit(org=harbour, categories=[C.PROTECTION]))
    assert _decide(db, sender, client, harbour, C.PROTECTION).permitted_categories == {C.PROTECTION}
    assert not _decide(db, sender, client, uuid.uuid4(), C.PROTECTION, org_type="health").permit


def test_a_named_purpose_beats_any_purpose(db: Session, sender: Caller) -> None:
    client = make_client(db, sender)
    harbour = uuid.uuid4()
    grant(
        db,
        sender,
        client,
        deny(org=harbour, categories=[C.NEEDS]),
        permit(org=harbour, categories=[C.NEEDS], purposes=[Purpose.FOLLOW_UP]),
    )
    assert _decide(db, sender, client, harbour, C.NEEDS, purpose=Purpose.FOLLOW_UP).permit
    assert not _decide(db, sender, client, harbour, C.NEEDS, purpose=Purpose.REFERRAL).permit


@pytest.mark.parametrize("deny_first", [True, False])
def test_deny_beats_permit_on_a_tie_whichever_is_newer(
    db: Session,
    sender: Caller,
    deny_first: bool,
) -> None:
    client = make_client(db, sender)
    harbour = uuid.uuid4()
    rules = [
        deny(org=harbour, categories=[C.FAMILY], purposes=[Purpose.REFERRAL]),
        permit(org=harbour, categories=[C.FAMILY]),
    ]
    for rule in rules if deny_first else reversed(rules):
        grant(db, sender, client, rule)
    answer = _decide(db, sender, client, harbour, C.FAMILY)
    assert not answer.permit
    assert answer.reasons == ("family:denied",)
    assert answer.consent_version is not None


def test_every_decision_is_audited_without_content(db: Session, sender: Caller) -> None:
    client = make_client(db, sender, name="Unique Name Zq")
    harbour = uuid.uuid4()
    grant(db, sender, client, permit(org=harbour))
    _decide(db, sender, client, harbour, C.IDENTITY)
    _decide(db, sender, client, harbour, C.HEALTH)
    db.commit()
    rows = db.scalars(
        select(AuditRecord)
        .where(AuditRecord.subject == f"Patient/{client.id}")
        .where(AuditRecord.action == "consent.decide")
        .order_by(AuditRecord.seq)
    ).all()
    assert [(r.outcome, r.detail["permitted"]) for r in rows] == [
        ("success", "identity"),
        ("denied", ""),
    ]
    assert all("Unique Name" not in str(r.detail) for r in rows)


def test_emergency_override_needs_permission_and_reason(db: Session, sender: Caller) -> None:
    client = make_client(db, sender)
    harbour = uuid.uuid4()
    args: dict[str, Any] = dict(
        client_id=client.id,
        recipient_org_id=harbour,
        recipient_org_type=None,
        purpose=Purpose.REFERRAL,
        categories=[C.PROTECTION],
    )
    with pytest.raises(ConsentNotPermitted):
        decision.decide(
            db, sender, override_code="risk-to-life", override_reason="imminent danger", **args
        )
    supervisor = staff(sender.organisation_id, Role.SUPERVISOR)
    with pytest.raises(ConsentInvalid):
        decision.decide(db, supervisor, override_code="risk-to-life", override_reason="x", **args)
    answer = decision.decide(
        db,
        supervisor,
        override_code="child-at-imminent-risk",
        override_reason="child reported in danger tonight",
        **args,
    )
    assert answer.override
    assert answer.permitted_categories == {C.PROTECTION}
    db.commit()
    rows = db.scalars(
        select(AuditRecord)
        .where(AuditRecord.subject == f"Patient/{client.id}")
        .where(AuditRecord.action == "consent.override")
        .order_by(AuditRecord.seq)
    ).all()
    assert [r.outcome for r in rows] == ["denied", "denied", "success"]
    assert rows[-1].detail["reason_code"] == "child-at-imminent-risk"
    assert "tonight" not in str(rows[-1].detail)
