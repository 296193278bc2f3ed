"""Outgoing messages end to end in this process: queue, the send task, each channel to a
real local receiver that verifies and decrypts with public libraries and the hub's JWKS,
pull and acknowledge, receipts, consent re-check, retry and refusal."""

from __future__ import annotations

import base64
import datetime as dt
import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from joserfc import jwe, jws
from joserfc.jwk import ECKey, KeySet
from joserfc.jws import JWSRegistry
from sqlalchemy import select

from gateway.app import create_app
from gateway.auth.models import Organisation
from gateway.delivery import outgoing, subscription_tasks, subscriptions
from gateway.delivery.channels import retry_after_seconds
from gateway.runtime import Runtime
from kernel import audit, outbox
from tests.gateway.auth.factories import make_client, token_form
from tests.gateway.delivery import factories
from tests.gateway.delivery.builders import WITHDRAWN
from tests.gateway.delivery.receiver import Behaviour, Receiver

pytestmark = pytest.mark.filterwarnings("ignore:EdDSA is deprecated")

RECEIVER_REGISTRY = JWSRegistry(strict_check_header=False, algorithms=["ES256"])


# The receiver's side: only joserfc and the hub's published JWKS


def open_sealed(sealed: bytes | str, key: ECKey, jwks: dict[str, Any]) -> tuple[str, Any]:
    decrypted = jwe.decrypt_compact(sealed, key, algorithms=["ECDH-ES+A256KW", "A256GCM"])
    assert decrypted.plaintext is not None
    return verify_signed(decrypted.plaintext, jwks)


def verify_signed(signed: bytes | str, jwks: dict[str, Any]) -> tuple[str, Any]:
    verified = jws.deserialize_compact(
        signed, KeySet.import_key_set(jwks), algorithms=["ES256"], registry=RECEIVER_REGISTRY
    )
    assert verified.protected["typ"] == "refhub-message+jws"
    return str(verified.protected["refhub-msg"]), json.loads(verified.payload)


def verify_detached(signature: str, body: bytes, jwks: dict[str, Any]) -> str:
    protected, _, sig = signature.split(".")
    payload = base64.urlsafe_b64encode(body).rstrip(b"=").decode()
    message_id, _ = verify_signed(f"{protected}.{payload}.{sig}", jwks)
    return message_id


# Driving the hub


def run_handshakes(runtime: Runtime) -> list[outbox.Outcome]:
    """Execute the pending subscription handshakes, as a worker would."""
    with runtime.sessions() as session:
        ids = session.scalars(
            select(outbox.OutboxEvent.id).where(
                outbox.OutboxEvent.task == subscription_tasks.HANDSHAKE_TASK,
                outbox.OutboxEvent.state == "pending",
            )
        ).all()
    return [outbox.execute(runtime.sessions, event_id) for event_id in ids]


def run_sends(runtime: Runtime) -> list[outbox.Outcome]:
    """Execute every delivery.send event not settled yet, once, as a worker would."""
    with runtime.sessions() as session:
        ids = session.scalars(
            select(outbox.OutboxEvent.id).where(
                outbox.OutboxEvent.task == outgoing.SEND_TASK,
                outbox.OutboxEvent.state.in_(["pending", "dispatched"]),
            )
        ).all()
    return [outbox.execute(runtime.sessions, event_id) for event_id in ids]


@pytest.fixture
def http(delivery: Runtime) -> Iterator[TestClient]:
    with TestClient(create_app(delivery, run_relay=False), raise_server_exceptions=False) as c:
        yield c


@pytest.fixture
def jwks(http: TestClient) -> dict[str, Any]:
    body = http.get("/.well-known/jwks.json").json()
    assert isinstance(body, dict)
    return body


def bearer(
    runtime: Runtime, http: TestClient, org_id: uuid.UUID, scope: str = "system/*.cruds"
) -> dict[str, str]:
    with runtime.sessions.begin() as session:
        org = session.get(Organisation, org_id)
        assert org is not None
        client = make_client(session, org, scopes=tuple(scope.split()))
    form = token_form(client.assertion("http://127.0.0.1:8000/auth/token"), scope=scope)
    token = http.post("/auth/token", data=form)
    assert token.status_code == 200, token.text
    return {"Authorization": f"Bearer {token.json()['access_token']}"}


def actions(runtime: Runtime, message_id: str) -> list[str]:
    with runtime.sessions() as session:
        return list(
            session.scalars(
                select(audit.AuditRecord.action)
                .where(audit.AuditRecord.subject == f"Message/{message_id}")
                .order_by(audit.AuditRecord.seq)
            )
        )


# Channels


def test_webhook_delivers_a_sealed_message_the_receiver_opens(
    delivery: Runtime, receiver: Receiver, jwks: dict[str, Any]
) -> None:
    org = factories.committed_org(delivery, [("rest-hook", f"{receiver.url}/hook")])
    (message_id,) = factories.send(delivery, org.org_id)
    assert run_sends(delivery) == [outbox.Outcome.DONE]

    (request,) = receiver.of(message_id)
    assert (request.method, request.path) == ("POST", "/hook")
    assert request.headers["content-type"] == "application/jose"
    opened_id, payload = open_sealed(request.body, org.key, jwks)
    assert opened_id == message_id
    assert payload["resourceType"] == "Task"
    row = factories.message(delivery, message_id)
    assert (row.state, row.channel_list, row.attempts) == ("delivered", ["webhook"], 1)
    assert row.delivered_at is not None and row.last_status_code == 200
    assert actions(delivery, message_id) == ["delivery.queue", "delivery.delivered"]


def test_fhir_rest_posts_the_bundle_and_puts_the_task(
    delivery: Runtime, receiver: Receiver, jwks: dict[str, Any]
) -> None:
    org = factories.committed_org(delivery, [("hl7-fhir-rest", f"{receiver.url}/fhir/")])
    (referral,) = factories.send(delivery, org.org_id, kind=outgoing.MessageKind.REFERRAL)
    task_ref = uuid.uuid4()
    (status,) = factories.send(delivery, org.org_id, referral_id=task_ref)
    run_sends(delivery)

    (posted,) = receiver.of(referral)
    assert (posted.method, posted.path) == ("POST", "/fhir/")
    assert open_sealed(posted.body, org.key, jwks)[1]["resourceType"] == "Bundle"
    (put,) = receiver.of(status)
    assert (put.method, put.path) == ("PUT", f"/fhir/Task/{task_ref}")
    assert open_sealed(put.body, org.key, jwks) == (
        status,
        {"resourceType": "Task", "id": str(task_ref), "status": "accepted"},
    )
    assert factories.message(delivery, status).channel_list == ["fhir-rest"]


def test_subscription_gets_an_id_only_notification_then_the_receiver_reads(
    delivery: Runtime, receiver: Receiver, http: TestClient, jwks: dict[str, Any]
) -> None:
    org = factories.committed_org(delivery)  # no endpoint: notifications and pull only
    with delivery.sessions.begin() as session:
        subscription = subscriptions.create_subscription(
            session,
            org.staff,
            body={
                "resourceType": "Subscription",
                "status": "requested",
                "reason": "new work",
                "criteria": f"Task?owner=Organization/{org.org_id}",
                "channel": {
                    "type": "rest-hook",
                    "endpoint": f"{receiver.url}/notify",
                    "payload": "application/fhir+json",
                    "_payload": {
                        "extension": [
                            {"url": subscriptions.PAYLOAD_CONTENT, "valueCode": "id-only"}
                        ]
                    },
                },
            },
            allow_http=True,
        )
        subscription_id = subscription.id
        assert subscription.status == "requested"
    assert run_handshakes(delivery) == [outbox.Outcome.DONE]
    (handshake,) = [
        r for r in receiver.requests if r.headers["x-refhub-message-kind"] == "handshake"
    ]
    shaken = json.loads(handshake.body)
    assert shaken["type"] == "history"
    shake_params = {p["name"]: p for p in shaken["entry"][0]["resource"]["parameter"]}
    assert shake_params["type"]["valueCode"] == "handshake"
    assert shake_params["status"]["valueCode"] == "requested"
    assert "notification-event" not in shake_params
    assert verify_detached(handshake.headers["x-refhub-signature"], handshake.body, jwks)
    task_id = uuid.uuid4()
    (message_id,) = factories.send(
        delivery, org.org_id, kind=outgoing.MessageKind.REFERRAL, referral_id=task_id
    )
    run_sends(delivery)

    (notice,) = receiver.of(message_id)
    assert notice.headers["content-type"] == "application/fhir+json"
    assert verify_detached(notice.headers["x-refhub-signature"], notice.body, jwks) == message_id
    bundle = json.loads(notice.body)
    assert bundle["type"] == "history"
    status = bundle["entry"][0]["resource"]
    assert status["resourceType"] == "Parameters"
    params = {p["name"]: p for p in status["parameter"]}
    assert params["type"]["valueCode"] == "event-notification"
    assert params["subscription"]["valueReference"]["reference"].endswith(
        f"/fhir/Subscription/{subscription_id}"
    )
    focus = {p["name"]: p for p in params["notification-event"]["part"]}["focus"]
    assert focus["valueReference"]["reference"].endswith(f"/fhir/Task/{task_id}")
    assert "Task" not in json.dumps(bundle["entry"][1].get("resource", {}))  # ids only

    # the receiver reads through the hub: its subscription's status, then the message
    headers = bearer(delivery, http, org.org_id)
    state = http.get(f"/fhir/Subscription/{subscription_id}/$status", headers=headers)
    assert state.status_code == 200
    assert state.json()["type"] == "history"
    (status_entry,) = state.json()["entry"]
    queried = {p["name"]: p for p in status_entry["resource"]["parameter"]}
    assert queried["type"]["valueCode"] == "query-status"
    assert queried["status"]["valueCode"] == "active"
    assert queried["events-since-subscription-start"]["valueString"] == "1"
    assert params["events-since-subscription-start"]["valueString"] == "1"
    event_number = {p["name"]: p for p in params["notification-event"]["part"]}["event-number"]
    assert event_number["valueString"] == "1"
    inbox = http.get("/delivery/inbox", headers=headers).json()["items"]
    (item,) = [i for i in inbox if i["message_id"] == message_id]
    assert item["format"] == "jws"  # no key registered: signed, over the hub's TLS
    assert verify_signed(item["envelope"], jwks)[1]["resourceType"] == "Bundle"
    row = factories.message(delivery, message_id)
    assert (row.state, row.channel_list) == ("delivered", ["subscription"])


def test_pull_inbox_then_acknowledge(
    delivery: Runtime, receiver: Receiver, http: TestClient, jwks: dict[str, Any]
) -> None:
    org = factories.committed_org(delivery, [("rest-hook", f"{receiver.url}/hook")])
    pull_only = factories.committed_org(delivery)
    sender = factories.committed_org(delivery)
    referral_id = uuid.uuid4()
    (pushed,) = factories.send(delivery, org.org_id, referral_id=referral_id, sender=sender.org_id)
    (pulled,) = factories.send(delivery, pull_only.org_id)
    run_sends(delivery)
    assert factories.message(delivery, pulled).channel_list == ["inbox"]
    assert factories.message(delivery, pulled).state == "pending"

    # The inbox carries packets: Task read scope alone neither reads nor acknowledges them.
    task_only = bearer(delivery, http, org.org_id, scope="system/Task.rs")
    assert http.get("/delivery/inbox", headers=task_only).status_code == 403
    assert http.post(f"/delivery/inbox/{pushed}/ack", headers=task_only).status_code == 403
    reader = bearer(delivery, http, org.org_id, scope="system/Task.rs system/ServiceRequest.rs")
    assert len(http.get("/delivery/inbox", headers=reader).json()["items"]) == 1
    assert http.post(f"/delivery/inbox/{pushed}/ack", headers=reader).status_code == 403

    ours = bearer(delivery, http, org.org_id)
    (item,) = http.get("/delivery/inbox", headers=ours).json()["items"]  # pushed and pullable
    assert item["message_id"] == pushed and item["format"] == "jwe"
    assert open_sealed(item["envelope"], org.key, jwks)[0] == pushed

    theirs = bearer(delivery, http, pull_only.org_id)
    assert http.post(f"/delivery/inbox/{pushed}/ack", headers=theirs).status_code == 404
    acked = http.post(f"/delivery/inbox/{pushed}/ack", headers=ours)
    assert acked.status_code == 200 and acked.json()["state"] == "acknowledged"
    assert http.post(f"/delivery/inbox/{pushed}/ack", headers=ours).status_code == 200
    assert http.get("/delivery/inbox", headers=ours).json()["items"] == []

    # the sender's receipt: state and timings, no content; a third party sees nothing
    receipts = http.get(
        "/delivery/messages",
        params={"referral_id": str(referral_id)},
        headers=bearer(delivery, http, sender.org_id),
    ).json()["items"]
    (receipt,) = receipts
    assert receipt["state"] == "acknowledged" and receipt["attempts"] == 1
    assert receipt["delivered_at"] and receipt["acknowledged_at"]
    assert "envelope" not in receipt
    assert (
        http.get(
            "/delivery/messages", params={"referral_id": str(referral_id)}, headers=theirs
        ).json()["items"]
        == []
    )


def test_referral_to_a_service_goes_to_the_service_endpoint(
    delivery: Runtime, receiver: Receiver
) -> None:
    from directory.models import Service

    org = factories.committed_org(
        delivery, [("rest-hook", f"{receiver.url}/org"), ("rest-hook", f"{receiver.url}/svc")]
    )
    with delivery.sessions.begin() as session:
        service = Service(
            organization_id=org.directory_org_id,
            owner_organisation_id=org.org_id,
            endpoint_id=org.endpoint_ids[1],
            name="Shelter",
            accepts_electronic_referrals=True,
        )
        session.add(service)
        session.flush()
        service_id = service.id
    with delivery.sessions.begin() as session:
        message_id = str(
            outgoing.queue(
                session,
                kind=outgoing.MessageKind.REFERRAL,
                recipient_org_id=org.org_id,
                sender_org_id=None,
                referral_id=uuid.uuid4(),
                subject_ref="Patient/p1",
                service_id=service_id,
            ).id
        )
    run_sends(delivery)
    assert [r.path for r in receiver.of(message_id)] == ["/svc"]


# Consent, retries, refusals


def test_a_builder_that_cancels_sends_nothing(delivery: Runtime, receiver: Receiver) -> None:
    org = factories.committed_org(delivery, [("rest-hook", f"{receiver.url}/hook")])
    (message_id,) = factories.send(delivery, org.org_id, subject_ref=WITHDRAWN)
    assert run_sends(delivery) == [outbox.Outcome.DONE]
    assert receiver.requests == []
    row = factories.message(delivery, message_id)
    assert (row.state, row.cancel_reason) == ("cancelled", "consent-withdrawn")
    assert "delivery.cancel" in actions(delivery, message_id)


def test_a_500_is_retried_then_delivered(delivery: Runtime, receiver: Receiver) -> None:
    receiver.behaviour = Behaviour(fault="500")
    org = factories.committed_org(delivery, [("rest-hook", f"{receiver.url}/hook")])
    (message_id,) = factories.send(delivery, org.org_id)
    assert run_sends(delivery) == [outbox.Outcome.RETRY]
    row = factories.message(delivery, message_id)
    assert (row.state, row.attempts, row.last_error, row.last_status_code) == (
        "pending",
        1,
        "http-500",
        500,
    )
    assert run_sends(delivery) == [outbox.Outcome.DONE]
    row = factories.message(delivery, message_id)
    assert (row.state, row.attempts) == ("delivered", 2)
    assert message_id in receiver.accepted_ids()


def test_a_400_is_not_retried_and_dead_letters(delivery: Runtime, receiver: Receiver) -> None:
    receiver.behaviour = Behaviour(fault="400")
    org = factories.committed_org(delivery, [("rest-hook", f"{receiver.url}/hook")])
    (message_id,) = factories.send(delivery, org.org_id)
    assert run_sends(delivery) == [outbox.Outcome.FAILED]
    assert run_sends(delivery) == []  # dead: nothing runs again by itself
    row = factories.message(delivery, message_id)
    assert (row.state, row.last_status_code, row.last_error) == ("failed", 400, "http-400")
    assert "delivery.failed" in actions(delivery, message_id)


def test_queue_is_idempotent_on_its_dedupe_key(delivery: Runtime) -> None:
    org = factories.committed_org(delivery)
    key = f"status:{uuid.uuid4()}"
    with delivery.sessions.begin() as session:
        first, again = (
            outgoing.queue(
                session,
                kind=outgoing.MessageKind.STATUS,
                recipient_org_id=org.org_id,
                sender_org_id=None,
                referral_id=None,
                subject_ref="Patient/p1",
                dedupe_key=key,
            )
            for _ in range(2)
        )
        assert again.id == first.id
        events = session.scalars(
            select(outbox.OutboxEvent).where(outbox.OutboxEvent.task == outgoing.SEND_TASK)
        ).all()
        assert [e.payload["message_id"] for e in events].count(str(first.id)) == 1


def test_undelivered_and_cancel(delivery: Runtime) -> None:
    org = factories.committed_org(delivery)
    referral_id = uuid.uuid4()
    factories.send(delivery, org.org_id, n=2, referral_id=referral_id)
    with delivery.sessions.begin() as session:
        waiting = outgoing.undelivered(session, referral_id=referral_id)
        assert len(waiting) == 2
        outgoing.cancel(session, waiting[0], "referral-withdrawn")
        assert len(outgoing.undelivered(session, referral_id=referral_id)) == 1
        kinds = outgoing.undelivered(
            session, referral_id=referral_id, kind=outgoing.MessageKind.REFERRAL
        )
        assert kinds == []
    assert run_sends(delivery).count(outbox.Outcome.DONE) >= 1


def test_subscriptions_api_validates_and_isolates(delivery: Runtime, http: TestClient) -> None:
    org = factories.committed_org(delivery)
    other = factories.committed_org(delivery)
    headers = bearer(delivery, http, org.org_id)
    body: dict[str, Any] = {
        "resourceType": "Subscription",
        "status": "requested",
        "reason": "r",
        "criteria": f"Task?owner=Organization/{org.directory_org_id}",
        "channel": {"type": "rest-hook", "endpoint": "https://receiver.example.org/n"},
    }
    created = http.post("/fhir/Subscription", json=body, headers=headers)
    assert created.status_code == 201, created.text
    assert created.json()["channel"]["_payload"]["extension"][0]["valueCode"] == "id-only"
    foreign = {**body, "criteria": f"Task?owner=Organization/{other.org_id}"}
    refused = http.post("/fhir/Subscription", json=foreign, headers=headers)
    assert refused.status_code == 422
    assert refused.json()["resourceType"] == "OperationOutcome"
    full = {
        **body,
        "channel": {
            **body["channel"],
            "_payload": {
                "extension": [{"url": subscriptions.PAYLOAD_CONTENT, "valueCode": "full-resource"}]
            },
        },
    }
    assert http.post("/fhir/Subscription", json=full, headers=headers).status_code == 422
    sub_id = created.json()["id"]
    other_headers = bearer(delivery, http, other.org_id)
    assert http.get(f"/fhir/Subscription/{sub_id}", headers=other_headers).status_code == 404
    assert http.get("/fhir/Subscription", headers=other_headers).json()["total"] == 0
    assert http.delete(f"/fhir/Subscription/{sub_id}", headers=headers).status_code == 204
    assert http.get(f"/fhir/Subscription/{sub_id}", headers=headers).status_code == 404


def test_retry_after_reads_seconds_and_http_dates() -> None:
    now = dt.datetime(2026, 1, 1, 12, 0, tzinfo=dt.UTC)
    assert retry_after_seconds("7", now) == 7.0
    assert retry_after_seconds("Thu, 01 Jan 2026 12:00:30 GMT", now) == 30.0
    assert retry_after_seconds("Thu, 01 Jan 2026 11:00:00 GMT", now) == 0.0
    assert retry_after_seconds("soon", now) is None
    assert retry_after_seconds(None, now) is None
