"""Handover records, first contact and case closure through the HTTP API, real tokens."""

from __future__ import annotations

import uuid

from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.delivery.models import OutgoingMessage
from gateway.workflow.models import Case
from kernel.audit import AuditRecord
from tests.gateway.auth.factories import make_client as make_system_client
from tests.gateway.workflow.conftest import SCOPES, Agency, Network, bearer

CASE_SCOPES = (*SCOPES, "system/EpisodeOfCare.crus")
CLOSE = {
    "reason": "goals-met",
    "outcome": "Family settled; children attend Lincoln Elementary",
    "continuation_plan": "Client calls the community centre if new needs arise",
}


def _with_cases(app: FastAPI, db: Session, agency: Agency) -> Agency:
    """The agency signed in with a client that may also read and close cases."""
    registered = make_system_client(db, agency.org, algs=("ES384",), scopes=CASE_SCOPES)
    return Agency(
        org=agency.org,
        http=agency.http,
        headers=bearer(app, registered, " ".join(CASE_SCOPES)),
        service_id=agency.service_id,
    )


def _transferred_handover(network: Network) -> str:
    sent = network.submit(kind="handover")
    assert sent.status_code == 201, sent.text
    assert sent.json()["kind"] == "handover"
    rid: str = sent.json()["id"]
    accepted = network.receiver.post(f"/referrals/{rid}/status", json={"status": "accepted"})
    assert accepted.status_code == 200, accepted.text
    return rid


def test_handover_record_for_both_sides_and_first_contact(network: Network, db: Session) -> None:
    rid = _transferred_handover(network)
    for side in (network.sender, network.receiver):
        record = side.get(f"/referrals/{rid}/handover")
        assert record.status_code == 200, record.text
        body = record.json()
        assert body["from_organisation"]["id"] == str(network.sender.id)
        assert body["to_organisation"]["id"] == str(network.receiver.id)
        assert body["transferred_at"] and body["transferred_by"]
        assert body["first_contact_due_at"] and body["first_contact_at"] is None
        assert "Confirm first contact" in body["next_steps"]
    goals = network.receiver.get(f"/referrals/{rid}/handover").json()["open_goals"]
    assert goals == ["Children enrolled before the next term"]  # counselling: health, withheld
    # after the transfer the sender reads as follow-up, which this consent does not permit
    assert network.sender.get(f"/referrals/{rid}/handover").json()["open_goals"] == []
    outsider = network.second.get(f"/referrals/{rid}/handover")
    assert outsider.status_code == 404
    assert network.second.post(f"/referrals/{rid}/first-contact").status_code == 404
    assert network.sender.post(f"/referrals/{rid}/first-contact").status_code == 403

    confirmed = network.receiver.post(f"/referrals/{rid}/first-contact", json={})
    assert confirmed.status_code == 200, confirmed.text
    first = confirmed.json()["first_contact_at"]
    assert first is not None
    assert "Confirm first contact" not in (confirmed.json()["next_steps"] or "")
    again = network.receiver.post(f"/referrals/{rid}/first-contact")
    assert again.status_code == 200 and again.json()["first_contact_at"] == first
    seen = network.sender.get(f"/referrals/{rid}/handover").json()
    assert seen["first_contact_at"] == first

    steps = [e["action"] for e in network.sender.get(f"/referrals/{rid}/events").json()]
    assert steps.count("first-contact") == 1
    notices = db.scalars(
        select(OutgoingMessage).where(
            OutgoingMessage.referral_id == uuid.UUID(rid),
            OutgoingMessage.subject_ref.like("%#first-contact"),
        )
    ).all()
    assert [(n.recipient_org_id, n.kind) for n in notices] == [(network.sender.id, "status")]
    audited = db.scalars(
        select(AuditRecord).where(
            AuditRecord.action == "handover.first-contact",
            AuditRecord.subject == f"Task/{rid}",
        )
    ).all()
    assert len(audited) == 1


def test_first_contact_needs_a_transferred_handover(network: Network) -> None:
    rid = network.submit(kind="handover").json()["id"]
    early = network.receiver.post(f"/referrals/{rid}/first-contact")
    assert early.status_code == 409 and early.json()["code"] == "first-contact-refused"
    plain = network.submit().json()["id"]
    not_handover = network.receiver.get(f"/referrals/{plain}/handover")
    assert not_handover.status_code == 404
    assert not_handover.json()["code"] == "handover-not-found"
    record = network.sender.get(f"/referrals/{rid}/handover").json()
    assert record["transferred_at"] is None and "Awaiting acceptance" in record["next_steps"]


def test_case_closure_is_sealed_and_only_for_the_owner(
    app: FastAPI, network: Network, db: Session
) -> None:
    rid = _transferred_handover(network)
    receiver = _with_cases(app, db, network.receiver)
    sender = _with_cases(app, db, network.sender)
    case_id = network.receiver.get(f"/referrals/{rid}/handover").json()["case_id"]
    assert case_id

    listed = receiver.get("/cases?status=open").json()
    assert [c["id"] for c in listed["items"]] == [case_id]
    assert listed["items"][0]["opened_by"]["id"] == str(network.sender.id)
    assert sender.get("/cases?status=open").json()["total"] == 0  # it moved to the receiver
    assert sender.get(f"/cases/{case_id}").status_code == 404
    assert sender.post(f"/cases/{case_id}/close", json=CLOSE).status_code == 404
    assert network.receiver.get("/cases").status_code == 403  # no EpisodeOfCare scope

    blocked = receiver.post(f"/cases/{case_id}/close", json=CLOSE)
    assert blocked.status_code == 409, blocked.text
    assert blocked.json()["open_handovers"] == [rid]
    done = network.receiver.post(
        f"/referrals/{rid}/status",
        json={"status": "completed", "outputs": [{"description": "Case taken over"}]},
    )
    assert done.status_code == 200, done.text
    # the handover is closed: the sender's access ended
    assert network.sender.get(f"/referrals/{rid}/handover").status_code == 404

    no_plan = receiver.post(f"/cases/{case_id}/close", json={**CLOSE, "continuation_plan": ""})
    assert no_plan.status_code == 422
    closed = receiver.post(f"/cases/{case_id}/close", json=CLOSE)
    assert closed.status_code == 200, closed.text
    body = closed.json()
    assert (body["status"], body["closure_reason"]) == ("closed", "goals-met")
    assert body["closed_at"] is not None
    assert body["closure"]["outcome"] == CLOSE["outcome"]
    assert body["closure"]["continuation_plan"] == CLOSE["continuation_plan"]
    assert receiver.get(f"/cases/{case_id}").json()["closure"]["reason"] == "goals-met"
    assert receiver.get("/cases?status=closed").json()["items"][0]["id"] == case_id
    twice = receiver.post(f"/cases/{case_id}/close", json=CLOSE)
    assert twice.status_code == 409

    db.expire_all()
    row = db.get(Case, uuid.UUID(case_id))
    assert row is not None and row.closure is not None
    assert b"Lincoln" not in row.closure and b"community centre" not in row.closure
    audited = db.scalars(select(AuditRecord).where(AuditRecord.action == "case.close")).all()
    assert len(audited) == 1 and "Lincoln" not in str(audited[0].detail)
