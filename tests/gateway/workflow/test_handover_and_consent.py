"""Handover with transfer of ownership, and consent revoked mid-flight."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.delivery.models import OutgoingMessage
from gateway.workflow.models import Case, Handover
from tests.gateway.workflow.conftest import Network, run_outbox


def test_handover_transfers_the_case_and_ends_the_senders_access_at_closure(
    network: Network, db: Session
) -> None:
    sent = network.submit(kind="handover")
    assert sent.status_code == 201, sent.text
    rid = sent.json()["id"]
    assert sent.json()["kind"] == "handover"
    case = db.scalars(select(Case).where(Case.client_id == network.client_id)).one()
    assert case.owner_org_id == network.sender.id

    accepted = network.receiver.post(f"/referrals/{rid}/status", json={"status": "accepted"})
    assert accepted.status_code == 200, accepted.text
    db.expire_all()
    assert db.get(Case, case.id).owner_org_id == network.receiver.id  # type: ignore[union-attr]
    handover = db.get(Handover, uuid.UUID(rid))
    assert handover is not None and handover.transferred_at is not None
    assert handover.first_contact_due_at is not None
    view = network.sender.get(f"/referrals/{rid}").json()["handover"]
    assert view["to_organisation"]["id"] == str(network.receiver.id)
    assert view["transferred_at"] is not None

    # until closure the sender still reads (as far as consent allows it as follow-up)
    assert network.sender.get(f"/referrals/{rid}").status_code == 200
    network.receiver.post(f"/referrals/{rid}/status", json={"status": "in-progress"})
    closed = network.receiver.post(
        f"/referrals/{rid}/status",
        json={"status": "completed", "outputs": [{"description": "Case taken over"}]},
    )
    assert closed.status_code == 200, closed.text
    assert network.sender.get(f"/referrals/{rid}").status_code == 404
    assert network.sender.get(f"/referrals/{rid}/packet").status_code == 404
    assert network.sender.get("/referrals?box=outbox").json()["total"] == 0
    assert network.receiver.get(f"/referrals/{rid}").json()["status"] == "completed"


def test_consent_revoked_before_delivery_cancels_the_referral(
    network: Network, db: Session
) -> None:
    rid = network.submit().json()["id"]
    revoked = network.sender.post(
        f"/consent/consents/{network.consent_id}/revoke", json={"reason": "client-withdrew"}
    )
    assert revoked.status_code == 200, revoked.text
    assert run_outbox(db, "consent.revoked") == 1
    seen = network.sender.get(f"/referrals/{rid}").json()
    assert (seen["status"], seen["status_reason"]) == ("cancelled", "consent-revoked")
    referral_messages = db.scalars(
        select(OutgoingMessage).where(
            OutgoingMessage.referral_id == uuid.UUID(rid), OutgoingMessage.kind == "referral"
        )
    ).all()
    assert [m.state for m in referral_messages] == ["cancelled"]
    # the receiver is not told about a referral it never received
    status_to_receiver = db.scalars(
        select(OutgoingMessage).where(
            OutgoingMessage.referral_id == uuid.UUID(rid),
            OutgoingMessage.recipient_org_id == network.receiver.id,
            OutgoingMessage.kind != "referral",
        )
    ).all()
    assert status_to_receiver == []
    assert network.receiver.get(f"/referrals/{rid}/packet").status_code == 403


def test_consent_revoked_after_delivery_notifies_and_blocks_reads(
    network: Network, db: Session
) -> None:
    rid = network.submit().json()["id"]
    message = db.scalars(
        select(OutgoingMessage).where(
            OutgoingMessage.kind == "referral", OutgoingMessage.referral_id == uuid.UUID(rid)
        )
    ).one()
    message.state = "delivered"  # as the delivery task records it
    db.commit()
    assert network.receiver.get(f"/referrals/{rid}/packet").status_code == 200
    network.sender.post(
        f"/consent/consents/{network.consent_id}/revoke", json={"reason": "client-withdrew"}
    )
    run_outbox(db, "consent.revoked")
    blocked = network.receiver.get(f"/referrals/{rid}/packet")
    assert blocked.status_code == 403
    assert blocked.json()["code"] == "consent-refused"
    assert network.receiver.get(f"/referrals/{rid}/messages").status_code == 403
    notices = db.scalars(
        select(OutgoingMessage).where(
            OutgoingMessage.kind == "revocation",
            OutgoingMessage.recipient_org_id == network.receiver.id,
        )
    ).all()
    assert len(notices) == 1


def test_erasing_the_client_makes_the_stored_referral_unreadable(
    network: Network, db: Session
) -> None:
    from consent import erasure
    from consent.models import ErasureBasis
    from gateway.workflow.models import Referral

    rid = network.submit().json()["id"]
    assert network.receiver.get(f"/referrals/{rid}/packet").status_code == 200
    stored = db.get(Referral, uuid.UUID(rid))
    assert stored is not None
    sealed = bytes(stored.packet)
    erasure.erase_client(
        db,
        actor="user:00000000-0000-4000-8000-0000000000ad",
        organisation_id=None,
        client_id=network.client_id,
        basis=ErasureBasis.DATA_SUBJECT_REQUEST,
        reason="Written request from the client, checked by the hub operator",
    )
    db.commit()
    db.expire_all()
    again = db.get(Referral, uuid.UUID(rid))
    assert again is not None and bytes(again.packet) == sealed  # still stored...
    for side in (network.receiver, network.sender):
        gone = side.get(f"/referrals/{rid}/packet")  # ...but no key opens it any more
        assert gone.status_code == 410, gone.text
        assert gone.json()["code"] == "client-erased"
    assert b"Rahimi" not in sealed
