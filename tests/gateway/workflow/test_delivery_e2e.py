"""A real referral, delivered: submitted through the API, relayed to the real broker, sent by
a real `refhub worker` process to a local receiver's webhook, opened there with public
libraries only (jwcrypto: decrypt with the receiver's key, verify with the hub's published
JWKS). The receiver's answer flows back to the sender, which has no server: it pulls it
from its inbox and acknowledges it. The sender sees the delivery receipt."""

from __future__ import annotations

import json
import subprocess
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from jwcrypto import jwe, jwk, jws

from adapters import DataCategory
from consent.models import Purpose
from directory.models import Service
from gateway.app import create_app
from gateway.auth.models import Organisation, OrgStatus
from gateway.runtime import Runtime
from kernel.settings import Settings
from tests.conftest import REFHUB, wait_for
from tests.consent.factories import grant, make_client, permit, staff
from tests.gateway.auth.factories import make_client as make_system_client
from tests.gateway.delivery.conftest import FAST_DELIVERY
from tests.gateway.delivery.factories import ReceivingOrg, receiving_org
from tests.gateway.delivery.receiver import Receiver, start_receiver, stop_receiver
from tests.gateway.delivery.test_faults import relay_thread
from tests.gateway.test_delivery import PrivateRedis
from tests.gateway.workflow.conftest import EXAMPLE, SCOPES, bearer


class _Worker:
    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.log_path = log
        self._log = log.open("wb")
        self.process = subprocess.Popen(
            [REFHUB, "worker", "--concurrency", "1"], env=env, stdout=self._log,
            stderr=subprocess.STDOUT,
        )  # fmt: skip

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-4000:]

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(20)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self._log.close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = start_receiver()
    yield server
    stop_receiver(server)


@pytest.fixture
def broker() -> Iterator[str]:
    """A Redis of this test's own: no other test's worker may take its messages."""
    server = PrivateRedis()
    server.start()
    yield server.url
    server.stop()


@pytest.fixture
def real_worker(
    tmp_path: Path, env_base: dict[str, str], settings: Settings, broker: str
) -> Iterator[_Worker]:
    env = {
        **env_base,
        **FAST_DELIVERY,
        "REFHUB_DATABASE_URL": settings.database_url,
        "REFHUB_BROKER_URL": broker,
    }
    worker = _Worker(env, tmp_path / "worker.log")
    yield worker
    worker.stop()


def _setup(
    runtime: Runtime, receiver: Receiver
) -> tuple[ReceivingOrg, Callable[..., dict[str, str]], dict[str, object]]:
    with runtime.sessions.begin() as session:
        receiving = receiving_org(session, [("rest-hook", f"{receiver.url}/hook")])
        service = Service(
            organization_id=receiving.directory_org_id,
            owner_organisation_id=receiving.org_id,
            endpoint_id=receiving.endpoint_ids[0],
            name="Counselling (delivery test)",
            accepts_electronic_referrals=True,
        )
        session.add(service)
        sender = Organisation(
            name=f"Delivery sender {uuid.uuid4().hex[:8]}",
            org_type="resettlement_ngo",
            status=OrgStatus.ACTIVE.value,
            contact_email="office@example.org",
        )
        session.add(sender)
        session.flush()
        registered = {
            "sender": make_system_client(session, sender, scopes=SCOPES),
            "receiver": make_system_client(
                session,
                session.get(Organisation, receiving.org_id),
                scopes=SCOPES,  # type: ignore[arg-type]
            ),
        }
        worker = staff(sender.id)
        client = make_client(session, worker)
        consent = grant(
            session,
            worker,
            client,
            permit(
                org=receiving.org_id,
                purposes=(Purpose.REFERRAL,),
                categories=(DataCategory.IDENTITY, DataCategory.NEEDS),
            ),
        )
        summary = json.loads(EXAMPLE.read_text())
        summary["referral"]["referred_to"]["service"] = {
            "reference": f"HealthcareService/{service.id}"
        }
        summary["consent"] = {"reference": f"Consent/{consent.series_id}"}
    return (
        receiving,
        lambda app, who: bearer(app, registered[who], " ".join(SCOPES)),
        summary,
    )


def _diagnose(runtime: Runtime) -> str:
    """The outbox and delivery rows, for a failure message (no content)."""
    from sqlalchemy import select

    from gateway.delivery.models import OutgoingMessage
    from kernel.outbox import OutboxEvent

    with runtime.sessions() as session:
        events = [
            (e.task, e.state, e.attempts, e.last_error)
            for e in session.scalars(select(OutboxEvent).order_by(OutboxEvent.created_at))
        ]
        messages = [
            (m.kind, m.state, m.attempts, m.last_error)
            for m in session.scalars(select(OutgoingMessage))
        ]
    return f"outbox {events[-5:]}; messages {messages[-5:]}"


def _open(
    body: bytes, receiving: ReceivingOrg, hub_jwks: dict[str, object]
) -> tuple[str, dict[str, object]]:
    envelope = jwe.JWE()
    envelope.deserialize(body.decode(), key=jwk.JWK(**receiving.key.as_dict(private=True)))
    signed = jws.JWS()
    signed.deserialize(envelope.payload.decode())
    signed.verify(jwk.JWKSet.from_json(json.dumps(hub_jwks)))
    header = json.loads(signed.objects["protected"])
    return str(header["refhub-msg"]), json.loads(signed.payload)


@pytest.mark.celery
def test_a_referral_is_delivered_opened_and_answered(
    committed: Runtime, receiver: Receiver, real_worker: _Worker, broker: str
) -> None:
    receiving, token, summary = _setup(committed, receiver)
    app = create_app(committed, run_relay=False)
    http = TestClient(app, raise_server_exceptions=False)
    sender_auth, receiver_auth = token(app, "sender"), token(app, "receiver")
    relay = relay_thread(committed, broker)
    try:
        sent = http.post("/referrals?format=summary", json=summary, headers=sender_auth)
        assert sent.status_code == 201, sent.text
        rid = sent.json()["id"]
        try:
            wait_for(lambda: receiver.requests, timeout=60, what="the worker to deliver")
        except pytest.fail.Exception:
            pytest.fail(f"not delivered: {_diagnose(committed)}; log:\n{real_worker.log()}")
        (request,) = receiver.requests
        hub_jwks = http.get("/.well-known/jwks.json").json()
        message_id, bundle = _open(request.body, receiving, hub_jwks)
        assert message_id == request.headers["x-refhub-message-id"]
        kinds = [e["resource"]["resourceType"] for e in bundle["entry"]]  # type: ignore[index]
        assert "ServiceRequest" in kinds and "DocumentReference" not in kinds
        task = next(
            e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Task"
        )  # type: ignore[index]
        assert task["id"] == rid and task["status"] == "requested"

        receipts = http.get(f"/delivery/messages?referral_id={rid}", headers=sender_auth).json()
        wait_for(
            lambda: (
                http.get(f"/delivery/messages?referral_id={rid}", headers=sender_auth).json()[
                    "items"
                ][0]["state"]
                == "delivered"
            ),
            what="the receipt to say delivered",
        )
        assert receipts["items"][0]["kind"] == "referral"

        accepted = http.post(
            f"/referrals/{rid}/status", json={"status": "accepted"}, headers=receiver_auth
        )
        assert accepted.status_code == 200, accepted.text
        inbox = wait_for(
            lambda: http.get("/delivery/inbox", headers=sender_auth).json()["items"],
            timeout=60, what="the status change in the sender's inbox",
        )  # fmt: skip
        (item,) = inbox
        assert item["kind"] == "status" and item["format"] == "jws"
        signed = jws.JWS()
        signed.deserialize(item["envelope"])
        signed.verify(jwk.JWKSet.from_json(json.dumps(hub_jwks)))
        assert json.loads(signed.payload)["status"] == "accepted"
        acked = http.post(f"/delivery/inbox/{item['message_id']}/ack", headers=sender_auth)
        assert acked.status_code == 200
        assert http.get("/delivery/inbox", headers=sender_auth).json()["items"] == []
    finally:
        relay.stop()
