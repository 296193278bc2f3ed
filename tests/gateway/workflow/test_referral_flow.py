"""The closed loop through the HTTP API with two organisations' real tokens."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from directory.models import Service
from gateway.auth.models import OrgStatus
from kernel.audit import AuditRecord
from tests.gateway.workflow.conftest import Network


def test_referral_accepted_and_completed_with_outcome(network: Network) -> None:
    sent = network.submit()
    assert sent.status_code == 201, sent.text
    referral = sent.json()
    rid = referral["id"]
    assert referral["status"] == "requested"
    assert referral["your_side"] == "requester"
    assert set(referral["disclosed_categories"]) <= {
        "identity", "contact", "family", "needs", "case-notes"
    }  # fmt: skip
    assert "documents" in referral["withheld_categories"]

    inbox = network.receiver.get("/referrals?box=inbox&status=requested").json()
    assert [r["id"] for r in inbox["items"]] == [rid]
    packet = network.receiver.get(f"/referrals/{rid}/packet")
    assert packet.status_code == 200, packet.text
    kinds = {e["resource"]["resourceType"] for e in packet.json()["entry"]}
    assert "DocumentReference" not in kinds and "ServiceRequest" in kinds

    accepted = network.receiver.post(f"/referrals/{rid}/status", json={"status": "accepted"})
    assert accepted.status_code == 200, accepted.text
    started = network.receiver.post(
        f"/referrals/{rid}/status",
        json={"status": "in-progress", "business_status": "5.1.1"},
        headers={"If-Match": accepted.headers["ETag"]},
    )
    assert started.status_code == 200, started.text
    done = network.receiver.post(
        f"/referrals/{rid}/status",
        json={
            "status": "completed",
            "outputs": [{"description": "Six counselling sessions", "performed": "2026-11-22"}],
        },
    )
    assert done.status_code == 200, done.text

    seen = network.sender.get(f"/referrals/{rid}").json()
    assert seen["status"] == "completed" and seen["output_count"] == 1
    task = network.sender.get(f"/fhir/Task/{rid}").json()
    assert task["output"][0]["valueReference"]["display"] == "Six counselling sessions"
    assert task["contained"][0]["resourceType"] == "Procedure"
    steps = [e["to_status"] for e in network.sender.get(f"/referrals/{rid}/events").json()]
    assert steps == ["requested", "accepted", "in-progress", "completed"]


def test_declined_with_reason_then_resent_to_a_second_provider(network: Network) -> None:
    rid = network.submit().json()["id"]
    no_reason = network.receiver.post(f"/referrals/{rid}/status", json={"status": "rejected"})
    assert no_reason.status_code == 422
    assert "reason" in no_reason.json()["detail"]
    declined = network.receiver.post(
        f"/referrals/{rid}/status",
        json={"status": "rejected", "reason": "no-capacity", "reason_text": "Waitlist full"},
    )
    assert declined.status_code == 200, declined.text
    seen = network.sender.get(f"/referrals/{rid}").json()
    assert (seen["status"], seen["status_reason"], seen["business_status"]) == (
        "rejected",
        "no-capacity",
        "4.0",
    )
    again = network.sender.post(
        f"/referrals/{rid}/resend", json={"service_id": str(network.second.service_id)}
    )
    assert again.status_code == 201, again.text
    second = again.json()
    assert second["id"] != rid and second["resent_from"] == rid
    assert second["owner"]["id"] == str(network.second.id)
    assert [r["id"] for r in network.second.get("/referrals?box=inbox").json()["items"]] == [
        second["id"]
    ]
    # the first receiver never sees the second referral
    assert network.receiver.get(f"/referrals/{second['id']}").status_code == 404
    replay = network.sender.post(
        f"/referrals/{rid}/resend", json={"service_id": str(network.second.service_id)}
    )
    assert replay.status_code == 200 and replay.json()["id"] == second["id"]


def test_wrong_party_stale_version_and_invalid_moves_are_refused(network: Network) -> None:
    sent = network.submit()
    rid, etag = sent.json()["id"], sent.headers["ETag"]
    by_sender = network.sender.post(f"/referrals/{rid}/status", json={"status": "accepted"})
    assert by_sender.status_code == 409
    body = by_sender.json()
    assert body["allowed"] == ["cancelled", "entered-in-error"]
    assert body["current_status"] == "requested"
    ok = network.receiver.post(
        f"/referrals/{rid}/status", json={"status": "accepted"}, headers={"If-Match": etag}
    )
    assert ok.status_code == 200
    stale = network.receiver.post(
        f"/referrals/{rid}/status", json={"status": "in-progress"}, headers={"If-Match": etag}
    )
    assert stale.status_code == 412
    assert stale.json()["current_version"] == ok.json()["version"]
    backwards = network.receiver.post(f"/referrals/{rid}/status", json={"status": "requested"})
    assert backwards.status_code == 409
    assert "in-progress" in backwards.json()["allowed"]
    outsider = network.second.post(f"/referrals/{rid}/status", json={"status": "cancelled"})
    assert outsider.status_code == 404
    assert network.sender.get(f"/referrals/{rid}").json()["status"] == "accepted"


def test_duplicate_submission_with_the_same_key_makes_one_referral(network: Network) -> None:
    first = network.submit(key="case-0123-try")
    again = network.submit(key="case-0123-try")
    assert first.status_code == 201 and again.status_code == 200
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json()["id"] == first.json()["id"]
    other = network.submit(key="case-0123-try", do_not_contact=True)
    assert other.status_code == 422
    assert other.json()["code"] == "idempotency-key-reused"
    assert network.sender.get("/referrals?box=outbox").json()["total"] == 1


def test_bad_addresses_and_missing_consent_are_clear_errors(
    network: Network, make_org: Any, db: Session
) -> None:
    unknown = network.summary()
    unknown["referral"]["referred_to"]["service"]["reference"] = f"HealthcareService/{uuid.uuid4()}"
    answer = network.sender.post("/referrals?format=summary", json=unknown)
    assert answer.status_code == 422 and "No such service" in answer.json()["detail"]

    no_consent = network.summary()
    no_consent.pop("consent")
    answer = network.sender.post("/referrals?format=summary", json=no_consent)
    assert answer.status_code == 422 and "Consent" in answer.json()["detail"]

    foreign = network.sender.post(
        "/referrals?format=summary", json=network.summary(consent_id=uuid.uuid4())
    )
    assert foreign.status_code == 422

    network.second.org.status = OrgStatus.SUSPENDED.value
    db.commit()
    suspended = network.submit(network.second)
    assert suspended.status_code == 422 and "suspended" in suspended.json()["detail"]

    network.second.org.status = OrgStatus.ACTIVE.value
    service = db.get(Service, network.second.service_id)
    assert service is not None
    service.endpoint_id = None
    db.commit()
    no_endpoint = network.submit(network.second)
    assert no_endpoint.status_code == 422 and "endpoint" in no_endpoint.json()["detail"]
    service.accepts_electronic_referrals = False
    db.commit()
    closed = network.submit(network.second)
    assert closed.status_code == 422
    assert "does not accept electronic referrals" in closed.json()["detail"]
    assert network.sender.get("/referrals?box=outbox").json()["total"] == 0


def test_a_receiver_the_consent_does_not_name_is_refused_and_recorded(
    network: Network, db: Session, agency: Any
) -> None:
    housing = agency("City Housing", "municipality", listed=True)
    refused = network.submit(housing)
    assert refused.status_code == 403, refused.text
    assert refused.json()["code"] == "consent-refused"
    denied = db.scalars(
        select(AuditRecord).where(
            AuditRecord.action == "referral.refused",
            AuditRecord.subject == f"Patient/{network.client_id}",
        )
    ).all()
    assert len(denied) == 1
    assert housing.get("/referrals?box=inbox").json()["total"] == 0


def test_a_draft_task_is_the_senders_alone_until_it_is_requested(network: Network) -> None:
    """A transaction whose Task is `draft` is stored for the sender; the receiver can neither
    list nor read it (404, as for a referral of others) until the sender requests it."""
    import json

    import adapters

    converted = adapters.convert(json.dumps(network.summary()).encode(), "summary", "fhir")
    content = converted.outputs[0].content
    bundle = json.loads(content if isinstance(content, bytes) else content.encode())
    task = next(e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Task")
    task["status"] = "draft"
    task.pop("businessStatus", None)
    sent = network.sender.post(
        "/fhir", json=bundle, headers={"Content-Type": "application/fhir+json"}
    )
    assert sent.status_code == 200, sent.text
    locations = [e["response"].get("location", "") for e in sent.json()["entry"]]
    rid = next(loc.split("/")[1] for loc in locations if loc.startswith("Task/"))
    assert network.sender.get(f"/referrals/{rid}").json()["status"] == "draft"

    assert network.receiver.get("/referrals?box=inbox").json()["total"] == 0
    assert network.receiver.get(f"/referrals/{rid}").status_code == 404
    assert network.receiver.get(f"/referrals/{rid}/packet").status_code == 404
    assert network.receiver.get(f"/fhir/Task/{rid}").status_code == 404
    refused = network.receiver.post(f"/referrals/{rid}/status", json={"status": "accepted"})
    assert refused.status_code == 404

    requested = network.sender.post(f"/referrals/{rid}/status", json={"status": "requested"})
    assert requested.status_code == 200, requested.text
    assert [r["id"] for r in network.receiver.get("/referrals?box=inbox").json()["items"]] == [rid]
    assert network.receiver.get(f"/referrals/{rid}/packet").status_code == 200
