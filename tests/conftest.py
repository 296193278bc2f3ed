"""Test fixtures: one behaviour suite for every back-end.

`--backend sqlite` (the embedded default) or `--backend postgresql` (or REFHUB_TEST_BACKEND)
picks the database the whole run uses. The database is built by the migrations. Each test
runs in a transaction rolled back afterwards (`db`); tests that need other processes to see
their data use `committed` and clean up what they wrote. Celery tests start a real worker
process on the real Redis broker. A missing PostgreSQL or Redis fails the run: it never
skips.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, delete, text
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from consent.vault import generate_kek_file
from gateway.delivery.keys import generate_message_key_file
from gateway.migrations import upgrade
from gateway.runtime import Runtime
from gateway.task_modules import load_task_modules
from kernel import outbox
from kernel.crypto import generate_ed25519_key_file
from kernel.settings import Settings, reset_settings_cache
from tests import fhir_schema

DEFAULT_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
DEFAULT_REDIS = "redis://127.0.0.1:6379/15"
REFHUB = str(Path(sys.executable).parent / "refhub")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--backend",
        choices=("sqlite", "postgresql"),
        default=os.environ.get("REFHUB_TEST_BACKEND", "sqlite"),
        help="database back-end for the whole run",
    )


def pytest_configure(config: pytest.Config) -> None:
    # for modules that choose what they collect by back-end (tests/gateway/test_openapi_fuzz)
    os.environ["REFHUB_TEST_BACKEND_CHOSEN"] = config.getoption("--backend")


def pytest_report_header(config: pytest.Config) -> str:
    return f"refhub backend: {config.getoption('--backend')}"


class Databases:
    """Creates throw-away databases on the chosen back-end, migrated to head."""

    def __init__(self, backend: str, root: Path) -> None:
        self.backend = backend
        self.root = root
        self.admin_url = os.environ.get("REFHUB_TEST_POSTGRES_URL", DEFAULT_POSTGRES)
        self.created: list[str] = []

    def _admin_exec(self, sql: str) -> None:
        engine = create_engine(self.admin_url, isolation_level="AUTOCOMMIT")
        try:
            with engine.connect() as conn:
                conn.execute(text(sql))
        finally:
            engine.dispose()

    def create(self, migrate: bool = True) -> str:
        name = f"refhub_test_{uuid.uuid4().hex[:12]}"
        if self.backend == "sqlite":
            url = f"sqlite:///{self.root / (name + '.db')}"
        else:
            try:
                self._admin_exec(f'CREATE DATABASE "{name}"')
            except SQLAlchemyError as exc:
                pytest.fail(
                    f"PostgreSQL is required for --backend postgresql and is not usable at "
                    f"{make_url(self.admin_url).render_as_string(hide_password=True)}: {exc}",
                    pytrace=False,
                )
            self.created.append(name)
            url = make_url(self.admin_url).set(database=name).render_as_string(hide_password=False)
        if migrate:
            engine = create_engine(url)
            try:
                upgrade(engine)
            finally:
                engine.dispose()
        return url

    def drop_all(self) -> None:
        for name in self.created:
            self._admin_exec(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def backend(pytestconfig: pytest.Config) -> str:
    return str(pytestconfig.getoption("--backend"))


@pytest.fixture(scope="session")
def databases(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Databases]:
    dbs = Databases(backend, tmp_path_factory.mktemp("databases"))
    yield dbs
    dbs.drop_all()


@pytest.fixture(scope="session")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("data")
    generate_ed25519_key_file(path / "keys" / "audit-signing.pem")
    generate_kek_file(path / "keys" / "kek.key")
    generate_message_key_file(path / "keys" / "message-signing.jwk")
    return path


def backend_redis_url(url: str, backend: str) -> str:
    """The Redis database of this run's back-end: the PostgreSQL run uses the one given, the
    SQLite run the number below it (`make test` runs both halves at once; each flushes its
    own database at start)."""
    base, _slash, number = url.rpartition("/")
    if backend != "sqlite" or not number.isdigit():
        return url
    n = int(number)
    return f"{base}/{n - 1 if n > 0 else n + 1}"


@pytest.fixture(scope="session")
def redis_url(backend: str) -> str:
    """The real Redis the suite uses as Celery broker (its own database number, flushed)."""
    import redis

    url = backend_redis_url(os.environ.get("REFHUB_TEST_REDIS_URL", DEFAULT_REDIS), backend)
    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=3)
        client.flushdb()
        client.close()
    except redis.RedisError as exc:
        pytest.fail(
            f"Redis is required by the suite and is not usable at {url}: {exc}", pytrace=False
        )
    return url


@pytest.fixture(scope="session")
def env_base(data_dir: Path) -> dict[str, str]:
    """Environment a refhub subprocess of this run starts with."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("REFHUB_")}
    env.update({"REFHUB_DATA_DIR": str(data_dir), "REFHUB_LOG_LEVEL": "warning"})
    return env


@pytest.fixture(scope="session")
def settings(databases: Databases, data_dir: Path) -> Iterator[Settings]:
    """The run's settings, also exported so `get_settings()` (tasks, CLI) agrees."""
    url = databases.create()
    mp = pytest.MonkeyPatch()
    mp.setenv("REFHUB_DATABASE_URL", url)
    mp.setenv("REFHUB_DATA_DIR", str(data_dir))
    mp.delenv("REFHUB_BROKER_URL", raising=False)
    # The suite shares one audit chain: a checkpoint queued whenever it passes a multiple of
    # N records would land in whichever test crossed it (tests/gateway/test_audit_witness.py
    # sets its own N on its own chain).
    mp.setenv("REFHUB_AUDIT_CHECKPOINT_EVERY_RECORDS", "1000000")
    reset_settings_cache()
    load_task_modules()
    yield Settings()
    mp.undo()
    reset_settings_cache()


CHROMIUM = "/usr/bin/chromium"  # Debian's, for the browser tests; never `playwright install`
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="session")
def runtime(settings: Settings) -> Runtime:
    return Runtime(settings)


@pytest.fixture(autouse=True)
def fhir_answers_are_valid() -> Iterator[None]:
    """A test fails if an app it used answered FHIR JSON that HL7's R4 schema refuses."""
    fhir_schema.take_violations()
    yield
    found = fhir_schema.take_violations()
    assert not found, "the hub answered invalid FHIR R4:\n" + "\n".join(found)


@pytest.fixture
def db(runtime: Runtime) -> Iterator[Session]:
    """A session inside a transaction that is rolled back after the test."""
    connection = runtime.engine.connect()
    outer = connection.begin()
    session = Session(bind=connection, join_transaction_mode="create_savepoint")
    try:
        yield session
    finally:
        session.close()
        outer.rollback()
        connection.close()


@contextlib.contextmanager
def shared_data(runtime: Runtime, load: Callable[[Session], object]) -> Iterator[Connection]:
    """A connection inside a transaction holding what `load` wrote, rolled back at the end:
    data a whole module reads, written once instead of before each test."""
    connection = runtime.engine.connect()
    outer = connection.begin()
    session = Session(bind=connection, join_transaction_mode="create_savepoint")
    try:
        load(session)
        session.commit()  # releases the session's savepoint into the outer transaction
        session.close()
        yield connection
    finally:
        outer.rollback()
        connection.close()


def db_on(connection: Connection) -> Iterator[Session]:
    """A test's session on a module's `shared_data` connection: its writes (commits
    included) are undone after the test by a savepoint, the module's data stays. A module
    overrides its `db` fixture with it."""
    savepoint = connection.begin_nested()
    session = Session(bind=connection, join_transaction_mode="create_savepoint")
    try:
        yield session
    finally:
        session.close()
        if savepoint.is_active:
            savepoint.rollback()


@pytest.fixture
def committed(runtime: Runtime) -> Iterator[Runtime]:
    """For tests whose data other threads or processes must see: outbox rows are removed
    afterwards (audit rows are append-only and stay, which every audit test tolerates)."""
    yield runtime
    with runtime.sessions.begin() as session:
        session.execute(delete(outbox.OutboxEvent))


def wait_for(predicate: Callable[[], Any], timeout: float = 30.0, what: str = "condition") -> Any:
    """Poll until `predicate()` is truthy; fail the test after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    pytest.fail(f"timed out after {timeout}s waiting for {what}")


class Worker:
    """A real `refhub worker` process."""

    def __init__(self, env: dict[str, str], log_path: Path) -> None:
        self.log_path = log_path
        self._log = log_path.open("wb")
        self.process = subprocess.Popen(
            [REFHUB, "worker", "--concurrency", "2"],
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(5)
        self._log.close()


@pytest.fixture(scope="session")
def start_worker(
    tmp_path_factory: pytest.TempPathFactory, env_base: dict[str, str], settings: Settings
) -> Iterator[Callable[[str], Worker]]:
    workers: list[Worker] = []

    def start(broker_url: str) -> Worker:
        env = {
            **env_base,
            "REFHUB_DATABASE_URL": settings.database_url,
            "REFHUB_BROKER_URL": broker_url,
        }
        log_path = tmp_path_factory.mktemp("worker") / "worker.log"
        worker = Worker(env, log_path)
        workers.append(worker)
        return worker

    yield start
    for worker in workers:
        worker.stop()
