"""The hub as production runs it, started for the benchmarks and for tests
(tests/gateway/production.py): the demo data loaded, `refhub serve` as its own process
(2 uvicorn workers on PostgreSQL, one on the embedded SQLite), a real `refhub worker`
(Celery, one pool process) on Redis when there is a broker, and the demo agencies' system
clients signed in with their SMART Backend Services keys.

Every request made through here has a client-side timeout: a hung worker fails the caller,
it never hangs it.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from joserfc import jwt
from joserfc.jwk import OKPKey
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from consent.vault import generate_kek_file
from gateway.delivery.keys import generate_message_key_file
from kernel.crypto import generate_ed25519_key_file

__all__ = [
    "REFHUB",
    "TIMEOUT",
    "Agency",
    "Hub",
    "Target",
    "demo_targets",
    "free_port",
    "make_data_dir",
    "start_hub",
    "throwaway_database",
]

REFHUB = str(Path(sys.executable).parent / "refhub")
TIMEOUT = httpx.Timeout(30.0, connect=5.0)


class HubDidNotStart(RuntimeError):
    """What the hub was waited for did not happen in time."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_for(predicate: Callable[[], Any], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise HubDidNotStart(f"timed out after {timeout}s waiting for {what}")


@dataclass
class Agency:
    """A demo agency's system client, signed in."""

    client_id: str
    key: OKPKey
    scope: str
    token: str = ""

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@dataclass
class Hub:
    base_url: str
    database_url: str
    log_path: Path
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)
    agencies: dict[str, Agency] = field(default_factory=dict)

    @property
    def out_path(self) -> Path:
        return self.log_path.with_suffix(".out")

    def log(self) -> str:
        """What the hub's processes logged (their standard error)."""
        return self.log_path.read_text(errors="replace")

    def printed(self) -> str:
        """What `refhub serve` and its workers wrote to standard output."""
        return self.out_path.read_text(errors="replace")

    def sign_in(self, slug: str) -> Agency:
        agency = self.agencies[slug]
        assertion = jwt.encode(
            {"alg": "EdDSA", "kid": agency.key.kid},
            {
                "iss": agency.client_id,
                "sub": agency.client_id,
                "aud": f"{self.base_url}/auth/token",
                "exp": int(time.time()) + 240,
                "jti": uuid.uuid4().hex,
            },
            agency.key,
            algorithms=["EdDSA"],
        )
        answer = httpx.post(
            f"{self.base_url}/auth/token",
            data={
                "grant_type": "client_credentials",
                "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
                "client_assertion": assertion,
                "scope": agency.scope,
            },
            timeout=TIMEOUT,
        )
        assert answer.status_code == 200, answer.text
        agency.token = answer.json()["access_token"]
        return agency

    def sql(self, query: str, **params: Any) -> list[Any]:
        engine = create_engine(self.database_url)
        try:
            with engine.connect() as conn:
                return list(conn.execute(text(query), params).all())
        finally:
            engine.dispose()

    def ready(self) -> bool:
        try:
            return httpx.get(f"{self.base_url}/readyz", timeout=5).status_code == 200
        except httpx.HTTPError:
            return False

    def stop(self) -> None:
        for process in self.processes:
            process.terminate()
        for process in self.processes:
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(5)


def make_data_dir(path: Path) -> Path:
    generate_ed25519_key_file(path / "keys" / "audit-signing.pem")
    generate_kek_file(path / "keys" / "kek.key")
    generate_message_key_file(path / "keys" / "message-signing.jwk")
    return path


def start_hub(
    *,
    env_base: dict[str, str],
    database_url: str,
    broker_url: str | None,
    data_dir: Path,
    workers: int,
    log_level: str = "info",
    worker_concurrency: int = 1,
) -> Hub:
    """Demo data loaded, then `refhub serve` (and a `refhub worker` with a broker)."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {
        **env_base,
        "REFHUB_DATABASE_URL": database_url,
        "REFHUB_DATA_DIR": str(data_dir),
        "REFHUB_PUBLIC_BASE_URL": base,
        "REFHUB_LOG_LEVEL": log_level,
        "REFHUB_LOG_FORMAT": "json",
    }
    if broker_url:
        env["REFHUB_BROKER_URL"] = broker_url
    demo = subprocess.run(
        [REFHUB, "demo"], env=env, capture_output=True, text=True, timeout=180, check=False
    )
    assert demo.returncode == 0, demo.stderr
    hub = Hub(base, database_url, data_dir / "hub.log")
    log, out = hub.log_path.open("ab"), hub.out_path.open("ab")
    command = [REFHUB, "serve", "--port", str(port), "--workers", str(workers)]
    hub.processes.append(subprocess.Popen(command, env=env, stdout=out, stderr=log))
    if broker_url:  # its log lines (stderr) go to the same file; Celery's banner apart
        banner = (data_dir / "worker.out").open("ab")
        worker = [REFHUB, "worker", "--concurrency", str(worker_concurrency)]
        hub.processes.append(subprocess.Popen(worker, env=env, stdout=banner, stderr=log))
    try:
        _wait_for(hub.ready, timeout=60, what=f"refhub serve on {base}")
        # one worker answering is not all of them serving (a busy machine starts them
        # apart); the line is counted as text: whether it is JSON is what a test checks
        _wait_for(
            lambda: hub.log().count("Started server process") >= workers,
            timeout=90,
            what=f"all {workers} workers of refhub serve to start",
        )
        for slug in ("northside", "harbour"):
            spec = json.loads((data_dir / "demo-clients" / f"{slug}.json").read_text())
            hub.agencies[slug] = Agency(
                spec["client_id"], OKPKey.import_key(spec["jwk"]), spec["scope"]
            )
            hub.sign_in(slug)
    except BaseException:
        hub.stop()
        raise
    return hub


@dataclass(frozen=True)
class Target:
    """A consent of a demo client and a service of the receiver it permits."""

    consent_id: str
    service_id: str
    client_id: str


def demo_targets(hub: Hub) -> list[Target]:
    """One target per demo client that Northside has referred to Harbour."""
    rows = hub.sql(
        "SELECT DISTINCT r.consent_id, r.service_id, r.client_id FROM workflow_referral r "
        "JOIN gateway_auth_organisation o ON o.id = r.requester_org_id "
        "WHERE o.name LIKE 'Northside%' AND r.kind = 'referral'"
    )
    seen: dict[str, Target] = {}
    for consent, service, client in rows:
        seen.setdefault(str(client), Target(_uuid(consent), _uuid(service), _uuid(client)))
    return list(seen.values())


def _uuid(value: Any) -> str:
    return str(value if isinstance(value, uuid.UUID) else uuid.UUID(str(value)))


PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def throwaway_database(backend: str, workdir: Path, prefix: str) -> tuple[str, Callable[[], None]]:
    """A new, empty database (PostgreSQL at PG_ADMIN, or an SQLite file in `workdir`) and
    how to drop it."""
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    if backend == "sqlite":
        return f"sqlite:///{workdir / (name + '.db')}", lambda: None
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    url = make_url(PG_ADMIN).set(database=name).render_as_string(hide_password=False)
    return url, drop
