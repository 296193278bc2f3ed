"""Delivery throughput: messages per second per worker process, each built, signed (ES256
JWS), encrypted (ECDH-ES+A256KW/A256GCM JWE) and POSTed to a local webhook receiver, on
PostgreSQL and Redis.

Baseline in the same run: the receiver's raw rate for POSTs of the same sealed bytes from
one sequential client (no hub, no database, no crypto), so the ratio says what the hub's
delivery costs per message on top of the HTTP round trip.

Figures:
- one message per unit of work: `kernel.outbox.execute` per message in this process (two
  transactions per message: what every worker did before batching);
- batched: `kernel.outbox.execute_many` over the settings' delivery batches in this
  process (what one worker process does per broker message, without the broker hop);
- end to end (the figure the target is about): the outbox relay publishes to Redis and
  one real `refhub worker --concurrency 1` process (one pool process) delivers; timed
  from the first publish until every message is marked delivered.

Run: `python -m bench.delivery [--n 1000] [--kb 8] [--redis redis://127.0.0.1:6379/13]`.
It creates and drops its own PostgreSQL database and empties the Redis database it uses.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from bench.machine import describe

PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
ROOT = Path(__file__).resolve().parents[1]
_PAD = {"kb": 8}


# The receiver (a separate process, so it does not share the hub's GIL)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # no 40 ms delayed-ACK stalls between header and body

    def log_message(self, *_args: Any) -> None:
        pass

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")


def _serve(port: int) -> None:
    server = ThreadingHTTPServer(("127.0.0.1", port), _Handler)
    server.daemon_threads = True
    server.serve_forever()


# The builder a real workflow would register: an 8 KB FHIR Task


def _build(_session: Session, message: Any) -> Any:
    from gateway.delivery.outgoing import Payload

    task = {
        "resourceType": "Task",
        "id": str(message.id),
        "status": "requested",
        "note": [{"text": "x" * (_PAD["kb"] * 1024)}],
    }
    return Payload(task, "Task", str(message.id))


def _register_builder() -> None:
    from gateway.delivery.outgoing import MessageKind, register_builder

    for kind in MessageKind:
        register_builder(kind, _build)


# The run


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_http(url: str) -> None:
    for _ in range(100):
        try:
            httpx.post(url, content=b"x", timeout=1)
            return
        except httpx.TransportError:
            time.sleep(0.05)
    raise RuntimeError("receiver did not start")


def _setup(url: str, receiver_url: str) -> uuid.UUID:
    """Migrate, create the signing key and a receiving organisation with a webhook."""
    from joserfc.jwk import ECKey

    from consent.vault import generate_kek_file
    from directory.models import DirEndpoint, DirOrganization
    from gateway.auth.models import Organisation
    from gateway.delivery.keys import generate_message_key_file
    from gateway.migrations import upgrade
    from kernel.crypto import generate_ed25519_key_file
    from kernel.settings import Settings

    engine = create_engine(url)
    upgrade(engine)
    settings = Settings()  # this run's environment: its own data directory
    generate_message_key_file(settings.message_key_path)
    generate_ed25519_key_file(settings.audit_key_path)  # what `refhub keys init` makes
    generate_kek_file(settings.kek_path)
    key = ECKey.generate_key("P-256", private=True)
    key.ensure_kid()
    with Session(engine) as session, session.begin():
        org = Organisation(
            name="Bench receiver",
            org_type="resettlement_ngo",
            status="active",
            contact_email="bench@example.org",
        )
        session.add(org)
        session.flush()
        listing = DirOrganization(id=org.id, owner_organisation_id=org.id, name="Bench receiver")
        session.add(listing)
        session.flush()
        session.add(
            DirEndpoint(
                organization_id=listing.id,
                connection_type="rest-hook",
                address=receiver_url,
                payload_types=["application/fhir+json"],
                public_jwk=key.as_dict(private=False),
                active=True,
            )
        )
        org_id = org.id
    engine.dispose()
    return org_id


def _queue(url: str, org_id: uuid.UUID, n: int) -> list[uuid.UUID]:
    """Queue n messages (one transaction per 100); the outbox event ids."""
    from gateway.delivery.outgoing import SEND_TASK, MessageKind, queue
    from kernel import outbox
    from kernel.db import session_factory

    sessions = session_factory(url)
    for start in range(0, n, 100):
        with sessions.begin() as session:
            for _ in range(min(100, n - start)):
                queue(
                    session,
                    kind=MessageKind.STATUS,
                    recipient_org_id=org_id,
                    sender_org_id=None,
                    referral_id=uuid.uuid4(),
                    subject_ref="Patient/bench",
                )
    with sessions() as session:
        return list(
            session.scalars(
                select(outbox.OutboxEvent.id).where(
                    outbox.OutboxEvent.task == SEND_TASK, outbox.OutboxEvent.state == "pending"
                )
            )
        )


def _delivered(url: str) -> int:
    from gateway.delivery.models import OutgoingMessage
    from kernel.db import session_factory

    with session_factory(url)() as session:
        return int(
            session.scalar(select(func.count()).where(OutgoingMessage.state == "delivered")) or 0
        )


def _end_to_end(
    url: str, org_id: uuid.UUID, args: argparse.Namespace, env: dict[str, str]
) -> float:
    """Messages per second through the broker and one real worker process."""
    import redis

    from gateway.delivery.relay import Relay
    from gateway.delivery.worker import CeleryDispatcher
    from kernel.db import session_factory
    from kernel.settings import Settings

    redis.Redis.from_url(args.redis).flushdb()
    settings = Settings(broker_url=args.redis)
    relay = Relay(
        session_factory(url), CeleryDispatcher.for_settings(settings), settings.relay_batch_size
    )
    log_path = Path(tempfile.mkdtemp(prefix="refhub-bench-")) / "worker.log"
    log = log_path.open("wb")
    worker = subprocess.Popen(
        [sys.executable, "-m", "bench.delivery", "--worker"],
        env={**os.environ, **env, "REFHUB_BROKER_URL": args.redis},
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=ROOT,
    )
    try:

        def run(count: int) -> float:
            before = _delivered(url)
            _queue(url, org_id, count)
            started = time.perf_counter()
            deadline = started + 120
            while _delivered(url) - before < count:
                relay.drain()
                if time.perf_counter() > deadline or worker.poll() is not None:
                    raise RuntimeError(f"the worker did not deliver; its log: {log_path}")
                time.sleep(0.01)
            return count / (time.perf_counter() - started)

        run(20)  # warm-up: the worker is up, its connections open
        return run(args.n)
    finally:
        worker.terminate()
        worker.wait(30)
        log.close()
        redis.Redis.from_url(args.redis).flushdb()


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.delivery", description=__doc__)
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--kb", type=int, default=8)
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/13", help="broker for e2e")
    parser.add_argument("--receiver", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--profile", action="store_true", help="print where the time goes")
    args = parser.parse_args()
    if args.receiver:
        _serve(args.receiver)
        return
    if args.worker:  # the real `refhub worker`, with the bench's builder registered
        from gateway.cli.main import main as refhub
        from gateway.task_modules import load_task_modules

        load_task_modules()
        _register_builder()
        sys.argv = ["refhub", "worker", "--concurrency", "1"]
        refhub()
        return
    _PAD["kb"] = args.kb

    name = f"refhub_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(PG_ADMIN).set(database=name).render_as_string(hide_password=False)
    data_dir = Path(tempfile.mkdtemp(prefix="refhub-bench-"))
    port = _free_port()
    receiver_url = f"http://127.0.0.1:{port}/hook"
    receiver = subprocess.Popen([sys.executable, "-m", "bench.delivery", "--receiver", str(port)])
    env = {
        "REFHUB_DATABASE_URL": url,
        "REFHUB_DATA_DIR": str(data_dir),
        "REFHUB_DELIVERY_ALLOW_HTTP": "true",
        "REFHUB_LOG_LEVEL": "warning",
    }
    os.environ.update(env)
    try:
        _wait_http(receiver_url)
        org_id = _setup(url, receiver_url)
        from gateway.delivery.envelope import seal_message
        from gateway.delivery.signing import signing_key
        from gateway.task_modules import load_task_modules
        from kernel import outbox
        from kernel.db import session_factory
        from kernel.settings import get_settings, reset_settings_cache

        reset_settings_cache()
        settings = get_settings()
        load_task_modules()
        _register_builder()

        # baseline: raw POSTs of a sealed message of the same size, one sequential client
        from joserfc.jwk import ECKey

        sample = seal_message(
            b"x" * (args.kb * 1024 + 100),
            message_id="m",
            content_type="application/fhir+json",
            signing_key=signing_key(settings.message_key_path),
            receiver_key=ECKey.generate_key("P-256"),
        ).encode()
        with httpx.Client() as client:
            started = time.perf_counter()
            for _ in range(args.n):
                client.post(receiver_url, content=sample)
            baseline = args.n / (time.perf_counter() - started)

        sessions = session_factory(url)

        def timed(run: Any, profile: bool = False) -> float:
            events = _queue(url, org_id, args.n)
            before = _delivered(url)
            profiler = None
            if profile:
                import cProfile

                profiler = cProfile.Profile()
                profiler.enable()
            started = time.perf_counter()
            run(events)
            rate = len(events) / (time.perf_counter() - started)
            if profiler is not None:
                import pstats

                profiler.disable()
                pstats.Stats(profiler).sort_stats("cumulative").print_stats(40)
            assert _delivered(url) - before == args.n, "not every message was delivered"
            return rate

        # one message per unit of work: two transactions per message
        single = timed(lambda events: [outbox.execute(sessions, e) for e in events])

        # batched, as a worker process runs one broker message
        def batched(events: list[uuid.UUID]) -> None:
            step = settings.delivery_batch_size
            for start in range(0, len(events), step):
                outbox.execute_many(
                    sessions,
                    events[start : start + step],
                    concurrency=settings.delivery_push_concurrency,
                )

        many = timed(batched, profile=args.profile)

        # end to end: relay -> Redis -> one worker process
        e2e = _end_to_end(url, org_id, args, env)

        print(f"machine: {describe()}")
        print(
            f"PostgreSQL + Redis, {args.kb} KB payload, n={args.n}, batches of "
            f"{settings.delivery_batch_size}, {settings.delivery_push_concurrency} pushes in flight"
        )
        rows = [
            ("receiver raw POST rate (baseline)", baseline),
            ("one message per unit of work", single),
            ("batched, in this process", many),
            ("end to end: Redis + 1 worker process", e2e),
        ]
        for label, rate in rows:
            print(f"  {label:<40} {rate:>8.0f} /s  ratio {rate / baseline:.3f}")
    finally:
        receiver.terminate()
        from kernel.db import engine_for

        engine_for(url).dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


if __name__ == "__main__":
    main()
