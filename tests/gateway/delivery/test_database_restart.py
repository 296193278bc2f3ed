"""PostgreSQL restarting in the middle of deliveries loses nothing.

The hub's database here is a PostgreSQL server of this test's own (initdb into a temporary
folder, run as the `postgres` user on a free port), so it can be restarted without touching
the server the rest of the suite uses. A real worker delivers through the real broker; the
server is restarted (`pg_ctl restart -m fast`: every connection is cut) while pushes are in
flight and messages are waiting. Every message id written before the restart must reach the
receiver (duplicates allowed, losses never)."""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from gateway.migrations import upgrade
from gateway.runtime import Runtime
from kernel.db import engine_for
from kernel.settings import Settings
from tests.conftest import wait_for
from tests.gateway.delivery import factories
from tests.gateway.delivery.conftest import FAST_DELIVERY
from tests.gateway.delivery.receiver import Behaviour, Receiver
from tests.gateway.delivery.test_faults import (
    ROOT,
    DeliveryWorker,
    assert_nothing_lost,
    relay_thread,
    settled,
)
from tests.gateway.private_redis import free_port

N = 8


def _bindir() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    if not found:
        pytest.fail("PostgreSQL's server binaries (pg_ctl, initdb) are required", pytrace=False)
    return Path(found[-1]).parent


class PrivatePostgres:
    def __init__(self) -> None:
        self.bindir = _bindir()
        self.root = Path(tempfile.mkdtemp(prefix="refhub-pg-"))
        self.data = self.root / "data"
        self.port = free_port()
        self.as_postgres = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        if os.geteuid() == 0:  # PostgreSQL refuses to run as root
            shutil.chown(self.root, "postgres")
        self._run(str(self.bindir / "initdb"), "-D", str(self.data), "-A", "trust",
                  "-U", "postgres", "--no-sync")  # fmt: skip
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *args: str) -> None:
        done = subprocess.run(
            [*self.as_postgres, *args], capture_output=True, text=True, timeout=120
        )
        if done.returncode != 0:
            pytest.fail(f"{args[0]} failed: {done.stderr or done.stdout}", pytrace=False)

    def _ctl(self, *args: str) -> None:
        options = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.root} -c fsync=off "
            "-c max_connections=60"
        )
        self._run(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-w", "-t", "60",
                  "-l", str(self.root / "log"), "-o", options, *args)  # fmt: skip

    def start(self) -> None:
        self._ctl("start")

    def restart(self) -> None:
        self._ctl("restart", "-m", "fast")

    def stop(self) -> None:
        self._ctl("stop", "-m", "immediate")
        shutil.rmtree(self.root, ignore_errors=True)


@pytest.fixture
def private_postgres() -> Iterator[PrivatePostgres]:
    server = PrivatePostgres()
    server.start()
    yield server
    server.stop()


@pytest.mark.celery
def test_a_database_restart_loses_nothing(
    private_postgres: PrivatePostgres,
    fast_delivery: Settings,
    test_builders: None,
    receiver: Receiver,
    env_base: dict[str, str],
    redis_url: str,
    tmp_path: Path,
) -> None:
    url = private_postgres.url
    engine = create_engine(url)
    upgrade(engine)
    engine.dispose()
    runtime = Runtime(fast_delivery.model_copy(update={"database_url": url}))
    env = {
        **env_base,
        **FAST_DELIVERY,
        "REFHUB_DATABASE_URL": url,
        "REFHUB_BROKER_URL": redis_url,
        "PYTHONPATH": str(ROOT),
    }
    worker = DeliveryWorker(env, tmp_path / "worker.log")
    relay = relay_thread(runtime, redis_url)
    try:
        org = factories.committed_org(runtime, [("rest-hook", f"{receiver.url}/hook")])
        before = factories.send(runtime, org.org_id, n=2)
        wait_for(lambda: settled(runtime, before), timeout=60, what=f"warm-up:\n{worker.log()}")
        receiver.behaviour = Behaviour(fault="timeout", sleep_seconds=1.5, fault_times=1)
        during = factories.send(runtime, org.org_id, n=N)
        wait_for(receiver.in_flight.is_set, timeout=30, what="a push in flight")
        private_postgres.restart()  # every connection of API, relay and worker is cut
        after = factories.send(runtime, org.org_id, n=2)
        wait_for(
            lambda: settled(runtime, before + during + after),
            timeout=90,
            what=f"delivery after the database restart; worker log:\n{worker.log()}",
        )
        assert_nothing_lost(receiver, before + during + after)
        with engine_for(url).connect() as conn:
            assert conn.execute(text("select 1")).scalar() == 1
    finally:
        relay.stop()
        worker.stop()
        runtime.engine.dispose()
        engine_for(url).dispose()
