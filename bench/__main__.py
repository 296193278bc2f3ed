"""Foundation benchmarks: the cost of the audit chain and of the outbox relay.

Each figure is a ratio against a baseline measured in the same run on the same database,
printed with the absolute numbers and the machine. Run: `make bench` or
`python -m bench [--backend sqlite|postgresql|both] [--n 2000] [--threads 16]`.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from bench.machine import cpu_model
from gateway.delivery.relay import InProcessDispatcher, Relay
from gateway.migrations import upgrade
from kernel import audit, outbox
from kernel.db import engine_for

PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


@outbox.task("bench.noop")
def _noop(session: Session, *, n: int) -> None:
    """A task with no effect: measures the relay and executor alone."""


def _database(backend: str, workdir: Path) -> tuple[str, Callable[[], None]]:
    if backend == "sqlite":
        url = f"sqlite:///{workdir / 'bench.db'}"
        return url, lambda: None
    name = f"refhub_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return make_url(PG_ADMIN).set(database=name).render_as_string(hide_password=False), drop


def _rate(work: Callable[[int], None], n: int, threads: int) -> float:
    """Operations per second for n operations spread over `threads` threads."""
    per_thread = n // threads
    barrier = threading.Barrier(threads + 1)

    def run(offset: int) -> None:
        barrier.wait()
        for i in range(per_thread):
            work(offset + i)

    pool = [threading.Thread(target=run, args=(t * per_thread,)) for t in range(threads)]
    for thread in pool:
        thread.start()
    barrier.wait()
    started = time.perf_counter()
    for thread in pool:
        thread.join()
    return per_thread * threads / (time.perf_counter() - started)


def bench_backend(backend: str, n: int, threads: int) -> dict[str, float]:
    workdir = Path(tempfile.mkdtemp(prefix="refhub-bench-"))
    url, drop = _database(backend, workdir)
    try:
        upgrade(engine_for(url, threads))
        sessions = sessionmaker(bind=engine_for(url, threads), expire_on_commit=False)

        def enqueue_only(i: int) -> None:
            with sessions.begin() as session:
                outbox.enqueue(session, "bench.noop", {"n": i})

        def enqueue_and_audit(i: int) -> None:
            with sessions.begin() as session:
                outbox.enqueue(session, "bench.noop", {"n": i})
                audit.record(
                    session,
                    actor="system:bench",
                    action="bench.write",
                    subject=f"Bench/{i}",
                    detail={"sha256": "ab" * 32},
                )

        results: dict[str, float] = {}
        for label, count in (("1 thread", 1), (f"{threads} threads", threads)):
            enqueue_only(0)  # warm the pool
            base = _rate(enqueue_only, n, count)
            chained = _rate(enqueue_and_audit, n, count)
            results[f"tx/s outbox insert, {label} (baseline)"] = base
            results[f"tx/s outbox insert + audit chain, {label}"] = chained
            results[f"ratio audit chain / baseline, {label}"] = chained / base
        relay = Relay(sessions, InProcessDispatcher(sessions), batch_size=100)
        started = time.perf_counter()
        relayed = relay.drain(max_batches=10**6)
        results["events/s embedded relay (claim + execute)"] = relayed / (
            time.perf_counter() - started
        )
        results["ratio relay / baseline 1-thread tx"] = (
            results["events/s embedded relay (claim + execute)"]
            / results["tx/s outbox insert, 1 thread (baseline)"]
        )
        return results
    finally:
        engine_for(url, threads).dispose()
        drop()


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--n", type=int, default=2000, help="operations per measurement")
    parser.add_argument("--threads", type=int, default=16)
    parser.add_argument("--json", action="store_true", help="print JSON only")
    args = parser.parse_args()
    backends = ("sqlite", "postgresql") if args.backend == "both" else (args.backend,)
    report = {
        "machine": {
            "cpus": os.cpu_count(),
            "cpu": cpu_model(),
            "platform": platform.platform(),
            "python": platform.python_version(),
        },
        "results": {b: bench_backend(b, args.n, args.threads) for b in backends},
    }
    if args.json:
        print(json.dumps(report, indent=2))
        return
    print(f"machine: {report['machine']}")
    for backend, figures in report["results"].items():
        print(f"\n[{backend}]")
        for name, value in figures.items():
            print(f"  {name:<55} {value:>10.2f}")


if __name__ == "__main__":
    main()
