"""Zero loss under faults, with a real `refhub worker` process, the real Redis broker and a
local receiver: every message id sent is accepted by the receiver (duplicates allowed,
losses never), whatever the receiver, the worker or the broker does."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from gateway.delivery.relay import Relay, RelayThread
from gateway.delivery.worker import CeleryDispatcher
from gateway.runtime import Runtime
from kernel.settings import Settings
from tests.conftest import wait_for
from tests.gateway.delivery import factories
from tests.gateway.delivery.conftest import FAST_DELIVERY
from tests.gateway.delivery.receiver import Behaviour, Receiver
from tests.gateway.private_redis import PrivateRedis

ROOT = Path(__file__).resolve().parents[3]
N = 6


class DeliveryWorker:
    """`refhub worker` with the test builders, in its own process group (SIGKILL-able).

    `supervised` restarts it whenever it exits, as docker-compose's `restart:
    unless-stopped` does in production."""

    def __init__(self, env: dict[str, str], log_path: Path, *, supervised: bool = False) -> None:
        self.env, self.log_path = env, log_path
        self._log = log_path.open("ab")
        self.restarts = 0
        self.process = self._start()
        self._stopping = threading.Event()
        self._supervisor: threading.Thread | None = None
        if supervised:
            self._supervisor = threading.Thread(target=self._supervise, daemon=True)
            self._supervisor.start()

    def _start(self) -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            [sys.executable, "-m", "tests.gateway.delivery.worker_main", "--concurrency", "2"],
            env=self.env,
            cwd=ROOT,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def _supervise(self) -> None:
        while not self._stopping.wait(0.2):
            if self.process.poll() is not None:
                self.restarts += 1
                self.process = self._start()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-4000:]

    def kill(self) -> None:
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(10)

    def stop(self) -> None:
        self._stopping.set()
        if self._supervisor is not None:
            self._supervisor.join(5)
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.kill()
        self._log.close()


@pytest.fixture(scope="module")
def spawn(
    tmp_path_factory: pytest.TempPathFactory, env_base: dict[str, str], settings: Settings
) -> Iterator[Callable[..., DeliveryWorker]]:
    workers: list[DeliveryWorker] = []
    log_dir = tmp_path_factory.mktemp("delivery-worker")

    def start(broker_url: str, *, supervised: bool = False) -> DeliveryWorker:
        env = {
            **env_base,
            **FAST_DELIVERY,
            "REFHUB_DATABASE_URL": settings.database_url,
            "REFHUB_BROKER_URL": broker_url,
            "PYTHONPATH": str(ROOT),
        }
        log_path = log_dir / f"worker-{len(workers)}.log"
        worker = DeliveryWorker(env, log_path, supervised=supervised)
        workers.append(worker)
        return worker

    yield start
    for worker in workers:
        worker.stop()


@pytest.fixture(scope="module")
def worker(spawn: Callable[..., DeliveryWorker], redis_url: str) -> DeliveryWorker:
    return spawn(redis_url)


def relay_thread(runtime: Runtime, broker_url: str) -> RelayThread:
    """The API process's relay, publishing to the broker; re-dispatches work a dead worker
    left behind after 2 s (production: 5 min)."""
    settings = runtime.settings.model_copy(update={"broker_url": broker_url})
    relay = Relay(
        runtime.sessions,
        CeleryDispatcher.for_settings(settings),
        stale_after=dt.timedelta(seconds=2),
    )
    thread = RelayThread(relay, interval_seconds=0.1)
    thread.start()
    return thread


@pytest.fixture
def relay(delivery: Runtime, redis_url: str) -> Iterator[RelayThread]:
    thread = relay_thread(delivery, redis_url)
    yield thread
    thread.stop()


def settled(runtime: Runtime, ids: list[str], state: str = "delivered") -> bool:
    return all(factories.message(runtime, i).state == state for i in ids)


def assert_nothing_lost(receiver: Receiver, sent: list[str]) -> None:
    missing = set(sent) - receiver.accepted_ids()
    assert not missing, f"lost {len(missing)} of {len(sent)} messages"


@pytest.mark.celery
@pytest.mark.parametrize(
    "behaviour",
    [
        Behaviour(fault="500", fault_times=2),
        Behaviour(fault="timeout", sleep_seconds=2.0),
        Behaviour(fault="slow", sleep_seconds=0.4),
        Behaviour(fault="close"),
        Behaviour(fault="garbage"),
        Behaviour(fault="429", retry_after="1"),
    ],
    ids=lambda b: b.fault,
)
def test_receiver_faults_lose_nothing(
    behaviour: Behaviour,
    delivery: Runtime,
    receiver: Receiver,
    worker: DeliveryWorker,
    relay: RelayThread,
) -> None:
    receiver.behaviour = behaviour
    org = factories.committed_org(delivery, [("rest-hook", f"{receiver.url}/hook")])
    sent = factories.send(delivery, org.org_id, n=N)
    wait_for(
        lambda: settled(delivery, sent),
        timeout=30,
        what=f"delivery under {behaviour.fault}; worker log:\n{worker.log()}",
    )
    assert_nothing_lost(receiver, sent)
    if behaviour.fault == "429":  # Retry-After: 1 was honoured
        for message_id in sent:
            first, second = receiver.of(message_id)[:2]
            assert second.at - first.at >= 0.9
    if behaviour.fault in ("500", "timeout", "close", "429"):
        assert all(factories.message(delivery, i).attempts >= 2 for i in sent)


@pytest.mark.celery
def test_a_refusal_dead_letters_without_retry(
    delivery: Runtime, receiver: Receiver, worker: DeliveryWorker, relay: RelayThread
) -> None:
    receiver.behaviour = Behaviour(fault="400", fault_times=99)
    org = factories.committed_org(delivery, [("rest-hook", f"{receiver.url}/hook")])
    sent = factories.send(delivery, org.org_id, n=3)
    wait_for(lambda: settled(delivery, sent, "failed"), timeout=30, what="dead letters")
    for message_id in sent:
        assert len(receiver.of(message_id)) == 1  # no retry
        assert factories.message(delivery, message_id).last_error == "http-400"


@pytest.mark.celery
def test_a_worker_killed_mid_delivery_loses_nothing(
    delivery: Runtime,
    receiver: Receiver,
    spawn: Callable[..., DeliveryWorker],
    redis_url: str,
    relay: RelayThread,
) -> None:
    doomed = spawn(redis_url)
    receiver.behaviour = Behaviour(fault="timeout", sleep_seconds=0.8, fault_times=1)
    org = factories.committed_org(delivery, [("rest-hook", f"{receiver.url}/hook")])
    sent = factories.send(delivery, org.org_id, n=N)
    wait_for(receiver.in_flight.is_set, timeout=30, what=f"a delivery in flight:\n{doomed.log()}")
    doomed.kill()  # SIGKILL to the worker and its pool, in the middle of a push
    replacement = spawn(redis_url)
    wait_for(
        lambda: settled(delivery, sent),
        timeout=40,
        what=f"delivery after SIGKILL; log:\n{replacement.log()}",
    )
    assert_nothing_lost(receiver, sent)
    replacement.stop()


@pytest.mark.celery
def test_a_broker_restart_loses_nothing(
    delivery: Runtime,
    receiver: Receiver,
    spawn: Callable[..., DeliveryWorker],
    private_redis: PrivateRedis,
) -> None:
    # Supervised as in production: Celery/kombu 5.7's worker may exit when the broker
    # vanishes while it holds an unacknowledged message (kombu's restore of unacked
    # messages fails on the closed connection); docker-compose then restarts it.
    own = spawn(private_redis.url, supervised=True)
    thread = relay_thread(delivery, private_redis.url)
    try:
        org = factories.committed_org(delivery, [("rest-hook", f"{receiver.url}/hook")])
        before = factories.send(delivery, org.org_id, n=2)
        wait_for(lambda: settled(delivery, before), timeout=30, what=f"warm-up:\n{own.log()}")
        private_redis.stop()
        during = factories.send(delivery, org.org_id, n=N)  # written while the broker is down
        private_redis.start()  # back, empty
        wait_for(
            lambda: settled(delivery, during),
            timeout=90,  # the worker reconnects with Celery's backoff; slow on a busy machine
            what=f"delivery after the broker restart; log:\n{own.log()}",
        )
        assert_nothing_lost(receiver, before + during)
    finally:
        thread.stop()
        own.stop()


@pytest.mark.celery
def test_a_burst_arrives_once_per_message(
    delivery: Runtime, receiver: Receiver, worker: DeliveryWorker, relay: RelayThread
) -> None:
    """Many messages at once travel in batches (one broker message, two transactions per
    batch): each still arrives exactly once and is settled on its own."""
    receiver.behaviour = Behaviour()
    org = factories.committed_org(delivery, [("rest-hook", f"{receiver.url}/hook")])
    sent = factories.send(delivery, org.org_id, n=120)
    wait_for(lambda: settled(delivery, sent), timeout=60, what=f"the burst:\n{worker.log()}")
    assert_nothing_lost(receiver, sent)
    assert all(len(receiver.of(message_id)) == 1 for message_id in sent)
    assert all(factories.message(delivery, i).attempts == 1 for i in sent)
