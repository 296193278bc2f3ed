"""Backport handshake and heartbeat, against a real local receiver: a new subscription is
`requested` until its endpoint answers the handshake (2xx: `active`, else `error`); an
active subscription with a heartbeat period gets a heartbeat when it has been silent; a
retried event notification carries the event number (and time) of its first try."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event

from gateway.app import create_app
from gateway.delivery import subscription_tasks, subscriptions
from gateway.delivery.models import Subscription
from gateway.runtime import Runtime
from kernel import outbox
from kernel.db import utcnow
from tests.fhir_schema import assert_valid
from tests.gateway.delivery import factories
from tests.gateway.delivery.receiver import Behaviour, Receiver
from tests.gateway.delivery.test_outgoing import bearer, run_handshakes, run_sends

pytestmark = pytest.mark.filterwarnings("ignore:EdDSA is deprecated")


@pytest.fixture
def http(delivery: Runtime) -> Iterator[TestClient]:
    with TestClient(create_app(delivery, run_relay=False), raise_server_exceptions=False) as c:
        yield c


def subscribe(runtime: Runtime, org: factories.ReceivingOrg, url: str, **channel: Any) -> str:
    with runtime.sessions.begin() as session:
        created = subscriptions.create_subscription(
            session,
            org.staff,
            body={
                "resourceType": "Subscription",
                "criteria": f"Task?owner=Organization/{org.org_id}",
                "channel": {"type": "rest-hook", "endpoint": url, **channel},
            },
            allow_http=True,
        )
        return str(created.id)


def state(runtime: Runtime, subscription_id: str) -> tuple[str, str | None]:
    with runtime.sessions() as session:
        row = session.get(Subscription, uuid.UUID(subscription_id))
        assert row is not None
        return row.status, row.last_error


def kinds(receiver: Receiver) -> list[str]:
    return [r.headers["x-refhub-message-kind"] for r in receiver.requests]


def test_a_handshake_answered_makes_the_subscription_active(
    delivery: Runtime,
    receiver: Receiver,
    http: TestClient,
) -> None:
    org = factories.committed_org(delivery)
    subscription_id = subscribe(delivery, org, f"{receiver.url}/hook")
    headers = bearer(delivery, http, org.org_id)
    read = http.get(f"/fhir/Subscription/{subscription_id}", headers=headers).json()
    assert read["status"] == "requested"
    run_handshakes(delivery)
    assert kinds(receiver) == ["handshake"]
    bundle = json.loads(receiver.requests[0].body)
    assert_valid(bundle)
    assert state(delivery, subscription_id) == ("active", None)
    assert (
        http.get(f"/fhir/Subscription/{subscription_id}", headers=headers).json()["status"]
        == "active"
    )


def test_a_handshake_refused_puts_the_subscription_in_error(
    delivery: Runtime,
    receiver: Receiver,
    http: TestClient,
) -> None:
    receiver.behaviour = Behaviour(fault="400", fault_times=10)
    org = factories.committed_org(delivery)
    subscription_id = subscribe(delivery, org, f"{receiver.url}/hook")
    run_handshakes(delivery)
    assert state(delivery, subscription_id) == ("error", "http-400")
    # an errored subscription is told nothing more
    factories.send(delivery, org.org_id)
    headers = bearer(delivery, http, org.org_id)
    status = http.get(f"/fhir/Subscription/{subscription_id}/$status", headers=headers).json()
    params = {p["name"]: p for p in status["entry"][0]["resource"]["parameter"]}
    assert params["status"]["valueCode"] == "error"
    assert params["error"]["valueCodeableConcept"]["text"] == "http-400"


def _heartbeat(runtime: Runtime, now: dt.datetime) -> subscription_tasks.NoticePlan | None:
    with runtime.sessions.begin() as session:
        plan = subscription_tasks.prepare_heartbeats(session, now=now)
    if plan is not None:
        results = subscription_tasks.perform(plan)
        with runtime.sessions.begin() as session:
            subscription_tasks.finish_heartbeats(session, results)
    return plan


def test_a_silent_subscription_gets_a_heartbeat_after_its_period(
    delivery: Runtime, receiver: Receiver
) -> None:
    org = factories.committed_org(delivery)
    period = {"extension": [{"url": subscriptions.HEARTBEAT_PERIOD, "valueUnsignedInt": 60}]}
    beating = subscribe(delivery, org, f"{receiver.url}/beat", **period)
    subscribe(delivery, org, f"{receiver.url}/quiet")  # no period: never a heartbeat
    run_handshakes(delivery)
    assert sorted(kinds(receiver)) == ["handshake", "handshake"]

    assert _heartbeat(delivery, utcnow() + dt.timedelta(seconds=30)) is None  # not yet
    plan = _heartbeat(delivery, utcnow() + dt.timedelta(seconds=61))
    assert plan is not None
    assert [p.target for p in plan.pushes] == [f"Subscription/{beating}"]
    beat = receiver.requests[-1]
    assert (beat.path, beat.headers["x-refhub-message-kind"]) == ("/beat", "heartbeat")
    bundle = json.loads(beat.body)
    assert_valid(bundle)
    params = {p["name"]: p for p in bundle["entry"][0]["resource"]["parameter"]}
    assert params["type"]["valueCode"] == "heartbeat"
    assert params["events-since-subscription-start"]["valueString"] == "0"
    # the heartbeat counts as activity: the next one is a period later
    assert _heartbeat(delivery, utcnow() + dt.timedelta(seconds=30)) is None


@pytest.mark.parametrize("value", [0, 59, 86401, "60", True])
def test_a_heartbeat_period_out_of_range_is_refused(
    delivery: Runtime,
    http: TestClient,
    value: Any,
) -> None:
    org = factories.committed_org(delivery)
    headers = bearer(delivery, http, org.org_id)
    body = {
        "resourceType": "Subscription",
        "criteria": f"Task?owner=Organization/{org.org_id}",
        "channel": {
            "type": "rest-hook",
            "endpoint": "https://receiver.example.org/n",
            "extension": [{"url": subscriptions.HEARTBEAT_PERIOD, "valueUnsignedInt": value}],
        },
    }
    refused = http.post("/fhir/Subscription", json=body, headers=headers)
    assert refused.status_code == 422, refused.text
    assert "backport-heartbeat-period" in refused.text
    assert http.get("/fhir/Subscription", headers=headers).json()["total"] == 0


def _event(body: bytes) -> dict[str, str]:
    params = {p["name"]: p for p in json.loads(body)["entry"][0]["resource"]["parameter"]}
    parts = {p["name"]: p for p in params["notification-event"]["part"]}
    return {
        "event-number": parts["event-number"]["valueString"],
        "timestamp": parts["timestamp"]["valueInstant"],
    }


def test_a_retried_notification_keeps_its_event_number(
    delivery: Runtime, receiver: Receiver
) -> None:
    org = factories.committed_org(delivery)  # no endpoint: the subscription is the only push
    subscription_id = subscribe(delivery, org, f"{receiver.url}/hook")
    run_handshakes(delivery)
    receiver.behaviour = Behaviour(fault="500", fault_times=1)  # each message: 500, then 200

    (first,) = factories.send(delivery, org.org_id)
    assert run_sends(delivery) == [outbox.Outcome.RETRY]
    assert run_sends(delivery) == [outbox.Outcome.DONE]
    tries = receiver.of(first)
    assert [r.status for r in tries] == [500, 200]
    assert [_event(r.body) for r in tries] == [_event(tries[0].body)] * 2
    assert _event(tries[0].body)["event-number"] == "1"

    receiver.behaviour = Behaviour()
    (second,) = factories.send(delivery, org.org_id)
    assert run_sends(delivery) == [outbox.Outcome.DONE]
    (sent,) = receiver.of(second)
    assert _event(sent.body)["event-number"] == "2"
    assert_valid(json.loads(sent.body))
    with delivery.sessions() as session:
        row = session.get(Subscription, uuid.UUID(subscription_id))
        assert row is not None and row.events_since_start == 2


def test_the_heartbeat_check_finds_the_last_push_by_index(delivery: Runtime) -> None:
    """`last_notice_at` reads a subscription's latest push through
    `ix_delivery_attempt_target_started_at`, not by scanning every attempt."""
    org = factories.committed_org(delivery)
    subscription_id = subscribe(delivery, org, "https://receiver.example.org/n")
    seen: list[tuple[str, Any]] = []

    def capture(_conn: Any, _cursor: Any, statement: str, params: Any, *_: Any) -> None:
        if "delivery_attempt" in statement:
            seen.append((statement, params))

    with delivery.sessions() as session:
        engine = session.get_bind().engine
        event.listen(engine, "before_cursor_execute", capture)
        try:
            row = session.get(Subscription, uuid.UUID(subscription_id))
            assert row is not None
            subscription_tasks.last_notice_at(session, row)
        finally:
            event.remove(engine, "before_cursor_execute", capture)
        ((statement, params),) = seen
        conn = session.connection()
        if conn.dialect.name == "postgresql":
            conn.exec_driver_sql("SET LOCAL enable_seqscan = off")  # a tiny table: force the choice
            plan = conn.exec_driver_sql(f"EXPLAIN {statement}", params).scalars().all()
        else:
            plan = [r[-1] for r in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", params)]
    assert any("ix_delivery_attempt_target_started_at" in line for line in plan), plan
