"""Subscriptions and the pull inbox in the real workflow: a Communication subscription
hears of thread messages to its organisation (JSON API or FHIR), never of a third
organisation's; a status notice pulled later still says the status it announced, kept
sealed on its message (never in the outbox), and unreadable once the client is erased."""

from __future__ import annotations

import base64
import json
import uuid
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from consent import clients as consent_clients
from consent.erasure import erase_client
from consent.errors import ClientErased
from consent.models import ErasureBasis
from gateway.delivery import outgoing, subscriptions, tasks
from gateway.delivery.models import OutgoingMessage, Subscription, SubscriptionState
from kernel import outbox
from kernel.caller import Caller, CallerKind, Role
from tests.gateway.workflow.conftest import Agency, Network


def _subscribe(db: Session, agency: Agency, resource_type: str) -> uuid.UUID:
    owner = Caller(CallerKind.USER, uuid.uuid4(), agency.id, roles=frozenset({Role.ORG_ADMIN}))
    param = "recipient" if resource_type == "Communication" else "owner"
    created = subscriptions.create_subscription(
        db,
        owner,
        body={
            "resourceType": "Subscription",
            "criteria": f"{resource_type}?{param}=Organization/{agency.id}",
            "channel": {"type": "rest-hook", "endpoint": f"https://{agency.id.hex[:8]}.example/n"},
        },
        allow_http=False,
    )
    created.status = SubscriptionState.ACTIVE  # as its handshake would (tested in delivery)
    db.commit()
    return created.id


def _notified(db: Session, subject_ref: str) -> dict[str, dict[str, Any]]:
    """The notification bundles the message's send would push, by subscription id."""
    (message,) = db.scalars(
        select(OutgoingMessage).where(OutgoingMessage.subject_ref == subject_ref)
    ).all()
    with db.begin_nested():
        plan = tasks.prepare(db, str(message.id))
    assert plan is not None
    return {
        push.target.split("/")[1]: json.loads(push.body)
        for push in plan.pushes
        if push.target.startswith("Subscription/")
    }


def _focus(bundle: dict[str, Any]) -> str:
    params = {p["name"]: p for p in bundle["entry"][0]["resource"]["parameter"]}
    parts = {p["name"]: p for p in params["notification-event"]["part"]}
    return str(parts["focus"]["valueReference"]["reference"])


def test_a_thread_message_notifies_the_other_sides_communication_subscription(
    network: Network, db: Session
) -> None:
    rid = network.submit().json()["id"]
    receiver_sub = _subscribe(db, network.receiver, "Communication")
    third_sub = _subscribe(db, network.second, "Communication")
    sender_sub = _subscribe(db, network.sender, "Communication")

    asked = network.sender.post(f"/referrals/{rid}/messages", json={"text": "Any news?"})
    assert asked.status_code == 201, asked.text
    notified = _notified(db, f"Communication/{asked.json()['id']}")
    assert set(notified) == {str(receiver_sub)}  # not the sender's, never the third's
    assert _focus(notified[str(receiver_sub)]).endswith(f"/fhir/Communication/{asked.json()['id']}")

    answer = {
        "resourceType": "Communication",
        "status": "completed",
        "partOf": [{"reference": f"Task/{rid}"}],
        "payload": [{"contentString": "Seen on Tuesday."}],
    }
    posted = network.receiver.post("/fhir/Communication", json=answer)
    assert posted.status_code == 201, posted.text
    notified = _notified(db, f"Communication/{posted.json()['id']}")
    assert set(notified) == {str(sender_sub)}
    assert third_sub not in {uuid.UUID(k) for k in notified}
    counters = {
        s.id: s.events_since_start
        for s in db.scalars(
            select(Subscription).where(Subscription.id.in_([receiver_sub, third_sub]))
        )
    }
    assert counters == {receiver_sub: 1, third_sub: 0}


def _payload(envelope: str) -> dict[str, Any]:
    body = envelope.split(".")[1]
    decoded: dict[str, Any] = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    return decoded


def test_a_status_notice_pulled_later_says_the_status_it_announced(network: Network) -> None:
    rid = network.submit().json()["id"]
    accepted = network.receiver.post(f"/referrals/{rid}/status", json={"status": "accepted"})
    assert accepted.status_code == 200, accepted.text
    started = network.receiver.post(f"/referrals/{rid}/status", json={"status": "in-progress"})
    assert started.status_code == 200, started.text

    inbox = network.sender.get("/delivery/inbox")
    assert inbox.status_code == 200, inbox.text
    tasks_told = [
        resource
        for item in inbox.json()["items"]
        if item["kind"] == "status"
        and (resource := _payload(item["envelope"]))["resourceType"] == "Task"
        and resource["id"] == rid
    ]
    assert [t["status"] for t in tasks_told] == ["accepted", "in-progress"]


def test_a_status_notice_is_kept_sealed_on_its_message_and_erasure_shreds_it(
    network: Network, db: Session
) -> None:
    rid = network.submit().json()["id"]
    accepted = network.receiver.post(f"/referrals/{rid}/status", json={"status": "accepted"})
    assert accepted.status_code == 200, accepted.text
    (notice,) = db.scalars(
        select(OutgoingMessage).where(
            OutgoingMessage.kind == outgoing.MessageKind.STATUS,
            OutgoingMessage.recipient_org_id == network.sender.id,
        )
    ).all()
    assert notice.content is not None and notice.content_client_id == network.client_id
    assert b"accepted" not in notice.content  # sealed, not in clear
    context = f"delivery-snapshot:{notice.id}"
    told = json.loads(
        consent_clients.open_for_client(db, network.client_id, notice.content, context)
    )
    assert (told["resourceType"], told["status"]) == ("Task", "accepted")
    # the outbox (and so the dead-letter view) holds ids only
    payloads = db.scalars(
        select(outbox.OutboxEvent.payload).where(outbox.OutboxEvent.task == outgoing.SEND_TASK)
    ).all()
    assert payloads and all(set(p) == {"message_id"} for p in payloads)

    erase_client(
        db,
        actor="user:hub-admin",
        organisation_id=None,
        client_id=network.client_id,
        basis=ErasureBasis.DATA_SUBJECT_REQUEST,
        reason="Request DSR-2026-0042 received in writing",
    )
    db.commit()
    db.refresh(notice)
    assert notice.content is not None
    with pytest.raises(ClientErased):
        consent_clients.open_for_client(db, network.client_id, notice.content, context)
    inbox = network.sender.get("/delivery/inbox")
    assert inbox.status_code == 200, inbox.text
    assert str(notice.id) not in {item["message_id"] for item in inbox.json()["items"]}
