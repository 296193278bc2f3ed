"""The referral's conversation: consent-checked, sealed, with documents under consent."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.delivery.models import OutgoingMessage
from gateway.workflow.models import ThreadMessage
from tests.gateway.workflow.conftest import Network

PDF = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n% school report\n%%EOF\n"


def test_questions_and_answers_flow_both_ways_sealed(network: Network, db: Session) -> None:
    rid = network.submit().json()["id"]
    asked = network.receiver.post(
        f"/referrals/{rid}/messages", json={"text": "Does the client prefer a male counsellor?"}
    )
    assert asked.status_code == 201, asked.text
    answer = network.sender.post(
        f"/referrals/{rid}/messages",
        json={"text": "Yes, and mornings suit him best.", "in_response_to": asked.json()["id"]},
    )
    assert answer.status_code == 201, answer.text
    thread = network.receiver.get(f"/referrals/{rid}/messages").json()
    assert [m["text"] for m in thread] == [
        "Does the client prefer a male counsellor?",
        "Yes, and mornings suit him best.",
    ]
    assert thread[1]["in_response_to"] == asked.json()["id"]
    fhir = network.sender.get(f"/fhir/Communication?part-of=Task/{rid}").json()
    assert [e["resource"]["payload"][0]["contentString"] for e in fhir["entry"]][1] == (
        "Yes, and mornings suit him best."
    )
    stored = db.scalars(select(ThreadMessage).where(ThreadMessage.referral_id == uuid.UUID(rid)))
    assert all(b"mornings" not in m.sealed for m in stored)
    queued = db.scalars(
        select(OutgoingMessage.recipient_org_id).where(
            OutgoingMessage.kind == "message", OutgoingMessage.referral_id == uuid.UUID(rid)
        )
    ).all()
    assert sorted(map(str, queued)) == sorted([str(network.sender.id), str(network.receiver.id)])
    assert network.second.get(f"/referrals/{rid}/messages").status_code == 404


def test_documents_go_only_where_consent_permits_them(network: Network) -> None:
    rid = network.submit().json()["id"]
    uploaded = network.sender.post(
        "/documents",
        data={"client_id": str(network.client_id), "title": "School report", "referral_id": rid},
        files={"file": ("report.pdf", PDF, "application/pdf")},
    )
    assert uploaded.status_code == 201, uploaded.text
    document_id = uploaded.json()["id"]
    refused = network.sender.post(
        f"/referrals/{rid}/messages",
        json={"text": "The school report is attached.", "document_ids": [document_id]},
    )
    # the client's consent lets documents go back to the sender, not to the receiver
    assert refused.status_code == 403, refused.text
    assert network.receiver.get(f"/documents/{document_id}/content").status_code == 404
    foreign = network.receiver.post(
        f"/referrals/{rid}/messages",
        json={"text": "Here it is", "document_ids": [document_id]},
    )
    assert foreign.status_code == 422


def test_a_permitted_document_reaches_the_receiver(network: Network, db: Session) -> None:
    from adapters import DataCategory
    from consent.models import Client, Purpose
    from tests.consent.factories import grant, permit, staff

    client = db.get(Client, network.client_id)
    assert client is not None
    grant(
        db,
        staff(network.sender.id),
        client,
        permit(
            org=network.receiver.id,
            purposes=(Purpose.REFERRAL,),
            categories=(DataCategory.CASE_NOTES, DataCategory.DOCUMENTS),
        ),
    )
    db.commit()
    rid = network.submit().json()["id"]
    uploaded = network.sender.post(
        "/documents",
        data={"client_id": str(network.client_id), "title": "School report", "referral_id": rid},
        files={"file": ("report.pdf", PDF, "application/pdf")},
    )
    document_id = uploaded.json()["id"]
    sent = network.sender.post(
        f"/referrals/{rid}/messages",
        json={"text": "The school report is attached.", "document_ids": [document_id]},
    )
    assert sent.status_code == 201, sent.text
    got = network.receiver.get(f"/documents/{document_id}/content")
    assert got.status_code == 200 and got.content == PDF
    assert network.second.get(f"/documents/{document_id}/content").status_code == 404
