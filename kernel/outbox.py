"""The transactional outbox: work to do after a commit, written in the same transaction.

`enqueue()` adds an event row beside the data it concerns; a relay (gateway.delivery)
hands committed events to Celery, or runs them in-process when no broker is configured.
`execute()` runs one event exactly once in effect: under a row lock it skips events already
done, runs the registered handler and marks the event done in the handler's own
transaction. Retries are outbox-driven (the row goes back to pending with a backoff), so a
broker outage or a worker crash loses nothing.

Handlers are registered with `@task(name)` in the owning package's `tasks.py`; payloads
hold ids, never ORM objects or client content.

A task that talks to the network declares `perform` and `finish` (a *phased* task): the
handler then only prepares a plan in the claiming transaction, which commits and releases
the event's row lock; `perform(plan)` runs with no transaction open; `finish(session,
result, **payload)` runs in a second transaction that locks the event again and marks it
done. The first phase leaves the event `claimed`: another run of it (a message the broker
handed over twice) skips it while the I/O is in flight. A crash during `perform` leaves it
claimed until the relay re-dispatches it after its `stale_after`, so it is run again
(at-least-once); the handler and `finish` must therefore be idempotent.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import enum
import random
import uuid
from collections.abc import Callable, Hashable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar

import structlog
from sqlalchemy import JSON, Index, String, Text, event, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Mapped, Session, SessionTransaction, mapped_column, sessionmaker

from kernel.db import Base, new_id, transaction, utcnow
from kernel.errors import Recoverable, RefhubError

__all__ = [
    "EventState",
    "OutboxEvent",
    "TaskSpec",
    "current_attempt",
    "enqueue",
    "execute",
    "execute_many",
    "on_commit_with_events",
    "registered_tasks",
    "remove_commit_listener",
    "task",
]

log = structlog.get_logger(__name__)
_WRITTEN_KEY = "refhub.outbox.written"
_ATTEMPT_KEY = "refhub.outbox.attempt"
_ERROR_LIMIT = 2000

Handler = Callable[..., Any]  # None, or a phased task's plan
_T = TypeVar("_T")


class EventState(enum.StrEnum):
    PENDING = "pending"
    DISPATCHED = "dispatched"
    # A phased task's first phase committed: its I/O is running (between the transactions).
    # Another run of the same event skips it; the relay re-dispatches it if it stays claimed
    # past its `stale_after` (the claiming worker died), as it does a lost dispatch.
    CLAIMED = "claimed"
    DONE = "done"
    FAILED = "failed"


class OutboxEvent(Base):
    """A unit of work committed with the data it concerns, waiting to run."""

    __tablename__ = "kernel_outbox_event"
    __table_args__ = (Index("ix_kernel_outbox_event_state_available_at", "state", "available_at"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    task: Mapped[str] = mapped_column(String(100))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    dedupe_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    state: Mapped[str] = mapped_column(String(20), default=EventState.PENDING)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    available_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    dispatched_at: Mapped[dt.datetime | None]
    done_at: Mapped[dt.datetime | None]
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(Text)


@dataclass(frozen=True)
class TaskSpec:
    """A registered handler and how it is retried and, if periodic, scheduled."""

    name: str
    handler: Handler
    max_attempts: int = 8
    backoff_base_seconds: float = 2.0
    backoff_cap_seconds: float = 3600.0
    every_seconds: float | None = None
    perform: Callable[[Any], Any] | None = None
    finish: Callable[..., None] | None = None
    lane: Callable[[Any], Hashable] | None = None
    preload: Callable[[Session, list[dict[str, Any]]], None] | None = None
    batchable: bool = False

    def backoff(self, attempts: int) -> dt.timedelta:
        """Exponential backoff with full jitter for the `attempts`-th retry."""
        ceiling = min(self.backoff_cap_seconds, self.backoff_base_seconds * 2 ** max(attempts, 0))
        return dt.timedelta(seconds=random.uniform(ceiling / 2, ceiling))  # noqa: S311 - jitter


_REGISTRY: dict[str, TaskSpec] = {}


def task(
    name: str,
    *,
    max_attempts: int = 8,
    backoff_base_seconds: float = 2.0,
    backoff_cap_seconds: float = 3600.0,
    every_seconds: float | None = None,
    perform: Callable[[Any], Any] | None = None,
    finish: Callable[..., None] | None = None,
    lane: Callable[[Any], Hashable] | None = None,
    preload: Callable[[Session, list[dict[str, Any]]], None] | None = None,
    batchable: bool = False,
) -> Callable[[Handler], Handler]:
    """Register `handler(session, **payload)` as the outbox task `name`.

    `every_seconds` makes it periodic: beat (or the embedded relay) enqueues it on that
    interval, once per interval however many schedulers run. With `perform` and `finish`
    the task is phased (see the module docstring): the handler returns a plan (None: nothing
    to do), `perform(plan)` does the I/O outside any transaction and returns a result,
    `finish(session, result, **payload)` records it. `lane(plan)` names the plans whose
    I/O must keep its order when a batch runs plans side by side (`execute_many`).
    `preload(session, payloads)` runs before a batch's handlers and again before its
    `finish` calls, outside their savepoints: one query for what each would fetch alone
    (rows it locks there stay locked whatever a savepoint later rolls back). A `batchable`
    task's events are handed to workers several at a time (`execute_many`); others one
    by one.
    """
    if (perform is None) != (finish is None):
        raise ValueError("a phased task needs both perform and finish")

    def register(handler: Handler) -> Handler:
        existing = _REGISTRY.get(name)
        if existing is not None and existing.handler is not handler:
            raise RuntimeError(f"outbox task {name!r} is registered twice")
        _REGISTRY[name] = TaskSpec(
            name=name,
            handler=handler,
            max_attempts=max_attempts,
            backoff_base_seconds=backoff_base_seconds,
            backoff_cap_seconds=backoff_cap_seconds,
            every_seconds=every_seconds,
            perform=perform,
            finish=finish,
            lane=lane,
            preload=preload,
            batchable=batchable,
        )
        return handler

    return register


def registered_tasks() -> dict[str, TaskSpec]:
    """Every registered task by name (a copy)."""
    return dict(_REGISTRY)


def enqueue(
    session: Session,
    task_name: str,
    payload: dict[str, Any] | None = None,
    *,
    dedupe_key: str | None = None,
    delay: dt.timedelta | None = None,
) -> None:
    """Add work to the session's transaction; it runs only if the transaction commits.

    With a `dedupe_key`, a second enqueue of the same key is ignored (idempotent).

    Raises:
        KeyError: no task of that name is registered.
    """
    if task_name not in _REGISTRY:
        known = ", ".join(sorted(_REGISTRY)) or "none"
        raise KeyError(f"unknown outbox task {task_name!r}; registered: {known}")
    now = utcnow()
    values = {
        "id": new_id(),
        "task": task_name,
        "payload": payload or {},
        "dedupe_key": dedupe_key,
        "state": EventState.PENDING.value,
        "created_at": now,
        "available_at": now + (delay or dt.timedelta()),
        "attempts": 0,
    }
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(OutboxEvent).values(**values)
    if dedupe_key is not None:
        statement = statement.on_conflict_do_nothing(index_elements=["dedupe_key"])
    session.execute(statement)
    session.info[_WRITTEN_KEY] = True


_COMMIT_LISTENERS: list[Callable[[], None]] = []


def on_commit_with_events(listener: Callable[[], None]) -> None:
    """Call `listener` after any commit in this process that wrote outbox events."""
    _COMMIT_LISTENERS.append(listener)


def remove_commit_listener(listener: Callable[[], None]) -> None:
    """Stop calling a listener added with `on_commit_with_events`."""
    if listener in _COMMIT_LISTENERS:
        _COMMIT_LISTENERS.remove(listener)


@event.listens_for(Session, "after_commit")
def _notify(session: Session) -> None:
    if session.info.pop(_WRITTEN_KEY, False):
        for listener in _COMMIT_LISTENERS:
            listener()


@event.listens_for(Session, "after_transaction_end")
def _forget(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:
        session.info.pop(_WRITTEN_KEY, None)


class Outcome(enum.StrEnum):
    DONE = "done"
    SKIPPED = "skipped"
    RETRY = "retry"
    FAILED = "failed"


def _short(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:_ERROR_LIMIT]


def current_attempt(session: Session) -> int:
    """Inside a handler: which attempt of its event this is (1 for the first, 0 outside)."""
    return int(session.info.get(_ATTEMPT_KEY, 0))


def _lock(session: Session, event_ids: list[uuid.UUID]) -> dict[uuid.UUID, OutboxEvent]:
    """Lock the events' rows, in id order so concurrent batches cannot deadlock."""
    rows = session.scalars(
        select(OutboxEvent)
        .where(OutboxEvent.id.in_(event_ids))
        .order_by(OutboxEvent.id)
        .with_for_update()
    )
    return {row.id: row for row in rows}


class _Replay(Exception):
    """An event failed in a batch run without savepoints: run the phase again with them."""


def _settle(
    session: Session,
    row: OutboxEvent,
    spec: TaskSpec,
    call: Callable[[], Any],
    *,
    isolated: bool = True,
) -> Any:
    """Run `call` in a savepoint; on failure schedule a retry or dead-letter the event and
    return the Outcome; on success return what `call` returned (the event is left as is).

    An error with `keeps_writes` keeps what the call wrote (a failed attempt it recorded),
    then counts as a failure like any other. Not `isolated` (a batch's optimistic run) there
    is no savepoint, and any other error raises `_Replay` for the whole phase to be rolled
    back and run again isolated.
    """
    kept: RefhubError | None = None
    try:
        with session.begin_nested() if isolated else contextlib.nullcontext():
            try:
                result = call()
            except RefhubError as exc:
                if not exc.keeps_writes:
                    raise
                kept = exc
        if kept is not None:
            raise kept
    except Exception as exc:
        if not isolated and exc is not kept:
            raise _Replay from exc
        return _failed(row, spec, exc)
    return result


def _failed(row: OutboxEvent, spec: TaskSpec, exc: Exception) -> Outcome:
    """Settle the event of a failed call (inside the `except` that caught `exc`)."""
    bound = log.bind(task=row.task, event_id=str(row.id), attempt=row.attempts)
    if isinstance(exc, Recoverable | OperationalError):
        row.last_error = _short(exc)
        if row.attempts >= spec.max_attempts:
            row.state = EventState.FAILED
            bound.warning("outbox.dead_letter", error=type(exc).__name__)
            return Outcome.FAILED
        retry_after = exc.retry_after if isinstance(exc, Recoverable) else None
        delay = spec.backoff(row.attempts)
        if retry_after is not None:
            delay = dt.timedelta(seconds=max(0.0, retry_after))
        row.state = EventState.PENDING
        row.available_at = utcnow() + delay
        bound.info("outbox.retry_scheduled", error=type(exc).__name__)
        return Outcome.RETRY
    row.state, row.last_error = EventState.FAILED, _short(exc)
    if isinstance(exc, RefhubError):
        bound.warning("outbox.dead_letter", error=type(exc).__name__)
    else:  # a handler bug dead-letters its event, not the relay
        bound.exception("outbox.handler_crashed")
    return Outcome.FAILED


@dataclass
class _Claimed:
    """An event whose phased task prepared a plan in the claiming transaction."""

    event_id: uuid.UUID
    spec: TaskSpec
    payload: dict[str, Any]
    attempt: int
    plan: Any
    result: Any = None
    error: Exception | None = None


def _claim(session: Session, row: OutboxEvent, isolated: bool) -> Outcome | _Claimed:
    """First phase of one live event, in the claiming transaction (its attempt counted).
    DONE is returned for the caller to mark, with the batch's other finished events."""
    spec = _REGISTRY.get(row.task)
    if spec is None:
        row.state, row.last_error = EventState.FAILED, f"no handler registered for {row.task}"
        return Outcome.FAILED
    session.info[_ATTEMPT_KEY] = row.attempts
    payload = dict(row.payload)
    plan = _settle(session, row, spec, lambda: spec.handler(session, **payload), isolated=isolated)
    if isinstance(plan, Outcome):
        return plan
    if spec.perform is None or plan is None:
        return Outcome.DONE
    return _Claimed(row.id, spec, payload, row.attempts, plan)


def _perform_one(claimed: _Claimed) -> None:
    assert claimed.spec.perform is not None
    try:
        claimed.result = claimed.spec.perform(claimed.plan)
    except Exception as exc:  # noqa: BLE001 - settled in the second phase like a handler's
        claimed.error = exc


def _perform_all(claimed: list[_Claimed], concurrency: int) -> None:
    """Run the plans' I/O with no transaction open. Plans in the same lane (see `task`)
    run one after another in batch order; lanes run side by side on up to `concurrency`
    threads."""
    lanes: dict[object, list[_Claimed]] = {}
    for item in claimed:
        lane = item.spec.lane(item.plan) if item.spec.lane is not None else item.event_id
        lanes.setdefault(lane, []).append(item)

    def run_lane(items: list[_Claimed]) -> None:
        for item in items:
            _perform_one(item)

    if concurrency <= 1 or len(lanes) == 1:
        for items in lanes.values():
            run_lane(items)
        return
    with ThreadPoolExecutor(max_workers=min(concurrency, len(lanes))) as pool:
        list(pool.map(run_lane, lanes.values()))


def _finish(session: Session, row: OutboxEvent, claimed: _Claimed, isolated: bool) -> Outcome:
    """Second phase of one live event: record what its I/O did, in the settling
    transaction. DONE is returned for the caller to mark (see `_claim`)."""
    session.info[_ATTEMPT_KEY] = claimed.attempt
    finish = claimed.spec.finish
    assert finish is not None

    def settle_phase() -> None:
        if claimed.error is not None:
            raise claimed.error
        finish(session, claimed.result, **claimed.payload)

    outcome = _settle(session, row, claimed.spec, settle_phase, isolated=isolated)
    return outcome if isinstance(outcome, Outcome) else Outcome.DONE


def _live(
    rows: dict[uuid.UUID, OutboxEvent], event_id: uuid.UUID, *, claiming: bool = False
) -> OutboxEvent | None:
    """The event's row if it is still to be run: not unknown, not settled already (by a
    concurrent run of the same event) and, when `claiming`, not claimed by a run whose
    I/O is in flight (a message the broker handed over twice)."""
    row = rows.get(event_id)
    ended = (EventState.DONE, EventState.FAILED)
    if row is None or row.state in ended or (claiming and row.state == EventState.CLAIMED):
        return None
    return row


def _preload(session: Session, rows: list[OutboxEvent]) -> None:
    by_task: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        by_task.setdefault(row.task, []).append(dict(row.payload))
    for name, payloads in by_task.items():
        spec = _REGISTRY.get(name)
        if spec is not None and spec.preload is not None:
            spec.preload(session, payloads)


def _mark_done(rows: list[OutboxEvent]) -> None:
    # set after the batch's savepoints, so the updates are flushed as one statement batch
    now = utcnow()
    for row in rows:
        row.state, row.done_at = EventState.DONE, now


def execute(factory: sessionmaker[Session], event_id: uuid.UUID) -> Outcome:
    """Run one outbox event at most once in effect; return what happened.

    The handler runs in the same transaction that marks the event done, so its writes and
    the `done` mark commit together. A `Recoverable` error (or a database that is briefly
    away) puts the event back to pending after a backoff (or its `retry_after`) until
    `max_attempts`; any other error dead-letters it (`failed`, with the error) for an
    operator to inspect and re-run. A phased task's I/O runs between two transactions,
    with no row lock held (see the module docstring).
    """
    return execute_many(factory, [event_id])[event_id]


def execute_many(
    factory: sessionmaker[Session], event_ids: list[uuid.UUID], *, concurrency: int = 1
) -> dict[uuid.UUID, Outcome]:
    """Run several events as `execute` runs one, sharing the two transactions.

    In effect each event's handler and `finish` run in a savepoint of their own, so one
    event's failure rolls back only its writes and settles only its row; the others commit.
    (A batch first runs each phase without the savepoints and, if an event fails other than
    by a refusal that keeps its writes, replays the phase with them: see `_run_phase`.) Phased
    tasks' I/O runs after the claiming commit, on up to `concurrency` threads (one after
    another within a lane). A batch commits twice however many events it holds, which is
    what lets one worker process keep up with many small messages.
    """
    ids = list(dict.fromkeys(event_ids))
    optimistic = len(ids) > 1

    def claim_phase(session: Session, isolated: bool) -> tuple[dict[Any, Outcome], list[_Claimed]]:
        outcomes = dict.fromkeys(ids, Outcome.SKIPPED)
        claimed: list[_Claimed] = []
        rows = _lock(session, ids)
        live = [(e, row) for e in ids if (row := _live(rows, e, claiming=True))]
        for _event_id, row in live:
            row.attempts += 1  # counted (and flushed together) before any handler runs
        _preload(session, [row for _event_id, row in live])
        for event_id, row in live:
            first = _claim(session, row, isolated)
            if isinstance(first, _Claimed):
                claimed.append(first)
                row.state, row.dispatched_at = EventState.CLAIMED, utcnow()
            else:
                outcomes[event_id] = first
        _mark_done([row for event_id, row in live if outcomes[event_id] is Outcome.DONE])
        return outcomes, claimed

    outcomes, claimed = _run_phase(factory, claim_phase, optimistic)
    if not claimed:
        return outcomes
    # The claims are committed and the row locks released: the I/O holds no database lock.
    _perform_all(claimed, concurrency)

    def settle_phase(session: Session, isolated: bool) -> dict[Any, Outcome]:
        settled_outcomes: dict[Any, Outcome] = {}
        rows = _lock(session, [item.event_id for item in claimed])
        _preload(session, [row for item in claimed if (row := _live(rows, item.event_id))])
        settled: list[OutboxEvent] = []
        for item in claimed:
            row = _live(rows, item.event_id)
            if row is None:
                continue
            settled_outcomes[item.event_id] = _finish(session, row, item, isolated)
            if settled_outcomes[item.event_id] is Outcome.DONE:
                settled.append(row)
        _mark_done(settled)
        return settled_outcomes

    outcomes.update(_run_phase(factory, settle_phase, optimistic))
    return outcomes


def _run_phase(
    factory: sessionmaker[Session], phase: Callable[[Session, bool], _T], optimistic: bool
) -> _T:
    """Run a batch's phase in one transaction: first (for a batch) without a savepoint per
    event, the common case where every event's handler returns or refuses cleanly; if one
    fails otherwise, or the commit does, roll it all back and run it again with a savepoint
    per event, so that event's writes alone are undone."""
    if optimistic:
        try:
            with transaction(factory) as session:
                return phase(session, False)
        except Exception as exc:  # noqa: BLE001 - replayed isolated; a lasting fault recurs there
            cause = exc.__cause__ if isinstance(exc, _Replay) else exc
            log.info("outbox.batch_replayed", error=type(cause).__name__)
    with transaction(factory) as session:
        return phase(session, True)
