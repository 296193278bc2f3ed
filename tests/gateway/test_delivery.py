"""Outbox delivery end to end: the embedded relay thread, and a real Celery worker on Redis,
including a broker outage that must lose nothing."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from gateway.app import create_app
from gateway.audit.models import AuditCheckpoint
from gateway.audit.witness import Witnesses
from gateway.delivery.relay import Relay
from gateway.delivery.worker import CeleryDispatcher
from gateway.runtime import Runtime
from kernel import audit, outbox
from kernel.errors import Recoverable
from tests.conftest import Worker, wait_for
from tests.gateway.private_redis import PrivateRedis


def _write_work(runtime: Runtime) -> uuid.UUID:
    """A committed audit record plus, in the same transaction, the work to checkpoint it."""
    key = f"test-{uuid.uuid4().hex}"
    with runtime.sessions.begin() as session:
        audit.record(session, actor="system:test", action="test.delivery", subject=f"Test/{key}")
        outbox.enqueue(session, "audit.checkpoint", dedupe_key=key)
    with runtime.sessions() as session:
        event_id = session.scalars(
            select(outbox.OutboxEvent.id).where(outbox.OutboxEvent.dedupe_key == key)
        ).one()
    return event_id


def _event(runtime: Runtime, event_id: uuid.UUID) -> outbox.OutboxEvent:
    with runtime.sessions() as session:
        event = session.get(outbox.OutboxEvent, event_id)
        assert event is not None
        return event


def _done(runtime: Runtime, event_id: uuid.UUID) -> bool:
    return _event(runtime, event_id).state == "done"


def _head_is_checkpointed(runtime: Runtime) -> bool:
    with runtime.sessions() as session:
        head = session.get(audit.AuditHead, 1)
        signed = session.scalar(select(func.max(AuditCheckpoint.seq)))
    return head is not None and signed == head.seq


def test_embedded_relay_runs_committed_work(committed: Runtime) -> None:
    app = create_app(committed, run_relay=True)
    with TestClient(app):
        assert app.state.relay.alive
        event_id = _write_work(committed)
        wait_for(lambda: _done(committed, event_id), what="the embedded relay to run the work")
    assert _head_is_checkpointed(committed)
    assert not app.state.relay.alive  # stopped with the app


@pytest.fixture(scope="module")
def worker(start_worker: Callable[[str], Worker], redis_url: str) -> Iterator[Worker]:
    running = start_worker(redis_url)
    yield running
    running.stop()  # not left consuming the shared broker for later modules


def _celery_relay(runtime: Runtime, broker_url: str) -> Relay:
    settings = runtime.settings.model_copy(update={"broker_url": broker_url})
    return Relay(runtime.sessions, CeleryDispatcher.for_settings(settings))


@pytest.mark.celery
def test_worker_runs_work_from_the_broker(
    committed: Runtime, worker: Worker, redis_url: str
) -> None:
    event_id = _write_work(committed)
    assert _celery_relay(committed, redis_url).drain() >= 1
    wait_for(
        lambda: _done(committed, event_id),
        timeout=60,
        what=f"the worker to run the work; worker log:\n{worker.log()}",
    )
    assert _head_is_checkpointed(committed)


def _checkpoints(runtime: Runtime) -> int:
    with runtime.sessions() as session:
        return int(session.scalar(select(func.count()).select_from(AuditCheckpoint)) or 0)


@pytest.mark.celery
def test_a_message_delivered_twice_runs_once(
    committed: Runtime, worker: Worker, redis_url: str
) -> None:
    """The broker may hand a message over twice. `audit.checkpoint` is a phased task (its
    witness export runs between two transactions, at least once), so a second worker of
    the run's broker may claim the copy while the first exports: the attempt is counted,
    the work is not done twice (the head, once signed, is not signed again)."""
    before = _checkpoints(committed)
    event_id = _write_work(committed)
    relay = _celery_relay(committed, redis_url)
    relay.drain()
    relay.dispatcher.dispatch([(event_id, "audit.checkpoint")])  # the broker redelivers
    wait_for(
        lambda: _done(committed, event_id),
        timeout=60,
        what=f"the work to run; state {_event(committed, event_id).state}; log:\n{worker.log()}",
    )
    marker = _write_work(committed)  # a later message: once it is done, the duplicate was seen
    relay.drain()
    wait_for(lambda: _done(committed, marker), timeout=60, what="the later work to run")
    assert _checkpoints(committed) <= before + 2  # one for each piece of work at most
    witnessed = [c.seq for c in Witnesses.for_settings(committed.settings).file.read().checkpoints]
    assert len(witnessed) == len(set(witnessed))  # no checkpoint exported twice
    assert _event(committed, event_id).attempts <= 2


@pytest.mark.celery
def test_broker_outage_loses_no_work(
    committed: Runtime, start_worker: Callable[[str], Worker], private_redis: PrivateRedis
) -> None:
    worker = start_worker(private_redis.url)
    relay = _celery_relay(committed, private_redis.url)
    warm_up = _write_work(committed)
    relay.drain()
    wait_for(
        lambda: _done(committed, warm_up),
        timeout=60,
        what=f"the worker to start; log:\n{worker.log()}",
    )

    private_redis.stop()
    event_id = _write_work(committed)  # written while the broker is down
    with pytest.raises(Recoverable, match="broker unavailable"):
        relay.drain()
    stuck = _event(committed, event_id)
    assert stuck.state == "pending"
    assert "broker unavailable" in (stuck.last_error or "")

    private_redis.start()  # the broker comes back, empty
    relay.drain()
    wait_for(
        lambda: _done(committed, event_id),
        timeout=90,
        what=f"the work written during the outage to run; log:\n{worker.log()}",
    )
    assert _head_is_checkpointed(committed)
    worker.stop()
