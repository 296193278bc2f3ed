"""Database kernel: the declarative base, column types, engines and transactions.

One base for every package's tables, with a naming convention so SQLite migrations
(batch mode) can address constraints by name. Sessions are synchronous; the boundary
(request, task, CLI command) commits, services only flush.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from sqlalchemy import DateTime, MetaData, TypeDecorator, Uuid, create_engine, event, text
from sqlalchemy.engine import Connection, Dialect, Engine, make_url
from sqlalchemy.orm import (
    DeclarativeBase,
    Mapped,
    ORMExecuteState,
    Session,
    SessionTransaction,
    mapped_column,
    sessionmaker,
)

__all__ = [
    "Base",
    "UTCDateTime",
    "end_transaction",
    "engine_for",
    "forget_inherited_connections",
    "held",
    "lock_key",
    "new_id",
    "ping",
    "read_only",
    "session_factory",
    "transaction",
    "transaction_memo",
    "utcnow",
]

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> dt.datetime:
    """The current time, timezone-aware UTC."""
    return dt.datetime.now(dt.UTC)


def new_id() -> uuid.UUID:
    return uuid.uuid4()


class UTCDateTime(TypeDecorator[dt.datetime]):
    """A timestamp stored in UTC and always read back timezone-aware (SQLite keeps no zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored; use kernel.db.utcnow()")
        value = value.astimezone(dt.UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if isinstance(value, str):  # pragma: no cover - SQLite raw text
            value = dt.datetime.fromisoformat(value)
        assert isinstance(value, dt.datetime)
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


class Base(DeclarativeBase):
    """Declarative base of every refhub table."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {uuid.UUID: Uuid(), dt.datetime: UTCDateTime()}


class IdMixin:
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)


def _configure_sqlite(engine: Engine, busy_seconds: float) -> None:
    """Real transactions on SQLite: WAL, foreign keys, and BEGIN IMMEDIATE.

    pysqlite's own transaction handling defers BEGIN and breaks SAVEPOINT; SQLAlchemy's
    documented recipe takes it over. BEGIN IMMEDIATE takes the write lock at the start, so
    two writers queue (busy_timeout) instead of failing on a lock upgrade.
    """

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_seconds * 1000)}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        if conn.get_execution_options().get("isolation_level") != "AUTOCOMMIT":
            conn.exec_driver_sql("BEGIN IMMEDIATE")


_ENGINES: dict[tuple[str, int], Engine] = {}


def engine_for(url: str, pool_size: int = 10) -> Engine:
    """The process's engine for a database URL (one pool per URL)."""
    key = (url, pool_size)
    if key not in _ENGINES:
        if url.startswith("sqlite"):
            # How long a writer waits for the one write lock (`?timeout=` in the URL, default
            # 30 s); past it the request answers 503 with Retry-After (gateway.errors).
            busy = float(make_url(url).query.get("timeout", "30"))  # type: ignore[arg-type]
            engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": busy})
            _configure_sqlite(engine, busy)
        else:
            engine = create_engine(
                url,
                pool_size=pool_size,
                max_overflow=pool_size,
                pool_pre_ping=True,
                connect_args={
                    "connect_timeout": 5,
                    "application_name": "refhub",
                    # psycopg prepares a statement after its 5th run, and PostgreSQL then
                    # may settle on a generic plan that ignores the values: on skewed data
                    # (a common category, a busy organisation) 3x slower directory searches.
                    # Keep the prepared statement, plan each run for its own values.
                    "options": "-c plan_cache_mode=force_custom_plan",
                },
            )
        _ENGINES[key] = engine
    return _ENGINES[key]


def forget_inherited_connections() -> None:
    """Call in a freshly forked child: the parent's pooled connections are not ours to use
    (two processes on one socket corrupt the protocol); the child opens its own."""
    for engine in _ENGINES.values():
        engine.dispose(close=False)


@event.listens_for(Session, "do_orm_execute")
def _locked_reads_refresh(state: ORMExecuteState) -> None:
    """A `FOR UPDATE` read always returns the row as it is once locked.

    Without this, an object read earlier in the same transaction sits in the identity map
    and the locked read hands back that stale copy: two concurrent changes of one referral
    both passed its If-Match check with the old version and both were applied (issue 14).
    """
    if state.is_select and getattr(state.statement, "_for_update_arg", None) is not None:
        state.update_execution_options(populate_existing=True)


def lock_key(session: Session, *parts: str) -> None:
    """Hold a lock on the key `parts` until this transaction ends (one holder at a time).

    For claims that no row exists yet to lock, such as an idempotency key: the second of two
    concurrent transactions waits here, then sees what the first committed. PostgreSQL: a
    transaction-level advisory lock on a 64-bit digest of the key. SQLite: nothing to do, as
    BEGIN IMMEDIATE already serialises every writing transaction.
    """
    if session.get_bind().dialect.name != "postgresql":
        return
    digest = hashlib.sha256("\0".join(parts).encode()).digest()
    key = int.from_bytes(digest[:8], "big", signed=True)
    session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})


@functools.cache
def session_factory(url: str, pool_size: int = 10) -> sessionmaker[Session]:
    return sessionmaker(bind=engine_for(url, pool_size), expire_on_commit=False)


def end_transaction(session: Session, error: BaseException | None) -> None:
    """Commit on success; on error roll back, unless the error asks to keep its trace."""
    if error is None or getattr(error, "keeps_writes", False):
        session.commit()
    else:
        session.rollback()


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One unit of work: commit if the block succeeds, roll back if it raises (see
    `kernel.errors.RefhubError.keeps_writes` for refusals that are recorded)."""
    with factory() as session:
        try:
            yield session
        except BaseException as error:
            end_transaction(session, error)
            raise
        end_transaction(session, None)


@contextmanager
def read_only(engine: Engine) -> Iterator[Connection]:
    """A connection for statistics and probes: no transaction, so it never waits for a
    writer (SQLite WAL readers see the last commit) and never holds a lock."""
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        yield conn


def ping(engine: Engine) -> None:
    """Round-trip to the database; raises the driver's error when it is unreachable."""
    with read_only(engine) as conn:
        conn.execute(text("SELECT 1"))


_MEMO_KEY = "refhub.db.transaction_memo"
_M = TypeVar("_M")


def transaction_memo(session: Session, name: str) -> dict[Any, Any]:
    """A dict that lives as long as the session's current (outermost) transaction: for
    lookups a batch repeats, which must not outlive the snapshot they were read in."""
    memos: dict[str, dict[Any, Any]] = session.info.setdefault(_MEMO_KEY, {})
    return memos.setdefault(name, {})


@event.listens_for(Session, "after_transaction_end")
def _forget_memos(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:
        session.info.pop(_MEMO_KEY, None)


def held(session: Session, model: type[_M], key: Any) -> _M | None:
    """`session.get(model, key)`, the object kept for the rest of the transaction.

    The session's identity map holds unchanged objects weakly: a row looked up in one helper
    and dropped is read again by the next helper that asks. This keeps it (per outermost
    transaction, as `transaction_memo`), for the rows one request asks for several times.
    """
    memo = transaction_memo(session, "held")
    found = memo.get((model, key))
    if found is None:
        found = session.get(model, key)
        if found is not None:
            memo[(model, key)] = found
    return found
